"""The in-process test layer: a configured crawler with no reactor, subprocess or network.

Modelled on :func:`scrapy.utils.test.get_crawler`, but with the project's settings
(``newsarchive/settings.py`` through ``get_project_settings``) and its working directory in
a test's ``tmp_path``, so that ``build_from_crawler(SomePipeline, crawler)`` gives the very
component a crawl would run. The run's signal handlers (``engine_started``,
``spider_closed``) are called directly by :func:`start` and :func:`close` where a test
needs the commit; nothing else of the engine runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler, get_reactor_settings

from newsarchive.extensions.archiverun import ArchiveRun
from newsarchive.items import Article


class UnitSpider(Spider):
    """A spider that fetches nothing: the components only read its name."""

    name = "finews"
    source = "finews"


class StubEngine:
    """Stands in for the engine: components that stop the crawl (a catalog that cannot be
    opened, a disk that is full) call ``close_spider_async``; the reasons are recorded."""

    def __init__(self, spider: Spider) -> None:
        self.spider: Spider | None = spider
        self.close_reasons: list[str] = []

    def close_spider_async(self, reason: str = "cancelled") -> None:
        self.close_reasons.append(reason)


def make_crawler(
    archive: Path,
    settings: dict[str, Any] | None = None,
    spidercls: type[Spider] = UnitSpider,
) -> Crawler:
    """A crawler with the project's settings, ARCHIVE_URI = ``archive`` (embedded SQLite
    catalog there), its extensions built (ArchiveRun among them) and its spider set."""
    project = get_project_settings().copy_to_dict()
    project.update(ARCHIVE_URI=str(archive), WARC_ENABLED=False, LOG_LEVEL="WARNING", **get_reactor_settings())
    project.update(WRITER_PROCESS=False)  # in-process: every write returns (or raises) at once
    project.update(settings or {})
    crawler = get_crawler(spidercls, project)
    crawler.spider = spidercls.from_crawler(crawler)
    crawler.engine = StubEngine(crawler.spider)  # type: ignore[assignment]
    crawler.stats.open_spider()  # type: ignore[union-attr]
    return crawler


def build(component: type[Any], crawler: Crawler) -> Any:
    """``component`` as Scrapy builds it: through its ``from_crawler``."""
    return build_from_crawler(component, crawler)


def run_of(crawler: Crawler) -> ArchiveRun:
    return ArchiveRun.of(crawler)


def start(crawler: Crawler) -> ArchiveRun:
    """What ``engine_started`` does: open the catalog and create the tables."""
    run = ArchiveRun.of(crawler)
    run.engine_started()
    return run


def close(crawler: Crawler, reason: str = "finished") -> ArchiveRun:
    """What ``spider_closed`` does: the writers finish their files, the run commits."""
    run = ArchiveRun.of(crawler)
    assert crawler.spider is not None
    run.spider_closed(crawler.spider, reason)
    return run


def feed(pipelines: list[Any], item: Any) -> Any:
    """Pass ``item`` through ``pipelines`` in order as the engine would (synchronously: every
    stage of the project returns its item or raises DropItem)."""
    for pipeline in pipelines:
        item = pipeline.process_item(item)
    return item


def article(**overrides: Any) -> Any:
    """A valid, not yet normalised finews Article (what a spider yields)."""
    code = overrides.pop("info_code", "NW202611270000000001")
    fields: dict[str, Any] = {
        "source": "finews",
        "source_id": code,
        "info_code": code,
        "title": "标题 one",
        "published_at": datetime(2026, 11, 27, 8, 30, tzinfo=UTC),
        "content_html": "<p>正文 text</p>",
        "media_name": "新闻社",
        "source_url": f"http://127.0.0.1:8765/text/{code}",
        "fetched_at": datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
    }
    fields.update(overrides)
    item = Article()
    for key, value in fields.items():
        item[key] = value
    return item
