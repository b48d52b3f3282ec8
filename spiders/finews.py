"""``finews``: articles syndicated through East Money infoCode feeds (澎湃新闻 and others).

A run fetches every list in ``FINEWS_LIST_URLS`` first, merges their records by infoCode
(one text request per infoCode however many feeds list it; the richest record wins), then
fetches the body of each article not yet in the archive. Lists that fail make the run
``partial``; bad records are quarantined with their reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from twisted.python.failure import Failure

from newsarchive.bodies import FeedError, JsonLimits, out_of_range_paths
from newsarchive.config import missing_settings, not_configured_message
from newsarchive.failures import classify
from newsarchive.items import Article, quarantine
from newsarchive.timeparse import time_fault, utcnow
from spiders.base import ArchiveSpider, contained_errback, content_type, declared_type, excerpt
from spiders.finews_feeds import FeedRecord, merge, parse_list, parse_text, read_record

SOURCE = "finews"


class FinewsSpider(ArchiveSpider):
    name = "finews"
    source = SOURCE

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FinewsSpider:
        spider: FinewsSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        # No default hosts (the original ones are gone): refuse before anything is requested
        # or written; the crawl commands turn this into one line (exit 2).
        missing = missing_settings(SOURCE, settings.get)
        if missing:
            raise NotConfigured(not_configured_message(SOURCE, missing))
        urls = list(dict.fromkeys(u.strip() for u in settings.getlist("FINEWS_LIST_URLS") if u.strip()))
        text_url = settings.get("FINEWS_TEXT_URL", "").strip()
        if "{info_code}" not in text_url:
            raise NotConfigured("FINEWS_TEXT_URL must contain {info_code}")
        spider.list_urls = urls
        spider.text_url = text_url
        spider.share_url = settings.get("FINEWS_SHARE_URL", "")
        spider.refetch = settings.getbool("FINEWS_REFETCH")
        spider.max_articles = settings.getint("MAX_ARTICLES_PER_RUN")
        spider.json_limits = JsonLimits.from_settings(settings)
        # Offsite protection: only the configured hosts are ever requested.
        spider.allowed_domains = sorted({h for h in (urlsplit(u).hostname for u in [*urls, text_url]) if h})
        spider._pending_lists = len(urls)
        spider._records: dict[str, list[FeedRecord]] = {}
        spider._position = 0
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.list_urls:
            yield scrapy.Request(
                url,
                callback=self.parse_list,
                errback=self.list_failed,
                dont_filter=True,
                meta={"newsarchive_kind": "list"},
            )

    # --- lists -----------------------------------------------------------------------

    def parse_list(self, response: Response) -> Iterator[Any]:
        self._list_answered(response.meta)
        try:
            feed, raws = parse_list(response.body, response.url, declared_type(response), self.json_limits)
        except FeedError as exc:
            yield from self.list_unusable(
                response.url, exc.reason, _detail(exc, response), response.status, raw=excerpt(response)
            )
        else:
            self.crawler.stats.inc_value("newsarchive/lists/ok")
            yield from self._read_records(feed, response.url, raws)
        yield from self._maybe_fetch_texts()

    @contained_errback
    def list_failed(self, failure: Failure) -> Iterator[Any]:
        self._list_answered(failure.request.meta)
        reason, detail, status = classify(failure)
        yield from self.list_unusable(failure.request.url, reason, detail, status)
        yield from self._maybe_fetch_texts()

    def _list_answered(self, meta: dict[str, Any]) -> None:
        if self.first_answer(meta):
            self._pending_lists -= 1

    def after_list(self, meta: dict[str, Any]) -> Iterator[Any]:
        """A list callback raised (before or after counting its answer): the texts of the
        other lists are still requested once the last one answers."""
        self._list_answered(meta)
        yield from self._maybe_fetch_texts()

    def _read_records(self, feed: str, list_url: str, raws: list[Any]) -> Iterator[Any]:
        stats = self.crawler.stats
        for raw in raws:
            stats.inc_value("newsarchive/records/seen")
            self._position += 1
            huge = out_of_range_paths(raw)
            if huge:
                yield quarantine(
                    self.source,
                    "list",
                    "number_out_of_range",
                    f"{feed} record holds a number the archive cannot hold: {', '.join(huge)}",
                    info_code_raw=_code_of(raw),
                    url=list_url,
                    raw=raw,
                )
                continue
            rec = read_record(raw, feed, list_url, self._position)
            if rec is None:
                yield quarantine(
                    self.source,
                    "list",
                    "bad_record",
                    f"{feed} entry is a {type(raw).__name__}, not an object",
                    url=list_url,
                    raw=raw,
                )
            elif rec.info_code is None:
                yield quarantine(
                    self.source,
                    "list",
                    "invalid_info_code",
                    f"infoCode {rec.info_code_raw!r} is not NW/AN + 18 digits",
                    info_code_raw=rec.info_code_raw,
                    url=list_url,
                    raw=raw,
                )
            else:
                self._records.setdefault(rec.info_code, []).append(rec)

    # --- texts -----------------------------------------------------------------------

    def _maybe_fetch_texts(self) -> Iterator[Any]:
        """Once every list has answered, request each new article's text once."""
        if self._pending_lists > 0:
            return
        records, self._records = self._records, {}
        stats = self.crawler.stats
        index = self.run.index(self.source)
        index.prefetch(records)
        wanted: list[FeedRecord] = []
        unique = len(records)
        for info_code in list(records):
            rec = merge(records.pop(info_code))  # each group is freed as soon as it is merged
            if not self.refetch and info_code in index:
                stats.inc_value("newsarchive/skipped_archived")
                continue
            if rec.published_at is None:
                reason, detail = time_fault(rec.time_raw, "publication time")
                yield quarantine(
                    self.source,
                    "list",
                    reason,
                    detail,
                    info_code_raw=info_code,
                    url=rec.list_url,
                    raw=[r.raw for r in [rec, *rec.others]],
                )
                continue
            if rec.title is None:
                yield quarantine(
                    self.source,
                    "list",
                    "missing_title",
                    "no title in any feed",
                    info_code_raw=info_code,
                    url=rec.list_url,
                    raw=[r.raw for r in [rec, *rec.others]],
                )
                continue
            # The text request needs only the resolved fields: drop the raw records (up to a
            # KiB an article, held by every queued request until its text arrives).
            rec.raw, rec.others = {}, []
            wanted.append(rec)
        stats.set_value("newsarchive/records/unique", unique)
        wanted = self.newest_within_limit(wanted)
        for rec in wanted:
            assert rec.info_code is not None
            yield scrapy.Request(
                self.text_url.format(info_code=rec.info_code),
                callback=self.parse_text,
                errback=self.text_failed,
                dont_filter=True,
                meta={"newsarchive_kind": "text", "record": rec},
            )

    def parse_text(self, response: Response) -> Iterator[Any]:
        rec: FeedRecord = response.meta["record"]
        try:
            html = parse_text(response.body, declared_type(response), self.json_limits)
        except FeedError as exc:
            yield self.response_rejected(response, exc, rec.info_code, _detail(exc, response))
            return
        yield self.article(rec, html, response)

    @contained_errback
    def text_failed(self, failure: Failure) -> Iterator[Any]:
        rec: FeedRecord = failure.request.meta["record"]
        yield self.fetch_failed(failure, rec.info_code)

    def article(self, rec: FeedRecord, html: str, response: Response) -> Any:
        code = rec.info_code
        return Article(
            source=self.source,
            source_id=code,
            info_code=code,
            title=rec.title,
            digest=rec.digest,
            media_name=rec.media_name,
            published_at=rec.published_at,
            content_html=html,
            article_url=rec.article_url,
            share_url=self.share_url.format(info_code=code) if self.share_url else None,
            source_url=response.url,
            list_url=rec.list_url,
            feed=rec.feed,
            fetched_at=utcnow(),
            http_status=response.status,
            spider=self.name,
        )


def _code_of(raw: Any) -> str | None:
    """The infoCode a bad record names, as evidence (never used in a URL)."""
    if isinstance(raw, dict):
        code = next((raw[k] for k in ("infoCode", "infocode", "InfoCode", "info_code") if k in raw), None)
        return code if isinstance(code, str) else None
    return None


def _detail(exc: FeedError, response: Response) -> str:
    return f"{exc.detail} (Content-Type: {content_type(response)})"
