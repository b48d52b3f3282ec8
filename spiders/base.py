"""What every archiving spider shares: its run, and how a failure becomes a quarantine row.

A spider subclass sets ``source``, reads its settings in ``from_crawler`` (raising
``NotConfigured`` when it cannot run) and yields ``Article`` items; failed lists and
requests go through the helpers below so every source names faults the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from newsarchive.failures import classify
from newsarchive.items import quarantine
from newsarchive.run import Run


class Dated(Protocol):
    @property
    def published_at(self) -> datetime | None: ...


D = TypeVar("D", bound=Dated)


class ArchiveSpider(scrapy.Spider):
    source: str
    run: Run
    #: MAX_ARTICLES_PER_RUN, read by each spider's ``from_crawler`` (0: no limit).
    max_articles: int = 0

    def newest_within_limit(self, entries: Sequence[D]) -> list[D]:
        """The articles to request this run: newest first (undated last, ties in list
        order); past MAX_ARTICLES_PER_RUN the oldest wait, counted and logged, for the next."""

        def newest_first(e: D) -> tuple[bool, float]:
            return (e.published_at is None, -e.published_at.timestamp() if e.published_at else 0.0)

        ordered = sorted(entries, key=newest_first)  # stable: equal times keep list order
        if self.max_articles and len(ordered) > self.max_articles:
            deferred = len(ordered) - self.max_articles
            self.crawler.stats.set_value("newsarchive/deferred", deferred)
            self.logger.warning(
                "MAX_ARTICLES_PER_RUN=%d: %d older articles wait for the next run", self.max_articles, deferred
            )
            ordered = ordered[: self.max_articles]
        return ordered

    def list_unusable(self, url: str, reason: str, detail: str, status: int | None, raw: Any = None) -> Iterator[Any]:
        """A list that cannot be read makes the run partial, loudly, and is quarantined."""
        self.crawler.stats.inc_value("newsarchive/lists/failed")
        self.run.problems.append(f"list {url}: {reason} ({detail})")
        self.logger.error("List %s unusable: %s (%s)", url, reason, detail)
        yield quarantine(self.source, "list", reason, detail, url=url, raw=raw, http_status=status)

    def fetch_failed(self, failure: Failure, source_id: str | None, stage: str = "text") -> Any:
        """A request that failed for good (after retries), named by its fault."""
        reason, detail, status = classify(failure)
        return quarantine(
            self.source, stage, reason, detail, info_code_raw=source_id, url=failure.request.url, http_status=status
        )


def excerpt(response: Response, limit: int = 2000) -> str | None:
    """The start of a bad response's body, kept in the quarantine as evidence."""
    return response.body[:limit].decode("utf-8", "replace") if response.body else None


def declared_type(response: Response) -> str | None:
    """The response's Content-Type header (its ``charset`` decides the decoding; a replay
    from WARC restores it, so a reparse decodes the bytes as the crawl did)."""
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None


def content_type(response: Response) -> str:
    return response.headers.get(b"Content-Type", b"").decode("latin-1") or "none"
