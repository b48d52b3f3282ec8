"""Items for in-process tests of the pipelines, the sink and the run's commits, and the
project's declared settings for crawlers a test builds itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler

from newsarchive import settings as project_settings
from newsarchive.extensions.archiverun import ArchiveRun
from newsarchive.items import Article
from pipelines.normalise import normalise
from tests.fault_plan import code

PUBLISHED = datetime(2022, 1, 12, 2, 0, tzinfo=UTC)


def project(**overrides: Any) -> dict[str, Any]:
    """The project's declared settings (what a real crawl starts from), plus ``overrides``."""
    declared = {k: v for k, v in project_settings._defaults.items() if k not in ("SPIDER_MODULES", "NEWSPIDER_MODULE")}
    return {**declared, **overrides}


def article(n: int, **fields: Any) -> Any:
    item = Article(
        source="finews",
        source_id=code(n),
        info_code=code(n),
        title=f"好文章{n}",
        digest="摘要",
        media_name="澎湃新闻",
        published_at=PUBLISHED,
        content_html=f"<p>正文{n}</p>",
        source_url=f"http://127.0.0.1:1/text?id={code(n)}",
        spider="finews",
    )
    item.update(fields)
    return item


def normalised(n: int, **fields: Any) -> Any:
    item = normalise(article(n), "20220112T000000Z-00000000", None)
    item.update(fields)
    return item


def commit(crawler: Crawler) -> ArchiveRun:
    """End the run as ``spider_closed`` does: the writers finish their files, then the commits."""
    run = ArchiveRun.of(crawler)
    run.spider_closed(crawler.spider, "finished")
    return run
