"""Maintenance of the tables: compaction in one commit per table, no row lost or doubled,
conflicts retried, expiry and orphans; the embedded SQLite catalog and SeaweedFS's REST one."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from newsarchive.tables import maintain as maintain_module
from newsarchive.tables.catalog import CatalogSpec, resolve
from newsarchive.tables.commit import OPERATION, RUN_ID, CommitError, RetryPolicy
from newsarchive.tables.definitions import ARTICLES, QUARANTINE, RUNS, TABLES, ensure_all
from newsarchive.tables.maintain import Options, compact_table, maintain, remove_orphans, unreferenced
from tests.maint_fixture import (
    article_rows,
    build,
    commit_rows,
    fingerprint,
    isolated_pyiceberg,  # noqa: F401 (a fixture)
    run_id,
    table_rows,
)

pytestmark = pytest.mark.usefixtures("isolated_pyiceberg")
ROOT = Path(__file__).resolve().parent.parent
NOW_AND_KEEP_ALL = Options(snapshot_max_age=timedelta(days=3650), orphan_min_age=timedelta(days=3650))


@pytest.fixture
def spec(tmp_path: Path) -> CatalogSpec:
    s = resolve(str(tmp_path / "archive"))
    build(s)
    return s


def snapshot_ids(spec: CatalogSpec, name: str) -> list[int]:
    return [s.snapshot_id for s in spec.open().load_table((spec.namespace, name)).snapshots()]


def files_per_partition(spec: CatalogSpec, name: str) -> dict[tuple[Any, ...], int]:
    out: dict[tuple[Any, ...], int] = {}
    for task in spec.open().load_table((spec.namespace, name)).scan().plan_files():
        key = tuple(task.file.partition)
        out[key] = out.get(key, 0) + 1
    return out


def test_each_partition_becomes_one_sorted_file_in_one_commit_per_table(spec: CatalogSpec) -> None:
    before = {n: fingerprint(table_rows(spec, n)) for n in TABLES}
    snapshots = {n: snapshot_ids(spec, n) for n in TABLES}
    assert files_per_partition(spec, ARTICLES) == {("finews", 672): 6, ("finews", 673): 6, ("thepaper", 672): 6}

    reports = {r.table: r for r in maintain(spec.open(), spec.namespace, options=NOW_AND_KEEP_ALL)}

    for name in TABLES:
        assert fingerprint(table_rows(spec, name)) == before[name], name  # not a row lost or doubled
        assert set(files_per_partition(spec, name).values()) == {1}, name
        table = spec.open().load_table((spec.namespace, name))
        assert snapshot_ids(spec, name) == [*snapshots[name], table.current_snapshot().snapshot_id]
        summary = table.current_snapshot().summary
        assert summary[OPERATION] == "compact" and summary[RUN_ID] == reports[name].compaction_id
        assert summary[RUN_ID].startswith("compact-")
        assert summary["added-records"] == summary["deleted-records"] == str(reports[name].rows)
    articles = reports[ARTICLES]
    assert (articles.partitions, articles.files_before, articles.files_after, articles.rows) == (3, 18, 3, 90)
    assert articles.bytes_after < articles.bytes_before and articles.gzip_jsonl_bytes > 0
    print("articles bytes after / gzip JSONL:", articles.to_json()["bytes_vs_gzip_jsonl"])

    table = spec.open().load_table((spec.namespace, ARTICLES))
    for task in table.scan().plan_files():
        with table.io.new_input(task.file.file_path).open() as f:
            written = pq.read_table(f)
        assert written.column("source_id").to_pylist() == sorted(written.column("source_id").to_pylist())
        assert (
            pq.read_metadata(table.io.new_input(task.file.file_path).open()).row_group(0).column(0).compression
            == "ZSTD"
        )

    again = maintain(spec.open(), spec.namespace, options=NOW_AND_KEEP_ALL)
    assert all("no partition has two or more files" in r.nothing_to_do for r in again)
    assert snapshot_ids(spec, ARTICLES)[-1] == table.current_snapshot().snapshot_id


def test_source_and_table_narrow_it(spec: CatalogSpec) -> None:
    [report] = maintain(spec.open(), spec.namespace, tables=[ARTICLES], sources=["thepaper"], options=NOW_AND_KEEP_ALL)
    assert (report.partitions, report.files_before) == (1, 6)
    assert files_per_partition(spec, ARTICLES) == {("finews", 672): 6, ("finews", 673): 6, ("thepaper", 672): 1}
    assert len(snapshot_ids(spec, QUARANTINE)) == 6


def test_a_compaction_that_fails_midway_changes_nothing_and_leaves_only_orphans(
    spec: CatalogSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = fingerprint(table_rows(spec, ARTICLES))
    head = snapshot_ids(spec, ARTICLES)[-1]
    real = maintain_module._rewrite
    calls = []

    def dies_on_the_third_partition(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(*args, **kw)

    monkeypatch.setattr(maintain_module, "_rewrite", dies_on_the_third_partition)
    load = lambda: spec.open().load_table((spec.namespace, ARTICLES))  # noqa: E731
    with pytest.raises(OSError, match="disk full"):
        compact_table(load, ARTICLES)
    assert snapshot_ids(spec, ARTICLES)[-1] == head
    assert fingerprint(table_rows(spec, ARTICLES)) == before
    orphans = unreferenced(load())
    assert len(orphans) == 2 and all("/compact-" in f.uri for f in orphans)
    monkeypatch.setattr(maintain_module, "_rewrite", real)

    # Young orphans may be a running crawl's files: kept. Old enough ones go.
    assert remove_orphans(load(), timedelta(hours=1)) == []
    assert sorted(remove_orphans(load(), timedelta(0))) == sorted(f.uri for f in orphans)
    assert unreferenced(load()) == []
    assert compact_table(load, ARTICLES).rows == 90
    assert fingerprint(table_rows(spec, ARTICLES)) == before


def test_a_crawl_committing_meanwhile_is_retried_and_its_rows_kept(
    spec: CatalogSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = maintain_module._rewrite
    crawled = []

    def crawl_commits_during_the_first_rewrite(*args: Any, **kw: Any) -> Any:
        if not crawled:
            crawled.append(commit_rows(spec, ARTICLES, [article_rows(99, range(500, 503))], run_id(99)))
        return real(*args, **kw)

    monkeypatch.setattr(maintain_module, "_rewrite", crawl_commits_during_the_first_rewrite)
    before = fingerprint(table_rows(spec, ARTICLES))
    load = lambda: spec.open().load_table((spec.namespace, ARTICLES))  # noqa: E731
    report = compact_table(load, ARTICLES, options=Options(policy=RetryPolicy(base_delay=0.01)))
    after = fingerprint(table_rows(spec, ARTICLES))
    assert report.conflicts == 1 and report.rows == 93
    assert after == before + fingerprint(article_rows(99, range(500, 503)))
    # The files written for the partition that changed were never committed, and are gone.
    assert [f for f in unreferenced(load()) if "/compact-" in f.uri and report.compaction_id in f.uri] == []


def test_conflicts_outlasting_every_attempt_fail_cleanly(spec: CatalogSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    real = maintain_module._rewrite
    n = iter(range(100, 200))

    def always_a_crawl_first(*args: Any, **kw: Any) -> Any:
        r = next(n)
        commit_rows(spec, ARTICLES, [article_rows(r, range(r * 10, r * 10 + 1))], run_id(r))
        return real(*args, **kw)

    monkeypatch.setattr(maintain_module, "_rewrite", always_a_crawl_first)
    head_rows = len(table_rows(spec, ARTICLES))
    load = lambda: spec.open().load_table((spec.namespace, ARTICLES))  # noqa: E731
    with pytest.raises(CommitError, match="not committed after 2 attempts"):
        compact_table(load, ARTICLES, options=Options(policy=RetryPolicy(attempts=2, base_delay=0.01)))
    assert all(s.summary.get(OPERATION) != "compact" for s in load().snapshots())
    assert len(table_rows(spec, ARTICLES)) > head_rows  # the crawls' rows are all there
    assert [f for f in unreferenced(load()) if "/compact-" in f.uri] == []


def test_old_snapshots_expire_and_the_files_only_they_held_are_removed(spec: CatalogSpec) -> None:
    maintain(spec.open(), spec.namespace, options=NOW_AND_KEEP_ALL)
    table = spec.open().load_table((spec.namespace, ARTICLES))
    small_files = [f for f in unreferenced(table)]
    assert small_files == []  # older snapshots still reference the small files
    later = datetime.now(UTC) + timedelta(days=30)
    options = Options(snapshot_max_age=timedelta(days=1), orphan_min_age=timedelta(days=1))
    reports = {r.table: r for r in maintain(spec.open(), spec.namespace, options=options, now=later)}
    assert reports[ARTICLES].snapshots_expired == 6  # every crawl snapshot; the compaction's stays
    assert len(reports[ARTICLES].orphans_removed) == 18 + 6 + 6  # data files, manifests, manifest lists
    table = spec.open().load_table((spec.namespace, ARTICLES))
    assert len(table.snapshots()) == 1 and unreferenced(table) == []
    assert len(table_rows(spec, ARTICLES)) == 90
    assert len(table_rows(spec, RUNS)) == 6


def test_the_command_prints_one_line_per_table(tmp_path: Path) -> None:
    spec = resolve(str(tmp_path / "archive"))
    build(spec, runs=3)
    args = [sys.executable, "-m", "newsarchive", "compact", "--archive", str(tmp_path / "archive")]
    first = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert [(x["table"], x["files_before"], x["files_after"]) for x in lines] == [
        (ARTICLES, 9, 3),
        (QUARANTINE, 3, 1),
        (RUNS, 3, 1),
    ]
    again = subprocess.run([*args, "--table", "runs"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    [line] = [json.loads(x) for x in again.stdout.splitlines()]
    assert again.returncode == 0 and line["nothing_to_do"].startswith("no partition has two or more files")


@pytest.mark.slow
def test_compaction_on_the_rest_catalog(tmp_path: Path) -> None:
    from newsarchive.samples.seaweed import SeaweedFS

    (tmp_path / "s3").mkdir()
    with SeaweedFS(tmp_path / "s3", table_bucket="warehouse") as s3:
        spec = resolve(str(tmp_path / "archive"), overrides=s3.catalog_properties)
        build(spec, runs=3)
        before = {n: fingerprint(table_rows(spec, n)) for n in TABLES}
        reports = maintain(spec.open(), spec.namespace, options=NOW_AND_KEEP_ALL)
        assert [(r.table, r.files_before, r.files_after) for r in reports] == [
            (ARTICLES, 9, 3),
            (QUARANTINE, 3, 1),
            (RUNS, 3, 1),
        ]
        for name in TABLES:
            assert fingerprint(table_rows(spec, name)) == before[name]
        later = datetime.now(UTC) + timedelta(days=30)
        options = Options(snapshot_max_age=timedelta(days=1), orphan_min_age=timedelta(days=1))
        [articles] = maintain(spec.open(), spec.namespace, tables=[ARTICLES], options=options, now=later)
        assert articles.snapshots_expired == 3 and len(articles.orphans_removed) == 9 + 3 + 3
        assert fingerprint(table_rows(spec, ARTICLES)) == before[ARTICLES]


def test_a_catalog_without_tables_has_nothing_to_do(tmp_path: Path) -> None:
    spec = resolve(str(tmp_path / "archive"))
    reports = maintain(spec.open(), spec.namespace)
    assert [r.nothing_to_do for r in reports] == [f"no table newsarchive.{n} (nothing crawled yet)" for n in TABLES]


def test_a_tagged_snapshot_is_never_expired(spec: CatalogSpec) -> None:
    table = spec.open().load_table((spec.namespace, ARTICLES))
    first = table.snapshots()[0].snapshot_id
    table.manage_snapshots().create_tag(first, "before-migration").commit()
    later = datetime.now(UTC) + timedelta(days=30)
    table = spec.open().load_table((spec.namespace, ARTICLES))
    assert maintain_module.expire_snapshots(table, timedelta(days=1), later) == 4  # not the tag, not the head
    assert table.snapshots()[0].snapshot_id == first
    assert len(table.scan(snapshot_id=first).to_arrow()) == 15


def test_e2e_crawls_then_compact_then_verify(tmp_path: Path) -> None:
    """Real crawls (subprocesses, the sample feeds on 127.0.0.1) commit to the embedded
    catalog; ``compact`` rewrites their files and ``verify --deep`` finds everything."""
    from newsarchive.samples.feedserver import FeedServer, finews_settings, install_finews
    from tests.helpers import FAST, clean_env, install_finews_faults, run_crawl

    archive = tmp_path / "archive"
    for faults in (True, False):  # the second crawl fetches what the first could not
        with FeedServer() as server:
            install_finews(server)
            if faults:
                install_finews_faults(server)
            result = run_crawl("finews", {**FAST, **finews_settings(server), "ARCHIVE_URI": str(archive)})
            assert result.returncode in (0, 1), result.stderr[-2000:]
    spec = resolve(str(archive))
    before = {n: fingerprint(table_rows(spec, n)) for n in TABLES}
    assert sum(before[ARTICLES].values()) > 40 and sum(before[RUNS].values()) == 2

    env = clean_env()
    compact = subprocess.run(
        [sys.executable, "-m", "newsarchive", "compact", "--archive", str(archive)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env=env,
    )
    assert compact.returncode == 0, compact.stderr[-2000:]
    lines = {x["table"]: x for x in map(json.loads, compact.stdout.splitlines())}
    assert lines[ARTICLES]["files_after"] < lines[ARTICLES]["files_before"]
    for name in TABLES:
        assert fingerprint(table_rows(spec, name)) == before[name], name
    verify = subprocess.run(
        [sys.executable, "-m", "newsarchive", "verify", "--archive", str(archive), "--deep"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env=env,
    )
    summary = json.loads(verify.stdout.splitlines()[-1])
    assert verify.returncode == 0 and summary["warc_files_checked"] >= 2, verify.stdout[-2000:]


def test_a_partition_beyond_the_target_size_becomes_several_files(spec: CatalogSpec) -> None:
    table = spec.open().load_table((spec.namespace, ARTICLES))
    largest = max(t.file.file_size_in_bytes for t in table.scan().plan_files())
    before = fingerprint(table_rows(spec, ARTICLES))
    options = Options(target_file_bytes=int(largest * 2.5))  # two small files fit, three do not
    [report] = maintain(spec.open(), spec.namespace, tables=[ARTICLES], options=options)
    assert (report.partitions, report.files_before, report.files_after) == (3, 18, 9)
    assert files_per_partition(spec, ARTICLES) == {("finews", 672): 3, ("finews", 673): 3, ("thepaper", 672): 3}
    assert fingerprint(table_rows(spec, ARTICLES)) == before


def _kill_compact_midway(spec: CatalogSpec, args: list[str], env: dict[str, str] | None, written: Any) -> None:
    """``kill -9`` of ``compact`` once it has written a file (``written()``), then the checks:
    readers see the table as it was, the next ``compact`` completes, the dead one's files are
    orphans that go."""
    import signal
    import time

    ensure_all(spec.open(), spec.namespace)
    for r in range(3):  # 24 partitions: the kill lands while files are being written
        parts = [article_rows(r, range(r * 40, r * 40 + 40), month=m) for m in range(1, 13)]
        parts += [article_rows(r, range(r * 40, r * 40 + 40), source="thepaper", month=m) for m in range(1, 13)]
        commit_rows(spec, ARTICLES, parts, run_id(r))
    before = fingerprint(table_rows(spec, ARTICLES))
    head = snapshot_ids(spec, ARTICLES)
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while not written() and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert snapshot_ids(spec, ARTICLES) == head, "killed after its commit: make the test's tables larger"
    assert fingerprint(table_rows(spec, ARTICLES)) == before
    left = [f for f in unreferenced(spec.open().load_table((spec.namespace, ARTICLES))) if "/compact-" in f.uri]
    assert left

    rerun = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert json.loads(rerun.stdout.splitlines()[-1])["files_after"] == 24
    assert fingerprint(table_rows(spec, ARTICLES)) == before
    removed = remove_orphans(spec.open().load_table((spec.namespace, ARTICLES)), timedelta(0))
    assert {f.uri for f in left} <= set(removed)


def test_kill_9_of_compact_leaves_the_table_as_it_was(tmp_path: Path) -> None:
    spec = resolve(str(tmp_path / "archive"))
    ensure_all(spec.open(), spec.namespace)
    data = Path(spec.open().load_table((spec.namespace, ARTICLES)).location().removeprefix("file://")) / "data"
    args = [sys.executable, "-m", "newsarchive", "compact", "--archive", str(tmp_path / "archive"), "--table", ARTICLES]
    _kill_compact_midway(spec, args, None, lambda: bool(list(data.glob("**/compact-*.parquet"))))


@pytest.mark.slow
def test_kill_9_of_compact_on_the_rest_catalog(tmp_path: Path) -> None:
    """The same against SeaweedFS's REST catalog: the files are objects in its table bucket."""
    import os

    import pyarrow.fs as pafs

    from newsarchive.samples.seaweed import SeaweedFS
    from tests.helpers import catalog_env

    (tmp_path / "s3").mkdir()
    with SeaweedFS(tmp_path / "s3", table_bucket="warehouse") as s3:
        props = s3.catalog_properties
        spec = resolve(str(tmp_path / "archive"), overrides=props)
        ensure_all(spec.open(), spec.namespace)
        location = spec.open().load_table((spec.namespace, ARTICLES)).location().removeprefix("s3://")
        bucket = pafs.S3FileSystem(
            endpoint_override=props["s3.endpoint"],
            access_key=props["s3.access-key-id"],
            secret_key=props["s3.secret-access-key"],
            region=props["s3.region"],
            scheme="http",
        )

        def written() -> bool:
            found = bucket.get_file_info(pafs.FileSelector(f"{location}/data", recursive=True, allow_not_found=True))
            return any("/compact-" in f.path for f in found)

        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PYICEBERG_CATALOG__", "NEWSARCHIVE_"))
        } | catalog_env(props)
        args = [
            sys.executable,
            "-m",
            "newsarchive",
            "compact",
            "--archive",
            str(tmp_path / "archive"),
            "--table",
            ARTICLES,
        ]
        _kill_compact_midway(spec, args, env, written)
