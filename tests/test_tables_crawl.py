"""Crawls against the tables as writers meet them: two at once, and one killed before its commit.

Each runs against the embedded SQLite catalog and against SeaweedFS's Iceberg REST catalog;
the crawls are real subprocesses on the sample feeds, the rows are read back by pyiceberg.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsarchive.samples.feedserver import TEXT, FeedServer, Reply, finews_settings, install_finews, sample_dir
from tests.helpers import FAST, ROOT, catalog_env, clean_env, last_json


@pytest.fixture(scope="module")
def rest_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from newsarchive.samples.seaweed import SeaweedFS

    with SeaweedFS(tmp_path_factory.mktemp("seaweed-rest"), table_bucket="warehouse") as s3:
        yield s3.catalog_properties


@pytest.fixture(params=["embedded", "rest"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Where the crawls of one test commit: env for the subprocess and a reader."""
    from pyiceberg.catalog import load_catalog

    from newsarchive.tables.catalog import embedded_properties

    namespace = f"t{os.getpid()}{abs(hash(request.node.name)) % 10**8}"
    archive = tmp_path / "archive"
    if request.param == "embedded":
        props = embedded_properties(str(archive))
        env = clean_env()
    else:
        props = request.getfixturevalue("rest_catalog")
        env = clean_env(**catalog_env(props))
    return {
        "env": env,
        "archive": archive,
        "namespace": namespace,
        "open": lambda: load_catalog("newsarchive", **props),  # a SQL catalog keys tables by its name
    }


def read(catalog: dict[str, Any], table: str) -> list[dict[str, Any]]:
    loaded = catalog["open"]().load_table((catalog["namespace"], table))
    return loaded.scan().to_arrow().to_pylist()


def crawl_args(server: FeedServer, catalog: dict[str, Any], archive: Path, **extra: str) -> list[str]:
    settings = {
        **FAST,
        **finews_settings(server),
        "ARCHIVE_URI": archive,
        "ICEBERG_NAMESPACE": catalog["namespace"],
        **extra,
    }
    args = [sys.executable, "-m", "newsarchive", "crawl", "finews"]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    return args


def slow_texts(server: FeedServer, delay: float) -> int:
    """Every text answers after ``delay`` seconds; returns how many texts there are."""
    import json

    texts = json.loads((sample_dir() / "texts.json").read_text(encoding="utf-8"))
    for code, text in texts.items():
        body = json.dumps(text, ensure_ascii=False).encode()
        server.add(f"{TEXT}?id={code}", Reply(body=body, delay=delay))
    return len(texts)


def test_two_crawls_at_once_archive_each_article_once(feed_server: FeedServer, catalog: dict[str, Any]) -> None:
    install_finews(feed_server)
    slow_texts(feed_server, 0.05)  # both are fetching texts at the same time
    procs = [
        subprocess.Popen(
            crawl_args(feed_server, catalog, catalog["archive"]),  # one working directory, like two by hand
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=catalog["env"],
            cwd=ROOT,
        )
        for n in range(2)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
    summaries = [last_json(out) for out, _ in outputs]

    articles = read(catalog, "articles")
    per_article = Counter((r["source"], r["source_id"]) for r in articles)
    assert len(per_article) == 44
    assert set(per_article.values()) == {1}, [k for k, v in per_article.items() if v > 1]
    # the bad records of the feeds (one invalid infoCode, one without a time) once each
    quarantine = read(catalog, "quarantine")
    assert Counter(r["reason"] for r in quarantine) == {"invalid_info_code": 1, "missing_time": 1}
    runs = {r["run_id"]: r for r in read(catalog, "runs")}
    assert set(runs) == {s["run_id"] for s in summaries}
    # each run's row counts what it committed: together every article once
    assert sum(r["articles_written"] for r in runs.values()) == 44
    assert {r["status"] for r in runs.values()} == {"complete"}
    for row in runs.values():
        held = sum(1 for a in articles if a["run_id"] == row["run_id"])
        assert row["articles_written"] == held


def test_a_crawl_killed_before_its_commit_leaves_nothing_visible(
    feed_server: FeedServer, catalog: dict[str, Any]
) -> None:
    install_finews(feed_server)
    n = slow_texts(feed_server, 0.5)
    archive = catalog["archive"]
    args = crawl_args(feed_server, catalog, archive, CONCURRENT_REQUESTS="2", PARQUET_ROW_GROUP_SIZE="2")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=catalog["env"], cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        # killed mid-crawl, once some of its rows are in data files (row groups of 2 rows)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail("the crawl ended before it could be killed")
            if feed_server.count(TEXT) >= 8:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the crawl never fetched its texts")
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert read(catalog, "articles") == []  # nothing of the killed run is visible
    assert read(catalog, "runs") == []
    table = catalog["open"]().load_table((catalog["namespace"], "articles"))
    assert table.current_snapshot() is None

    rerun = subprocess.run(args, capture_output=True, text=True, env=catalog["env"], cwd=ROOT, timeout=240)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    articles = read(catalog, "articles")
    assert len(articles) == n  # every article of the sample feeds, once
    assert Counter((r["source"], r["source_id"]) for r in articles).most_common(1)[0][1] == 1
    runs = read(catalog, "runs")
    assert [r["status"] for r in runs] == ["complete"]
    assert runs[0]["articles_written"] == len(articles) == 44


def test_a_run_that_died_between_its_commits_is_completed_by_the_next(feed_server: FeedServer, tmp_path: Path) -> None:
    """Its articles were committed, its runs row never was: the next run records it,
    ``recovered``, with what it committed, and a later run does not record it again."""
    from pyiceberg.catalog import load_catalog

    from newsarchive.tables.catalog import embedded_properties
    from newsarchive.tables.commit import commit_files
    from newsarchive.tables.definitions import ARTICLES, TABLES, ensure_all
    from newsarchive.tables.sink import TableSink, month_of
    from tests.helpers import run_crawl

    archive = tmp_path / "archive"
    archive.mkdir()
    catalog = load_catalog("newsarchive", **embedded_properties(str(archive)))
    tables = ensure_all(catalog, "newsarchive")
    dead = "20260101T000000Z-deadbeef"
    sink = TableSink(
        tables[ARTICLES].io,
        tables[ARTICLES].location(),
        TABLES[ARTICLES].schema,
        dead,
        kind=ARTICLES,
        month_field="published_month",
    )
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    for n in range(3):
        row = {f.name: None for f in TABLES[ARTICLES].schema}
        row.update(
            source="finews",
            source_id=f"NW2026010100000000{n:02d}",
            published_at=now,
            fetched_at=now,
            run_id=dead,
            content_sha256=str(n),
            pipeline_version="0.1.0",
            schema_version=3,
        )
        sink.write(("finews", month_of(now)), row)
    files = sink.close()
    commit_files(lambda: catalog.load_table(("newsarchive", ARTICLES)), [f.path for f in files], run_id=dead)

    install_finews(feed_server)
    settings = {**FAST, **finews_settings(feed_server), "ARCHIVE_URI": archive, "ICEBERG_RECOVER_AFTER": "0"}
    first = run_crawl("finews", settings)
    assert first.returncode == 0, first.stderr[-3000:]
    recovered = run_row_of(archive, dead)
    assert recovered["status"] == "recovered"
    assert recovered["articles_written"] == 3
    assert first.summary["run_id"] in recovered["problems"][0]
    # the writer process's own cost is in the summary (the crawler's rusage shows the larger RSS only)
    writer = first.summary["writer"]
    assert writer["cpu_s"] > 0 and writer["peak_rss_mb"] > 0
    assert writer["queue_wait_s"] >= 0 and writer["finish_wait_s"] >= 0
    again = run_crawl("finews", settings)
    assert again.returncode == 0
    runs = read_runs(archive)
    assert sorted(r["status"] for r in runs) == ["complete", "complete", "recovered"]


def read_runs(archive: Path) -> list[dict[str, Any]]:
    from tests.helpers import read_table

    return read_table(archive, "runs").to_pylist()


def run_row_of(archive: Path, run_id: str) -> dict[str, Any]:
    rows = [r for r in read_runs(archive) if r["run_id"] == run_id]
    assert len(rows) == 1
    return rows[0]
