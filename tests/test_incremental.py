"""Incremental reads: what arrived since a snapshot is exactly the later runs' rows, never the
rows a compaction re-added; an expired snapshot is an error, not a partial answer. Real crawls
(subprocesses, the sample feeds on 127.0.0.1), the real ``compact`` and ``changes`` commands,
on the embedded SQLite catalog and on SeaweedFS's REST catalog."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from newsarchive.samples.feedserver import MARKET, MEDIA, ROLLING, FeedServer, finews_settings, install_finews
from newsarchive.tables import incremental
from newsarchive.tables.catalog import CatalogSpec, resolve
from newsarchive.tables.definitions import ARTICLES
from newsarchive.tables.maintain import Options, maintain
from tests.helpers import FAST, ROOT, clean_env
from tests.maint_fixture import (
    article_rows,
    build,
    commit_rows,
    isolated_pyiceberg,  # noqa: F401 (a fixture)
    run_id,
)

KEEP_ALL = Options(snapshot_max_age=timedelta(days=3650), orphan_min_age=timedelta(days=3650))


# -- the module, on tables built by the project's own commit path -------------------------


@pytest.fixture
def spec(tmp_path: Path, isolated_pyiceberg: None) -> CatalogSpec:  # noqa: F811 (the fixture)
    s = resolve(str(tmp_path / "archive"))
    build(s, runs=3)  # runs 0..2, 15 articles each
    return s


def articles(spec: CatalogSpec) -> Any:
    return spec.open().load_table((spec.namespace, ARTICLES))


def test_rows_since_a_snapshot_skip_the_compaction_and_keep_the_later_runs(spec: CatalogSpec) -> None:
    mark = articles(spec).current_snapshot().snapshot_id
    [report] = maintain(spec.open(), spec.namespace, tables=[ARTICLES], options=KEEP_ALL)
    assert report.rows == 45 and report.files_after < report.files_before
    commit_rows(
        spec, ARTICLES, [article_rows(7, range(100, 104)), article_rows(7, range(200, 203), month=2)], run_id(7)
    )
    commit_rows(spec, ARTICLES, [article_rows(8, range(300, 302))], run_id(8))

    changes = incremental.since_snapshot(articles(spec), mark)
    rows = changes.read()
    assert changes.run_ids == [run_id(7), run_id(8)]
    assert changes.skipped == (report.snapshot_id,)
    assert rows.num_rows == changes.rows == 9
    assert sorted(rows.column("run_id").to_pylist()) == [run_id(7)] * 7 + [run_id(8)] * 2
    assert rows.column_names == [f.name for f in articles(spec).schema().fields]
    # pyiceberg's own append scan (every append snapshot, run or not) agrees here.
    theirs = articles(spec).incremental_append_scan(from_snapshot_id_exclusive=mark).to_arrow()
    assert sorted(theirs.column("source_id").to_pylist()) == sorted(rows.column("source_id").to_pylist())
    assert sum(b.num_rows for b in changes.batches(["source_id"])) == 9
    assert changes.read(["source_id", "run_id"]).column_names == ["source_id", "run_id"]
    # Reading on from where this read ended hands out nothing again.
    again = incremental.since_snapshot(articles(spec), changes.until)
    assert again.read().num_rows == 0 and again.snapshots == ()


def test_since_the_start_run_and_time(spec: CatalogSpec) -> None:
    table = articles(spec)
    assert incremental.since_snapshot(table, None).read().num_rows == 45
    assert set(incremental.since_run(table, run_id(0)).read().column("run_id").to_pylist()) == {run_id(1), run_id(2)}
    after_run_1 = next(s for s in table.snapshots() if s.summary and s.summary.get("newsarchive.run-id") == run_id(1))
    when = datetime.fromtimestamp(after_run_1.timestamp_ms / 1000, UTC)
    assert incremental.since_time(table, when).run_ids == [run_id(2)]
    assert incremental.since_time(table, when - timedelta(days=1)).rows == 45
    assert incremental.since_time(table, when + timedelta(days=1)).rows == 0
    with pytest.raises(incremental.SnapshotExpiredError, match="no snapshot of run"):
        incremental.since_run(table, "20990101T000000Z-deadbeef")
    with pytest.raises(ValueError, match="aware"):
        incremental.since_time(table, datetime(2026, 1, 1))  # naive: the point


def test_an_expired_snapshot_is_an_error_not_a_partial_answer(spec: CatalogSpec) -> None:
    first = articles(spec).snapshots()[0].snapshot_id
    maintain(spec.open(), spec.namespace, tables=[ARTICLES], options=KEEP_ALL)
    commit_rows(spec, ARTICLES, [article_rows(7, range(100, 104))], run_id(7))
    later = datetime.now(UTC) + timedelta(days=30)
    expire = Options(snapshot_max_age=timedelta(days=1), orphan_min_age=timedelta(days=3650))
    [report] = maintain(spec.open(), spec.namespace, tables=[ARTICLES], options=expire, now=later)
    assert report.snapshots_expired >= 1
    table = articles(spec)
    with pytest.raises(incremental.SnapshotExpiredError, match=f"snapshot {first} is not in the table's history"):
        incremental.since_snapshot(table, first)
    with pytest.raises(incremental.SnapshotExpiredError, match="expired"):
        incremental.since_snapshot(table, None)
    with pytest.raises(incremental.SnapshotExpiredError, match="expired"):
        incremental.since_time(table, datetime(2000, 1, 1, tzinfo=UTC))


def test_a_snapshot_off_the_current_line_is_refused(spec: CatalogSpec) -> None:
    table = articles(spec)
    first, second = (s.snapshot_id for s in table.snapshots()[:2])
    table.manage_snapshots().rollback_to_snapshot(first).commit()
    with pytest.raises(incremental.SnapshotExpiredError, match="not an ancestor"):
        incremental.since_snapshot(articles(spec), second)


def test_a_file_without_field_ids_is_read_by_name(spec: CatalogSpec) -> None:
    """Files registered by ``add_files`` carry no field ids: the table's name mapping reads them."""
    mark = articles(spec).current_snapshot().snapshot_id
    commit_rows(spec, ARTICLES, [article_rows(9, range(500, 503))], run_id(9))
    [added] = incremental.since_snapshot(articles(spec), mark).file_paths
    with articles(spec).io.new_input(added).open() as f:
        assert pq.read_schema(f).field("source_id").metadata in (None, {})  # no PARQUET:field_id
    rows = incremental.since_snapshot(articles(spec), mark).read(["source_id"])
    assert sorted(rows.column("source_id").to_pylist()) == [f"NW20260101{n:011d}" for n in (500, 501, 502)]


# -- crawl, compact, crawl: the documented read, through the commands ----------------------


@pytest.fixture(scope="module")
def rest_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from newsarchive.samples.seaweed import SeaweedFS

    with SeaweedFS(tmp_path_factory.mktemp("seaweed-incr"), table_bucket="warehouse") as s3:
        yield s3.catalog_properties


def catalog_env(properties: dict[str, str], name: str = "newsarchive") -> dict[str, str]:
    prefix = f"PYICEBERG_CATALOG__{name.upper()}__"
    return {prefix + k.replace(".", "__").replace("-", "_").upper(): v for k, v in properties.items()}


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsarchive", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )


def crawl(env: dict[str, str], server: FeedServer, archive: Path, namespace: str, lists: list[str]) -> dict[str, Any]:
    settings = {
        **FAST,
        **finews_settings(server),
        "FINEWS_LIST_URLS": ",".join(server.url(p) for p in lists),
        "ARCHIVE_URI": archive,
        "ICEBERG_NAMESPACE": namespace,
    }
    args = ["crawl", "finews"] + [a for k, v in settings.items() for a in ("-s", f"{k}={v}")]
    proc = cli(env, *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]))


@pytest.mark.parametrize("kind", ["embedded", pytest.param("rest", marks=pytest.mark.slow)])
def test_crawl_compact_crawl_then_changes_since_the_first_crawl(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from pyiceberg.catalog import load_catalog

    from newsarchive.tables.catalog import embedded_properties

    archive = tmp_path / "archive"
    namespace = f"incr{abs(hash(request.node.name)) % 10**8}"
    if kind == "embedded":
        props = embedded_properties(str(archive))
        env = clean_env()
    else:
        props = request.getfixturevalue("rest_catalog")
        env = clean_env(**catalog_env(props))
    where = ["--archive", str(archive), "--namespace", namespace]

    def table() -> Any:
        return load_catalog("newsarchive", **props).load_table((namespace, ARTICLES))

    market = [MARKET.format(m) for m in ("37", "38", "39")]
    with FeedServer() as server:
        install_finews(server)
        first = crawl(env, server, archive, namespace, market[:1])  # January and February
        second = crawl(env, server, archive, namespace, [ROLLING])  # December, and January again: two files
        mark = table().current_snapshot().snapshot_id
        compact = cli(env, "compact", *where, "--table", ARTICLES)
        assert compact.returncode == 0, compact.stderr[-3000:]
        [line] = [json.loads(x) for x in compact.stdout.splitlines()]
        assert line["snapshot_id"] is not None and line["files_after"] < line["files_before"], line
        third = crawl(env, server, archive, namespace, [ROLLING, MEDIA, *market])  # new: April, May

    everything = table().scan().to_arrow()
    by_run: dict[str, set[str]] = {}
    for row in everything.select(["run_id", "source_id"]).to_pylist():
        by_run.setdefault(row["run_id"], set()).add(row["source_id"])
    runs = [first["run_id"], second["run_id"], third["run_id"]]
    assert set(by_run) == set(runs) and all(by_run[r] for r in runs)  # each crawl archived something new
    assert len(everything) == sum(len(ids) for ids in by_run.values())

    out = tmp_path / "changes.parquet"
    proc = cli(env, "changes", "--since", str(mark), *where, "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.splitlines()[-1])
    rows = pq.read_table(out)
    ids = rows.column("source_id").to_pylist()
    assert sorted(ids) == sorted(by_run[third["run_id"]]) and len(ids) == len(set(ids))
    assert set(rows.column("run_id").to_pylist()) == {third["run_id"]}
    assert summary["run_ids"] == [third["run_id"]] and summary["rows"] == len(ids)
    assert summary["since"] == mark and summary["until"] == table().current_snapshot().snapshot_id

    # Since the first crawl: the second and third crawls' rows, not the first's that the
    # compaction re-added in between; jsonl on standard output, the summary on standard error.
    proc = cli(env, "changes", "--since-run", first["run_id"], *where, "--columns", "source_id,run_id")
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = [json.loads(x) for x in proc.stdout.splitlines()]
    assert sorted(r["source_id"] for r in got) == sorted(by_run[second["run_id"]] | by_run[third["run_id"]])
    assert len(got) == len(by_run[second["run_id"]]) + len(by_run[third["run_id"]])
    assert line["snapshot_id"] not in json.loads(proc.stderr.splitlines()[-1])["snapshots"]
    # From `until` on, nothing new.
    proc = cli(env, "changes", "--since", str(summary["until"]), *where)
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr[-3000:]
    assert json.loads(proc.stderr.splitlines()[-1])["rows"] == 0


def test_the_command_refuses_a_snapshot_it_does_not_have(tmp_path: Path, isolated_pyiceberg: None) -> None:  # noqa: F811
    spec = resolve(str(tmp_path / "archive"))
    build(spec, runs=1)
    proc = cli(clean_env(), "changes", "--since", "12345", "--archive", str(tmp_path / "archive"))
    assert proc.returncode == 1
    assert json.loads(proc.stderr.splitlines()[-1])["status"] == "snapshot_expired"
    proc = cli(clean_env(), "changes", "--all", "--archive", str(tmp_path / "archive"), "--format", "parquet")
    assert proc.returncode == 2 and "needs --out" in proc.stderr


# -- the downstream DAG example ------------------------------------------------------------

EXAMPLE = ROOT / "deploy" / "examples" / "news_downstream.py"


def test_the_downstream_example_dag_hands_out_each_run_once(
    airflow_db: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    isolated_pyiceberg: None,  # noqa: F811
) -> None:
    """The example under deploy/examples/ parses, is scheduled on the articles Asset, and run
    for real (dag.test(), an embedded catalog in the staging directory) it hands out the whole
    table first, then only what a later run committed, storing where it stopped."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.variable import Variable

    staging = tmp_path / "staging"
    monkeypatch.setenv("NEWSARCHIVE_STAGING_DIR", str(staging))
    monkeypatch.setenv("NEWSARCHIVE_ICEBERG_CONN_ID", "no_such_connection")
    spec = resolve(str(staging))
    build(spec, runs=2)  # 30 articles
    Variable.delete("newsarchive_downstream_snapshot")

    def run() -> dict[str, Any]:
        bag = DagBag(dag_folder=str(EXAMPLE))
        assert bag.import_errors == {}
        dag = bag.get_dag("news_downstream")
        # dag.test() runs the serialized DAG, and this file is in no bundle: record it in the DAGs folder's.
        DagBundlesManager().sync_bundles_to_db()
        sync_bag_to_db(bag, "dags-folder", None)
        assert "Asset" in type(dag.timetable).__name__
        assert "iceberg://newsarchive/newsarchive/articles" in repr(dag.timetable)
        dag_run = dag.test()
        assert dag_run.state == "success"
        [ti] = dag_run.get_task_instances()
        return dict(ti.xcom_pull(task_ids="new_articles", dag_id="news_downstream", run_id=dag_run.run_id))

    first = run()
    assert (first["rows"], first["since"]) == (30, None)
    assert first["until"] == articles(spec).current_snapshot().snapshot_id
    assert Variable.get("newsarchive_downstream_snapshot") == str(first["until"])
    maintain(spec.open(), spec.namespace, tables=[ARTICLES], options=KEEP_ALL)
    commit_rows(spec, ARTICLES, [article_rows(7, range(100, 104))], run_id(7))
    second = run()
    assert (second["rows"], second["since"], second["by_source"]) == (4, first["until"], {"finews": 4})
    assert run()["rows"] == 0  # nothing new
