"""``newsarchive migrate``: an archive of the old layout into the tables, exactly once.

tests/data/legacy_archive was written by the old code (commit a11fabf): a finews crawl with
four texts failing, a second crawl fetching two of them, a ``compact`` (whose replaced part
of the second run was put back, as a compaction killed before its deletes leaves it), and
one part of a run that died before its manifest (a new version of one article). See its
README for how it was built.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from newsarchive.archive.legacy import LegacyArchive
from newsarchive.cli import migrate as migrate_module
from newsarchive.cli.migrate import migrate
from newsarchive.tables.catalog import CatalogSpec, resolve
from newsarchive.tables.commit import OPERATION, RUN_ID
from newsarchive.tables.definitions import ARTICLES, QUARANTINE, RUNS, TABLES, ensure_all
from tests.maint_fixture import isolated_pyiceberg  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("isolated_pyiceberg")
ROOT = Path(__file__).resolve().parent.parent
LEGACY = Path(__file__).resolve().parent / "data" / "legacy_archive"
FIRST, SECOND = "20261202T014448Z-b1da23e7", "20261202T014452Z-3ab4d188"
DIED = "20261202T020000Z-0badc0de"
#: The two articles the second crawl fetched.
SECOND_IDS = {
    r["source_id"]
    for r in pq.read_table(
        next((Path(__file__).resolve().parent / "data/legacy_archive/articles").rglob(f"part-{SECOND}-0.parquet"))
    ).to_pylist()
}


def old_article_versions() -> set[tuple[str, str]]:
    """(source_id, content_sha256) of every article row in any old part (read directly)."""
    out = set()
    for path in (LEGACY / "articles").rglob("*.parquet"):
        for r in pq.ParquetFile(path).read(columns=["source_id", "content_sha256"]).to_pylist():
            out.add((r["source_id"], r["content_sha256"]))
    return out


@pytest.fixture
def spec(tmp_path: Path) -> CatalogSpec:
    return resolve(str(tmp_path / "archive"))


def run(spec: CatalogSpec) -> migrate_module.MigrationReport:
    return migrate(LegacyArchive.open(str(LEGACY)), spec.open(), spec.namespace, spec.describe())


def rows(spec: CatalogSpec, name: str) -> pa.Table:
    return spec.open().load_table((spec.namespace, name)).scan().to_arrow()


def snapshots(spec: CatalogSpec) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    out = {}
    for name in TABLES:
        table = spec.open().load_table((spec.namespace, name))
        out[name] = [(s.snapshot_id, dict(s.summary.additional_properties)) for s in table.snapshots()]
    return out


def test_the_tables_hold_exactly_the_old_rows_each_run_under_its_own_id(spec: CatalogSpec) -> None:
    report = run(spec)
    assert report.ok, report.problems
    articles = rows(spec, ARTICLES)
    versions = [
        (r["source_id"], r["content_sha256"]) for r in articles.select(["source_id", "content_sha256"]).to_pylist()
    ]
    assert len(versions) == len(set(versions)) == 45  # the part put back by the killed compaction: once
    assert set(versions) == old_article_versions()
    assert articles.schema.field("source").type == pa.string()
    assert "date" not in articles.column_names and set(articles.column("source").to_pylist()) == {"finews"}
    assert articles.column("raw_sha256").null_count == 45  # a newer column: NULL in old rows
    assert sorted(set(articles.column("run_id").to_pylist())) == [FIRST, SECOND, DIED]
    quarantine = rows(spec, QUARANTINE)
    assert quarantine.num_rows == 4 and set(quarantine.column("run_id").to_pylist()) == {FIRST}
    runs = {r["run_id"]: r for r in rows(spec, RUNS).to_pylist()}
    assert {k: (v["status"], v["articles_written"], v["quarantined"]) for k, v in runs.items()} == {
        FIRST: ("complete", 42, 4),
        SECOND: ("complete", 2, 0),
        DIED: ("recovered", 1, 0),
    }
    assert dict(runs[FIRST]["quarantined_by_reason"]) == {
        "connection_error": 1,
        "http_error": 1,
        "invalid_info_code": 1,
        "missing_time": 1,
    }
    assert runs[FIRST]["spider"] == "finews" and runs[FIRST]["requests"] == 53
    assert runs[DIED]["spider"] == "finews" and runs[DIED]["problems"] == ["migrated: no run manifest"]
    for name, of_table in snapshots(spec).items():
        assert all(summary[OPERATION] == "migrate" for _, summary in of_table), name
    assert [s[RUN_ID] for _, s in snapshots(spec)[RUNS]] == [FIRST, SECOND, DIED]
    assert report.checks == {
        "article_versions_old": 45,
        "article_versions_in_table": 45,
        "article_rows_in_table": 45,
        "quarantine_rows_old": 4,
        "quarantine_rows_in_table": 4,
        "runs_rows": 3,
    }


def test_versions_another_run_archived_first_are_not_missing(spec: CatalogSpec, tmp_path: Path) -> None:
    """After ``make demo`` (whose sample feeds are the old archive's posts), ``migrate`` leaves
    out what the demo's crawl archived as duplicates; its check must find them there."""
    first = resolve(str(tmp_path / "first"))
    run(first)
    crawled = rows(first, ARTICLES).filter(pc.equal(pc.field("run_id"), FIRST))
    crawled = crawled.set_column(
        crawled.schema.get_field_index("run_id"), "run_id", pa.array(["20261201T000000Z-c0ffee00"] * len(crawled))
    )
    ensure_all(spec.open(), spec.namespace)[ARTICLES].append(crawled)  # "the crawl", as pyiceberg commits
    report = run(spec)
    assert report.ok, report.problems
    assert report.duplicates == 42 and report.articles == 45 - 42
    versions = rows(spec, ARTICLES).select(["source_id", "content_sha256"]).to_pylist()
    assert len(versions) == len({tuple(v.values()) for v in versions}) == 45  # none twice, none missing


def test_a_rerun_commits_nothing(spec: CatalogSpec) -> None:
    run(spec)
    before = snapshots(spec)
    again = run(spec)
    assert again.ok and again.migrated == [] and again.articles == 0
    assert snapshots(spec) == before


def test_a_rerun_after_compaction_and_expiry_commits_nothing(spec: CatalogSpec) -> None:
    """Expiry removes the snapshots that named the old runs: the rows still tell."""
    from datetime import UTC, datetime, timedelta

    from newsarchive.tables.maintain import Options, maintain

    run(spec)
    options = Options(snapshot_max_age=timedelta(days=1), orphan_min_age=timedelta(days=1))
    maintain(spec.open(), spec.namespace, options=options, now=datetime.now(UTC) + timedelta(days=30))
    assert all(len(of_table) == 1 for of_table in snapshots(spec).values())
    before = snapshots(spec)
    again = run(spec)
    assert again.ok and again.migrated == [] and snapshots(spec) == before


@pytest.mark.parametrize("dies_at", [3, 4], ids=["after-the-first-run", "between-articles-and-quarantine"])
def test_a_migration_killed_midway_completes_on_rerun(
    spec: CatalogSpec, monkeypatch: pytest.MonkeyPatch, dies_at: int
) -> None:
    """Each run commits its articles, quarantine rows (if any), then its ``runs`` row: the
    3rd commit is the first run's ``runs`` row, the 4th the second run's articles (killed
    before that run's ``runs`` row)."""
    real = migrate_module.commit_files
    calls = []

    def dies(*args: Any, **kw: Any) -> Any:
        result = real(*args, **kw)
        calls.append(kw["run_id"])
        if len(calls) == dies_at:
            raise KeyboardInterrupt("killed")
        return result

    monkeypatch.setattr(migrate_module, "commit_files", dies)
    with pytest.raises(KeyboardInterrupt):
        run(spec)
    assert {r["run_id"] for r in rows(spec, RUNS).to_pylist()} == {FIRST}
    monkeypatch.setattr(migrate_module, "commit_files", real)
    report = run(spec)
    assert report.ok, report.problems
    assert report.migrated == [SECOND, DIED]
    assert report.checks["article_rows_in_table"] == 45 and report.checks["runs_rows"] == 3
    for name, of_table in snapshots(spec).items():
        ids = [s[RUN_ID] for _, s in of_table]
        assert len(ids) == len(set(ids)), name  # each run committed once per table


def test_the_check_catches_rows_that_did_not_arrive(spec: CatalogSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    real = migrate_module.article_duplicates

    def second_run_taken_for_duplicates(table: Any, candidates: pa.Table) -> pa.Array:
        mask = real(table, candidates).to_pylist()
        ours = [i in SECOND_IDS for i in candidates.column("source_id").to_pylist()]
        return pa.array([a or b for a, b in zip(mask, ours, strict=True)])

    monkeypatch.setattr(migrate_module, "article_duplicates", second_run_taken_for_duplicates)
    report = run(spec)
    assert not report.ok and report.problems == ["articles: 2 old versions missing, 0 unexpected"]


def test_the_command(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "newsarchive", "migrate", "--from", str(LEGACY), "--archive", str(tmp_path / "a")]
    first = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.splitlines()[-1])
    assert (summary["status"], summary["runs_migrated_now"], summary["articles_committed_now"]) == ("ok", 3, 45)
    again = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert json.loads(again.stdout.splitlines()[-1])["runs_migrated_now"] == 0
    missing = subprocess.run([*args[:5], str(tmp_path / "nope"), *args[6:]], capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode == 1 and "no such archive directory" in missing.stdout


@pytest.mark.slow
def test_from_a_bucket_into_the_rest_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsarchive.samples.seaweed import SeaweedFS

    (tmp_path / "s3").mkdir()
    with SeaweedFS(tmp_path / "s3", table_bucket="warehouse") as s3:
        s3.config.client().create_bucket(Bucket="old-archive")
        fs = s3.config.arrow()
        for path in LEGACY.rglob("*"):
            if path.is_file():
                with fs.open_output_stream(f"old-archive/prod/{path.relative_to(LEGACY)}", compression=None) as out:
                    out.write(path.read_bytes())
        for name, value in {
            "AWS_ENDPOINT_URL": s3.endpoint,
            "AWS_ACCESS_KEY_ID": s3.access_key,
            "AWS_SECRET_ACCESS_KEY": s3.secret_key,
            "AWS_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        spec = resolve(str(tmp_path / "archive"), overrides=s3.catalog_properties)
        report = migrate(LegacyArchive.open("s3://old-archive/prod"), spec.open(), spec.namespace)
        assert report.ok, report.problems
        assert report.checks["article_rows_in_table"] == 45 and report.checks["runs_rows"] == 3
        versions = {(r["source_id"], r["content_sha256"]) for r in rows(spec, ARTICLES).to_pylist()}
        assert versions == old_article_versions()
        before = snapshots(spec)
        assert migrate(LegacyArchive.open("s3://old-archive/prod"), spec.open(), spec.namespace).migrated == []
        assert snapshots(spec) == before


@pytest.mark.parametrize(
    "command",
    [
        ["migrate", "--from", "s3://old/x/../y"],
        ["verify", "--warc", "s3://old/x/../y"],
        ["compact", "--archive", "s3://old/x"],
        ["verify", "--archive", "s3://old/x"],
    ],
    ids=["migrate-from", "verify-warc", "compact-archive", "verify-archive"],
)
def test_a_bad_uri_is_bad_usage_before_any_request(tmp_path: Path, command: list[str]) -> None:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
    }
    if "--archive" not in command:
        command = [*command, "--archive", str(tmp_path / "a")]
    proc = subprocess.run(
        [sys.executable, "-m", "newsarchive", *command], capture_output=True, text=True, cwd=ROOT, timeout=60, env=env
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr[-2000:]
    assert "s3://old/x" in proc.stderr and "Traceback" not in proc.stderr
