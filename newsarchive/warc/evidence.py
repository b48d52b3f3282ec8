"""Every archived row points to the WARC record it was parsed from, whatever the spider.

The capture middleware (or, in a reparse, the replay middleware) stores a
:class:`~newsarchive.warc.writer.WarcPointer` in ``request.meta`` for each response; this
spider middleware copies it onto every ``Article`` and ``Quarantined`` item the response's
callback (or errback, for an HTTP error) yields: ``warc_filename``, ``warc_record_offset``,
``warc_record_length``, ``raw_sha256``, and for an article ``fetched_at`` = the record's
WARC-Date, so a reparsed row has the same ``fetched_at`` as the original.

An item whose URL (``source_url`` of an article, ``url`` of a quarantine record) names
another response of the run points to that one: e.g. a record merged from several lists and
quarantined after the last list answered points to the list that held it. A spider that
knows better sets the fields itself; they are never overwritten.

When the records are written by the writer process, a pointer is pending
(:class:`~newsarchive.writer.work.PendingPointer`: the record's sequence number in
``warc_record_offset``) until the writer, which wrote the record before the row, resolves it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsarchive.items import Article, Quarantined
from newsarchive.warc.writer import WarcPointer
from newsarchive.writer.work import PendingPointer

Pointer = WarcPointer | PendingPointer

#: ``request.meta`` key of the pointer to the recorded response of that request.
POINTER_KEY = "newsarchive_warc"


class Evidence:
    """Extension: the pointers of this crawl's responses, per request (meta) and the latest
    per URL. Per-crawl state shared by the capture (or replay) downloader middleware, which
    records, and :class:`WarcEvidence`, which stamps; both find it with :meth:`of`."""

    def __init__(self) -> None:
        self.latest: dict[str, Pointer] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Evidence:
        settings = crawler.settings
        if not (settings.getbool("WARC_ENABLED") or settings.getlist("WARC_REPLAY_PATHS")):
            raise NotConfigured("no WARC capture or replay")
        return cls()

    @classmethod
    def of(cls, crawler: Crawler) -> Evidence:
        """This crawl's instance (extensions are built before any middleware)."""
        found = crawler.get_extension(cls)
        if found is None:
            name = f"{cls.__module__}.{cls.__name__}"
            raise RuntimeError(f"{name} is not in EXTENSIONS: no item could point to its record")
        return found

    def record(self, request: Request, pointer: Pointer) -> None:
        request.meta[POINTER_KEY] = pointer
        self.latest[request.url] = pointer

    def pointer_for(self, item: Any, response: Response | None) -> Pointer | None:
        own: Pointer | None = None
        if response is not None and response.request is not None:
            own = response.request.meta.get(POINTER_KEY)
        url = item.get("source_url") if isinstance(item, Article) else item.get("url")
        if url and (response is None or url != response.url):
            return self.latest.get(url, own)
        return own


class WarcEvidence:
    """Spider middleware: stamp each item with the pointer of the response it came from."""

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcEvidence:
        found = crawler.get_extension(Evidence)
        if found is None:  # off with capture and replay, or left out of EXTENSIONS
            raise NotConfigured("no WARC capture or replay")
        return cls(found)

    def stamp(self, item: Any, response: Response | None) -> None:
        if not isinstance(item, (Article, Quarantined)) or item.get("warc_filename"):
            return
        if item.get("warc_record_offset") is not None:  # pending already
            return
        pointer = self.evidence.pointer_for(item, response)
        if pointer is None:
            return
        item.update(pointer.columns())
        if isinstance(item, Article):
            item["fetched_at"] = pointer.date

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        for element in result:
            self.stamp(element, response)
            yield element

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for element in result:
            self.stamp(element, response)
            yield element
