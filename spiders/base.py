"""What every archiving spider shares: its run, and how a failure becomes a quarantine row.

A spider subclass sets ``source``, reads its settings in ``from_crawler`` (raising
``NotConfigured`` when it cannot run) and yields ``Article`` items; failed lists and
requests go through the helpers below so every source names faults the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from newsarchive.errors import error_detail
from newsarchive.extensions.archiverun import ArchiveRun
from newsarchive.failures import classify
from newsarchive.items import internal_error, quarantine

#: ``request.meta`` key set once a list request's answer has been counted (see :meth:`ArchiveSpider.first_answer`).
ANSWERED = "newsarchive_answered"


class Dated(Protocol):
    @property
    def published_at(self) -> datetime | None: ...


D = TypeVar("D", bound=Dated)


class ArchiveSpider(scrapy.Spider):
    supports_backfill: bool = False  # pages back in time (<PREFIX>_SINCE/_UNTIL): news_backfill runs it
    source: str
    #: MAX_ARTICLES_PER_RUN, read by each spider's ``from_crawler`` (0: no limit).
    max_articles: int = 0

    @property
    def run(self) -> ArchiveRun:
        """The crawl's run (an extension: built after the spider, so looked up when used)."""
        return ArchiveRun.of(self.crawler)

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

    def first_answer(self, meta: dict[str, Any]) -> bool:
        """True the first time a list request's answer is counted: its callback counts it
        first thing, and a recovery after the callback raised must not count it again."""
        if meta.get(ANSWERED):
            return False
        meta[ANSWERED] = True
        return True

    def callback_failed(self, response: Response, exception: Exception) -> Iterator[Any]:
        """Recovery for an exception that escaped a callback (called by
        :class:`~newsarchive.middlewares.contain.ContainCallbackErrors`): one ``internal_error``
        row naming it; a list also makes the run partial and goes on (:meth:`after_list`)."""
        request = response.request
        assert request is not None
        yield from self._recover(request, exception, response.status, excerpt(response))

    def errback_failed(self, failure: Failure, exception: Exception) -> Iterator[Any]:
        """The same recovery for an exception in an errback (see :func:`contained_errback`):
        Scrapy passes errback output to no spider middleware."""
        yield from self._recover(failure.request, exception, None, None)

    def _recover(self, request: Any, exception: Exception, status: int | None, raw: str | None) -> Iterator[Any]:
        meta = request.meta
        kind = meta.get("newsarchive_kind") or "other"
        handler = request.callback if status is not None else request.errback
        where = f"{type(self).__name__}.{getattr(handler, '__name__', 'callback')}"
        stats = self.crawler.stats
        stats.inc_value("newsarchive/internal_errors")
        stats.inc_value(f"newsarchive/internal_errors/{kind}")
        self.logger.error("%s raised on %s", where, request.url, exc_info=exception)
        if kind == "list":
            detail = error_detail(exception, where)
            yield from self.list_unusable(request.url, "internal_error", detail, status, raw)
            yield from self.after_list(meta)
            return
        yield internal_error(
            self.source,
            "text",
            exception,
            where=where,
            url=request.url,
            info_code_raw=self.source_id_of(meta),
            raw=raw,
            http_status=status,
        )

    def after_list(self, meta: dict[str, Any]) -> Iterator[Any]:
        """What a list callback does last (count the answer, then maybe request the
        articles), for a list whose callback raised."""
        return iter(())

    def source_id_of(self, meta: dict[str, Any]) -> str | None:
        """The id of the article a request was for (its record's infoCode or contId)."""
        for key in ("record", "entry"):
            for attr in ("info_code", "cont_id"):
                value = getattr(meta.get(key), attr, None)
                if isinstance(value, str):
                    return value
        return None

    def response_rejected(self, response: Response, exc: Any, source_id: str | None, detail: str | None = None) -> Any:
        """An article's response that arrived but cannot be used (``exc``: a FeedError), with
        the start of its body as evidence."""
        return quarantine(
            self.source,
            "text",
            exc.reason,
            exc.detail if detail is None else detail,
            info_code_raw=source_id,
            url=response.url,
            raw=excerpt(response),
            http_status=response.status,
        )

    def fetch_failed(self, failure: Failure, source_id: str | None, stage: str = "text") -> Any:
        """A request that failed for good (after retries), named by its fault."""
        reason, detail, status = classify(failure)
        return quarantine(
            self.source, stage, reason, detail, info_code_raw=source_id, url=failure.request.url, http_status=status
        )


S = TypeVar("S", bound=ArchiveSpider)


def contained_errback(errback: Callable[[S, Failure], Iterator[Any]]) -> Callable[[S, Failure], Iterator[Any]]:
    """An errback whose exception becomes the spider's recovery (:meth:`ArchiveSpider.errback_failed`)."""

    @functools.wraps(errback)
    def wrapper(spider: S, failure: Failure) -> Iterator[Any]:
        try:
            yield from errback(spider, failure)
        except Exception as exc:
            yield from spider.errback_failed(failure, exc)

    return wrapper


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
