"""newsarchive/extensions: the run (run row, status), request counts, the progress line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from crawler import build, close, start
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive.extensions.archiverun import CATALOG_UNAVAILABLE, STATUS_STAT, ArchiveRun, counts, run_status
from newsarchive.extensions.progress import CrawlProgress
from newsarchive.extensions.requeststats import RequestKindStats, kind_of
from newsarchive.tables.catalog import embedded_properties


def runs(archive: Path) -> list[dict[str, Any]]:
    from pyiceberg.catalog import load_catalog

    table = load_catalog("newsarchive", **embedded_properties(str(archive))).load_table(("newsarchive", "runs"))
    return table.scan().to_arrow().to_pylist()


def test_the_crawler_builds_the_run(crawler: Crawler) -> None:
    run = ArchiveRun.of(crawler)
    assert run.run_id and run.catalog is None  # resolved, not yet opened


def test_an_empty_run_commits_its_runs_row(crawler: Crawler, archive: Path) -> None:
    start(crawler)
    run = close(crawler)
    [row] = runs(archive)
    assert (row["run_id"], row["status"], row["spider"], row["finish_reason"]) == (
        run.run_id,
        "complete",
        "finews",
        "finished",
    )
    assert row["articles_written"] == 0
    assert crawler.stats.get_value(STATUS_STAT) == "complete"  # type: ignore[union-attr]


def test_a_problem_makes_the_run_partial(crawler: Crawler, archive: Path) -> None:
    run = start(crawler)
    run.problems.append("a list feed is down")
    close(crawler)
    [row] = runs(archive)
    assert row["status"] == "partial" and row["problems"] == ["a list feed is down"]


def test_a_failure_makes_the_run_failed(crawler: Crawler, archive: Path) -> None:
    run = start(crawler)
    run.fail("writing articles failed: disk full")
    close(crawler)
    assert runs(archive)[0]["status"] == "failed"


def test_a_catalog_that_cannot_be_opened_fails_the_run(
    new_crawler: Callable[..., Crawler], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, archive: Path
) -> None:
    monkeypatch.setenv("PYICEBERG_CATALOG__NEWSARCHIVE__TYPE", "sql")
    monkeypatch.setenv("PYICEBERG_CATALOG__NEWSARCHIVE__URI", f"sqlite:///{tmp_path}/missing/dir/catalog.db")
    crawler = new_crawler()
    run = start(crawler)
    assert run.catalog is None and run.failures and "catalog cannot be opened" in run.failures[0]
    assert crawler.engine.close_reasons == [CATALOG_UNAVAILABLE]  # type: ignore[attr-defined]
    close(crawler)
    assert crawler.stats.get_value(STATUS_STAT) == "failed"  # type: ignore[union-attr]
    assert not (archive / "catalog.db").exists()  # no embedded catalog was made instead


@pytest.mark.parametrize(
    ("reason", "problems", "stats", "status"),
    [
        ("finished", [], {}, "complete"),
        ("finished", ["x"], {}, "partial"),
        ("shutdown", [], {"newsarchive/articles_written": 3}, "partial"),
        ("shutdown", [], {}, "failed"),
        ("finished", [], {"newsarchive/lists/failed": 2}, "failed"),
    ],
)
def test_run_status(reason: str, problems: list[str], stats: dict[str, Any], status: str) -> None:
    assert run_status(reason, problems, stats) == status


def test_counts_group_the_stats() -> None:
    c = counts(
        {
            "newsarchive/requests/list": 2,
            "newsarchive/quarantined/offsite": 1,
            "newsarchive/duplicates": 4,
            "downloader/request_count": 7,
        }
    )
    assert c["requests_by_kind"] == {"list": 2}
    assert c["quarantined_by_reason"] == {"offsite": 1}
    assert (c["duplicates"], c["requests"], c["articles_written"]) == (4, 7, 0)


def test_requests_are_counted_by_kind(crawler: Crawler) -> None:
    ext = build(RequestKindStats, crawler)
    ext.request_reached_downloader(Request("http://127.0.0.1/l", meta={"newsarchive_kind": "list"}))
    ext.request_reached_downloader(Request("http://127.0.0.1/robots.txt"))
    stats = crawler.stats
    assert stats is not None
    assert (stats.get_value("newsarchive/requests"), stats.get_value("newsarchive/requests/list")) == (2, 1)
    assert stats.get_value("newsarchive/requests/robots") == 1
    assert kind_of(Request("http://127.0.0.1/x")) == "other"


def test_progress_is_not_configured_when_off(crawler: Crawler) -> None:
    with pytest.raises(NotConfigured):
        CrawlProgress.from_crawler(crawler)


def test_progress_is_not_configured_without_a_terminal(new_crawler: Callable[..., Crawler]) -> None:
    crawler = new_crawler({"PROGRESS_ENABLED": True})  # stderr under pytest is no terminal
    with pytest.raises(NotConfigured):
        CrawlProgress.from_crawler(crawler)
