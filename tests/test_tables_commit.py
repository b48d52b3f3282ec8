"""Committing a run's files: once per run, each article version once, under concurrent writers.

Real catalogs (embedded SQLite; SeaweedFS's REST catalog for the slow test), real processes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsarchive.schema import ARTICLE_SCHEMA
from newsarchive.tables.catalog import CatalogSpec, resolve
from newsarchive.tables.commit import RUN_ID, RetryPolicy, commit_files, committed_by
from newsarchive.tables.definitions import ARTICLES, ensure_all
from newsarchive.tables.lookup import VERSION_COLUMNS, archived, article_duplicates


@pytest.fixture(autouse=True)
def no_pyiceberg_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("PYICEBERG_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PYICEBERG_HOME", str(tmp_path))


#: Runs per writer process in the concurrency tests.
ROUNDS = 3


def sid(n: int) -> str:
    return f"NW20220112{n:010d}"


def rows(ids: list[int], version: str = "0.1.0", sha: str = "same") -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "source": "finews",
                "source_id": sid(n),
                "title": f"标题 {n}",
                "published_at": datetime(2022, 1, 12, tzinfo=UTC),
                "content_sha256": f"{sha}-{n}",
                "pipeline_version": version,
            }
            for n in ids
        ],
        schema=ARTICLE_SCHEMA,
    )


def write(table: Any, data: pa.Table, name: str) -> str:
    path = f"{table.location()}/data/{name}.parquet"
    with table.io.new_output(path).create() as out:
        pq.write_table(data, out)
    return path


def commit(spec: CatalogSpec, data: pa.Table, run_id: str, **kw: Any) -> Any:
    catalog = spec.open()
    table = catalog.load_table((spec.namespace, ARTICLES))
    path = write(table, data, run_id)
    return commit_files(
        lambda: catalog.load_table((spec.namespace, ARTICLES)),
        [path],
        run_id=run_id,
        duplicates=article_duplicates,
        key_columns=VERSION_COLUMNS,
        **kw,
    )


def all_ids(spec: CatalogSpec) -> Counter[str]:
    table = spec.open().load_table((spec.namespace, ARTICLES))
    return Counter(table.scan(selected_fields=("source_id",)).to_arrow().column("source_id").to_pylist())


@pytest.fixture
def spec(tmp_path: Path) -> CatalogSpec:
    s = resolve(str(tmp_path / "archive"))
    ensure_all(s.open(), s.namespace)
    return s


def test_a_run_commits_once_and_a_retried_commit_is_a_no_op(spec: CatalogSpec) -> None:
    first = commit(spec, rows([1, 2, 3]), "run-a", dag_run_id="manual__1")
    assert (first.rows, first.duplicates, first.already) == (3, 0, False)
    table = spec.open().load_table((spec.namespace, ARTICLES))
    summary = table.current_snapshot().summary
    assert summary[RUN_ID] == "run-a" and summary["newsarchive.dag-run-id"] == "manual__1"
    catalog = spec.open()
    again = commit_files(lambda: catalog.load_table((spec.namespace, ARTICLES)), first.files, run_id="run-a")
    assert again.already and again.snapshot_id == first.snapshot_id
    assert len(spec.open().load_table((spec.namespace, ARTICLES)).snapshots()) == 1
    assert all_ids(spec) == Counter({sid(n): 1 for n in (1, 2, 3)})


def test_rows_another_run_committed_are_left_out(spec: CatalogSpec) -> None:
    commit(spec, rows(list(range(10))), "run-a")
    second = commit(spec, rows(list(range(5, 15))), "run-b")
    assert (second.rows, second.duplicates) == (5, 5)
    assert all_ids(spec) == Counter({sid(n): 1 for n in range(15)})
    table = spec.open().load_table((spec.namespace, ARTICLES))
    assert archived(table, "finews", [sid(3), sid(14), sid(99)]) == {sid(3), sid(14)}
    assert archived(table, "thepaper", [sid(3)]) == set()
    # The file with the duplicates was rewritten; the original, never committed, is gone.
    assert [Path(f).name for f in second.files] == ["run-b-r0.parquet"]
    assert not Path(second.files[0].removeprefix("file://").replace("-r0", "")).exists()


def test_a_newer_pipeline_version_is_not_a_duplicate_an_older_one_is(spec: CatalogSpec) -> None:
    commit(spec, rows([1], version="0.2.0"), "run-a")
    assert commit(spec, rows([1], version="0.10.0"), "run-newer").rows == 1  # 0.10 > 0.2
    assert commit(spec, rows([1], version="0.9.0"), "run-older").duplicates == 1
    assert commit(spec, rows([1], version="0.10.0", sha="changed"), "run-changed").rows == 1
    assert all_ids(spec)[sid(1)] == 3


def test_a_conflict_reruns_the_duplicate_check_before_retrying(spec: CatalogSpec) -> None:
    """Another writer commits between our load and our commit: the catalog refuses ours, and
    the retry must see the other writer's rows (pyiceberg's own retry would not)."""
    catalog = spec.open()
    stale = catalog.load_table((spec.namespace, ARTICLES))
    commit(spec, rows([1, 2, 3]), "run-other")
    path = write(stale, rows([2, 3, 4]), "run-ours")
    loads = iter([stale])

    def load() -> Any:
        return next(loads, None) or catalog.load_table((spec.namespace, ARTICLES))

    outcome = commit_files(load, [path], run_id="run-ours", duplicates=article_duplicates, key_columns=VERSION_COLUMNS)
    assert outcome.conflicts == 1 and outcome.duplicates == 2 and outcome.rows == 1
    assert all_ids(spec) == Counter({sid(n): 1 for n in (1, 2, 3, 4)})
    assert committed_by(catalog.load_table((spec.namespace, ARTICLES)), "run-ours") == outcome.snapshot_id


def _writer(args: tuple[dict[str, Any], str, int, Any]) -> dict[str, int]:
    """One crawl process: ROUNDS runs, each committing 20 ids, half of them shared with others."""
    props, namespace, worker, barrier = args
    spec = CatalogSpec("newsarchive", namespace, props)
    conflicts = rows_ = 0
    for run in range(ROUNDS):
        ids = list(range(run * 10, run * 10 + 20))
        barrier.wait(timeout=60)
        out = commit(spec, rows(ids), f"run-{worker}-{run}", policy=RetryPolicy(attempts=30, base_delay=0.05))
        conflicts += out.conflicts
        rows_ += out.rows
    return {"conflicts": conflicts, "rows": rows_}


def concurrent_writers(spec: CatalogSpec, writers: int = 3) -> list[dict[str, int]]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(writers)
        with ctx.Pool(writers) as pool:
            args = [(dict(spec.properties), spec.namespace, w, barrier) for w in range(writers)]
            return pool.map(_writer, args)


def test_concurrent_writers_archive_each_article_once(spec: CatalogSpec) -> None:
    results = concurrent_writers(spec)
    ids = all_ids(spec)
    assert set(ids) == {sid(n) for n in range(ROUNDS * 10 + 10)}
    assert max(ids.values()) == 1
    assert sum(r["rows"] for r in results) == ROUNDS * 10 + 10
    print("commit conflicts retried:", sum(r["conflicts"] for r in results))


@pytest.mark.slow
def test_concurrent_writers_on_the_rest_catalog(tmp_path: Path) -> None:
    from newsarchive.samples.seaweed import SeaweedFS

    (tmp_path / "s3").mkdir()
    with SeaweedFS(tmp_path / "s3", table_bucket="warehouse") as s3:
        spec = resolve(str(tmp_path / "archive"), overrides=s3.catalog_properties)
        ensure_all(spec.open(), spec.namespace)
        results = concurrent_writers(spec)
        ids = all_ids(spec)
        assert set(ids) == {sid(n) for n in range(ROUNDS * 10 + 10)} and max(ids.values()) == 1
        assert sum(r["rows"] for r in results) == ROUNDS * 10 + 10
        print("commit conflicts retried (REST):", sum(r["conflicts"] for r in results))


def test_a_locked_sql_catalog_is_retried_like_a_conflict(spec: CatalogSpec) -> None:
    """Another writer holds the SQLite catalog longer than its busy timeout: the commit fails
    with "database is locked", which is a conflict like any other, retried, not a lost run."""
    import sqlite3
    import threading
    import time

    from newsarchive.tables.commit import RetryPolicy

    db = str(spec.properties["uri"]).removeprefix("sqlite:///")
    held = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # readers go on, writers wait
        held.set()
        time.sleep(6.5)  # past sqlite3's 5 s busy timeout
        other.execute("ROLLBACK")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait()
    try:
        outcome = commit(spec, rows([1, 2]), "run-locked", policy=RetryPolicy(attempts=4, base_delay=0.5))
    finally:
        thread.join()
    assert outcome.conflicts >= 1 and outcome.rows == 2
    assert all_ids(spec) == Counter({sid(1): 1, sid(2): 1})
