"""``newsarchive reparse``: rebuild the tables from WARC files, offline, as new runs; a newer
pipeline version writes new versions once, the same version has nothing to do."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import scrapy
from hypothesis import given
from hypothesis import strategies as st
from scrapy.utils.test import get_crawler

from newsarchive.archive.versions import current, superseded, version_key
from newsarchive.extensions.archiverun import ArchiveRun, SourceIndex
from newsarchive.samples.feedserver import FeedServer, install_finews
from newsarchive.schema import ARTICLE_FIELDS
from newsarchive.tables.commit import commit_rows
from newsarchive.tables.definitions import ARTICLES, TABLES
from tests.helpers import FAST, ROOT, clean_env, install_finews_faults, rows, run_crawl, run_row, snapshots


def reparse(archive: Path, *warc: Path, settings: dict[str, str] | None = None, env: dict[str, str] | None = None):
    args = [
        sys.executable,
        "-m",
        "newsarchive",
        "reparse",
        "--warc",
        *map(str, warc),
        "--archive",
        str(archive),
    ]
    for name, value in (settings or {}).items():
        args += ["-s", f"{name}={value}"]
    proc = subprocess.run(args, capture_output=True, text=True, env=env or clean_env(), cwd=ROOT, timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return proc.returncode, (json.loads(lines[-1]) if lines else {}), proc.stderr


def comparable(records: list[dict[str, Any]], drop: tuple[str, ...]) -> list[dict[str, Any]]:
    out = [{k: v for k, v in r.items() if k not in drop} for r in records]
    return sorted(out, key=lambda r: [str(r.get(k)) for k in ("source_id", "reason", "url", "info_code_raw")])


def without_tables(archive: Path, to: Path) -> Path:
    """A copy of the working directory keeping only its WARC files (no catalog, no tables)."""
    shutil.copytree(archive / "warc", to / "warc")
    return to


def runs(archive: Path) -> list[str]:
    """The run ids in the ``runs`` table, oldest first."""
    return sorted(r["run_id"] for r in rows(archive, "runs"))


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> dict[str, Any]:
    """A crawl of the sample feeds (with a retried, a missing and an unreachable text), WARC on."""
    server = FeedServer().start()
    settings = {**FAST, **install_finews(server)}
    install_finews_faults(server)
    archive = tmp_path_factory.mktemp("original") / "archive"
    result = run_crawl("finews", {**settings, "ARCHIVE_URI": archive})
    assert result.returncode == 0, result.stderr[-3000:]
    state = {"server": server, "settings": settings, "archive": archive, "result": result}
    state["articles"] = rows(archive)
    state["quarantine"] = rows(archive, "quarantine")
    yield state
    server.stop()


def test_reparse_rebuilds_the_same_rows_without_any_request(original, tmp_path):
    server: FeedServer = original["server"]
    archive = without_tables(original["archive"], tmp_path / "a")
    served_before = len(server.requests)
    code, summary, stderr = reparse(archive, archive / "warc")
    assert code == 0, stderr[-3000:]
    assert len(server.requests) == served_before  # not one request reached the server
    assert summary["reparsed_run_id"] == original["result"].summary["run_id"]
    assert summary["run_id"] != summary["reparsed_run_id"]
    run = run_row(archive, summary["run_id"])
    assert run["status"] == "complete" and run["spider"] == "finews"
    assert run["requests_by_kind"] == {}  # nothing went to the downloader
    # robots.txt, the lists, the texts (the retried one: its last answer), not the unreachable one
    assert run["counts"]["replay_responses"] == 1 + 5 + 43
    assert run["counts"]["replay_failures"] == 1
    assert run["warc_files"] == []  # nothing new to capture
    assert {s["newsarchive.operation"] for s in snapshots(archive)} == {"reparse"}
    rebuilt = rows(archive)
    assert len(rebuilt) == len(original["articles"]) == 42
    # the same rows: same content_sha256, fetched_at, pointers... only the run differs
    assert comparable(rebuilt, ("run_id",)) == comparable(original["articles"], ("run_id",))
    assert {r["run_id"] for r in rebuilt} == {summary["run_id"]}
    volatile = ("run_id", "seen_at", "fingerprint")
    quarantine = rows(archive, "quarantine")
    assert {r["reason"] for r in quarantine} == {
        "invalid_info_code",
        "missing_time",
        "http_error",
        "connection_error",
    }
    assert comparable(quarantine, volatile) == comparable(original["quarantine"], volatile)


def test_reparse_needs_no_server(original, tmp_path):
    original["server"].stop()  # later tests in this module need no server either
    archive = without_tables(original["archive"], tmp_path / "a")
    code, summary, stderr = reparse(archive, *sorted((archive / "warc").rglob("*.warc.gz")))
    assert code == 0, stderr[-3000:]
    assert summary["articles_written"] == 42
    assert comparable(rows(archive), ("run_id",)) == comparable(original["articles"], ("run_id",))


def test_same_version_has_nothing_to_do_newer_version_wins(original, tmp_path):
    archive = without_tables(original["archive"], tmp_path / "a")
    warc = archive / "warc"
    first = reparse(archive, warc)
    assert first[0] == 0 and first[1]["articles_written"] == 42
    before = {name: snapshots(archive, name) for name in ("articles", "quarantine")}

    again = reparse(archive, warc)  # same pipeline version: nothing new, not even quarantine
    assert again[0] == 0 and again[1]["articles_written"] == 0 and again[1]["quarantined"] == 0
    assert again[1]["nothing_to_do"] is True and "already" in again[1]["note"]
    assert {name: snapshots(archive, name) for name in before} == before  # no commit at all
    replayed = run_row(archive, again[1]["run_id"])["counts"]["replay_responses"]
    assert replayed == 1 + 5 + 1  # robots.txt, lists and the 404: the rest is archived at this version

    newer = reparse(archive, warc, settings={"PIPELINE_VERSION": "0.9.0"})
    assert newer[0] == 0 and newer[1]["articles_written"] == 42 and not newer[1]["nothing_to_do"]
    newest = reparse(archive, warc, env=clean_env(NEWSARCHIVE_PIPELINE_VERSION="0.10.0"))
    assert newest[0] == 0 and newest[1]["articles_written"] == 42
    older = reparse(archive, warc, settings={"PIPELINE_VERSION": "0.9.0"})  # 0.9 < 0.10
    assert older[0] == 0 and older[1]["articles_written"] == 0 and older[1]["nothing_to_do"]
    again = reparse(archive, warc, env=clean_env(NEWSARCHIVE_PIPELINE_VERSION="0.10.0"))
    assert again[1]["articles_written"] == 0 and again[1]["nothing_to_do"]  # the same reparse adds nothing

    everything = rows(archive)  # older rows stay readable until compaction
    first_version = original["articles"][0]["pipeline_version"]
    assert sorted({r["pipeline_version"] for r in everything}, key=version_key) == [
        first_version,
        "0.9.0",
        "0.10.0",
    ]
    assert len(everything) == 3 * 42
    by_article: dict[str, list[dict[str, Any]]] = {}
    for row in everything:
        by_article.setdefault(row["source_id"], []).append(row)
    assert len(by_article) == 42
    for sid, versions in by_article.items():
        assert len(versions) == 3, sid  # once per version
        assert current(versions)["pipeline_version"] == "0.10.0", sid
        assert {r["pipeline_version"] for r in superseded(versions)} == {first_version, "0.9.0"}
    view = [current(v) for v in by_article.values()]
    assert comparable(view, ("run_id", "pipeline_version")) == comparable(
        original["articles"], ("run_id", "pipeline_version")
    )


def test_texts_missing_from_the_warc_are_quarantined_once(tmp_path):
    # a second, incremental crawl records only robots.txt and the lists
    server = FeedServer().start()
    try:
        settings = {**FAST, **install_finews(server)}
        archive = tmp_path / "archive"
        assert run_crawl("finews", {**settings, "ARCHIVE_URI": archive}).returncode == 0
        second = run_crawl("finews", {**settings, "ARCHIVE_URI": archive})
        assert second.returncode == 0
    finally:
        server.stop()
    run2 = [archive / f["path"] for f in second.run["warc_files"]]
    assert run2 and all(p.is_file() for p in run2)

    alone = without_tables(archive, tmp_path / "alone")
    code, summary, stderr = reparse(alone, *run2)
    assert code == 0, stderr[-3000:]
    assert summary["articles_written"] == 0
    missing = [r for r in rows(alone, "quarantine") if r["reason"] == "not_in_warc"]
    assert len(missing) == 44 and {r["stage"] for r in missing} == {"text"}
    assert reparse(alone, *run2)[1]["quarantined"] == 0  # a fact about the files: written once

    both = without_tables(archive, tmp_path / "both")  # every run, oldest first
    code, summary, stderr = reparse(both, both / "warc")
    assert code == 0, stderr[-3000:]
    assert [r["reparsed_run_id"] for r in summary["runs"]] == runs(archive)
    assert [r["articles_written"] for r in summary["runs"]] == [44, 0]
    assert not [r for r in rows(both, "quarantine") if r["reason"] == "not_in_warc"]


def test_bad_usage_exits_2(tmp_path):
    not_warc = tmp_path / "notes.warc.gz"
    not_warc.write_bytes(b"hello")
    for paths in ([tmp_path / "missing.warc.gz"], [not_warc], [tmp_path / "empty-dir"]):
        (tmp_path / "empty-dir").mkdir(exist_ok=True)
        code, _, stderr = reparse(tmp_path / "archive", *paths)
        assert code == 2, (paths, stderr)
        assert "newsarchive reparse:" in stderr


# --- versions ---------------------------------------------------------------------------


def test_versions_compare_numerically():
    ordered = [
        "0.1.0.dev1",
        "0.1.0a1",
        "0.1.0b2",
        "0.1.0rc1",
        "0.1.0",
        "0.1.0.post1",
        "0.2",
        "0.9.0",
        "0.10.0",
        "1.0",
    ]
    assert sorted(reversed(ordered), key=version_key) == ordered
    assert version_key("1.0") == version_key("1.0.0")
    assert version_key(None) == version_key("garbage")  # unknown versions sort first
    assert version_key("garbage") < version_key("0.0.1")


@given(st.lists(st.integers(0, 30), min_size=1, max_size=4), st.lists(st.integers(0, 30), min_size=1, max_size=4))
def test_release_versions_order_like_their_numbers(a, b):
    def strip(v):
        v = list(v)
        while len(v) > 1 and v[-1] == 0:
            v.pop()
        return v

    key_a, key_b = version_key(".".join(map(str, a))), version_key(".".join(map(str, b)))
    assert (key_a < key_b) == (strip(a) < strip(b))


def test_current_and_superseded_rows():
    t1, t2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    rows_ = [
        {"fetched_at": t1, "pipeline_version": "0.10.0", "content_sha256": "a2"},
        {"fetched_at": t1, "pipeline_version": "0.9.0", "content_sha256": "a1"},
        {"fetched_at": t2, "pipeline_version": "0.9.0", "content_sha256": "b1"},  # a later fetch
    ]
    assert current(rows_) is rows_[2]  # the latest fetch, even parsed by an older version
    assert superseded(rows_) == [rows_[1]]  # same fetch, older parser


def test_the_index_asks_the_table_about_candidates_from_a_version_on(tmp_path):
    """What a reparse counts as archived: rows of its own version or newer, asked of the
    articles table for the ids at hand (one query per prefetch, never every id)."""
    crawler = get_crawler(scrapy.Spider, {"ARCHIVE_URI": str(tmp_path), "EXTENSIONS": {ArchiveRun: 0}})
    run = ArchiveRun.of(crawler)
    table = run.table(ARTICLES)
    assert table is not None

    def row(sid: str, sha: str, version: str) -> dict[str, Any]:
        values: dict[str, Any] = dict.fromkeys(ARTICLE_FIELDS)
        published = datetime(2022, 1, 12, tzinfo=UTC)
        return {**values, "source": "finews", "source_id": sid, "published_at": published} | {
            "content_sha256": sha,
            "pipeline_version": version,
        }

    rows = [row("NW1", "a", "0.9.0"), row("NW2", "b", "0.10.0"), row("NW3", "c", "0.1.0")]
    other = [row("NW1", "a", "9.9.9") | {"source": "eastmoney"}]
    commit_rows(
        lambda: run.catalog.load_table(("newsarchive", ARTICLES)),
        pa.Table.from_pylist(rows + other, schema=TABLES[ARTICLES].schema),
        run_id="20220112T000000Z-00000000",
    )
    run._tables[ARTICLES] = run.catalog.load_table(("newsarchive", ARTICLES))
    index = SourceIndex(run, "finews", min_version="0.9.0")
    index.prefetch(["NW1", "NW2", "NW3", "NW4"])
    assert index.queries == 1
    assert "NW1" in index and "NW2" in index
    assert "NW3" not in index and "NW4" not in index  # older than the floor, or not there at all
    assert index.queries == 1  # answered from the prefetch
    assert index.has_version("NW2", "b") and not index.has_version("NW2", "other")
    assert not index.has_version("NW1", "a", "0.10.0")  # held, but by an older version
    index.add("NW4", "d", "0.9.0")
    assert "NW4" in index and index.queries == 1
    crawl = SourceIndex(run, "finews")  # a crawl: any version counts
    assert all(sid in crawl for sid in ("NW1", "NW2", "NW3")) and "NW5" not in crawl
