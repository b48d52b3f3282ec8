"""``eastmoney``: the infoCode articles (澎湃新闻 and every other medium) from East Money's live web APIs.

A run pages through the column lists in ``EASTMONEY_COLUMNS`` and the 7x24 fast news,
merges their entries by infoCode (one page request per infoCode however many lists carry
it; the entry from the earliest list wins ``feed`` and ``list_url``, the others fill its
gaps), then fetches the article page of each infoCode not yet archived under
``source=eastmoney`` (and its continuation pages ``<code>_2.html``…, into one row). 财富号
(CFH) posts are skipped on purpose and counted: their pages are elsewhere and unparsed.
Every request goes to one of the three configured hosts, through one
download slot, at most one every ``EASTMONEY_DOWNLOAD_DELAY`` seconds.
Formats and decisions: ``docs/eastmoney.md``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsarchive.bodies import FeedError
from newsarchive.ids import NUMERIC_ID
from newsarchive.items import Article, quarantine
from newsarchive.timeparse import utcnow
from spiders.base import declared_type, excerpt
from spiders.config import url_path
from spiders.eastmoney_pages import (
    ArticlePage,
    ListEntry,
    next_cursor,
    parse_article,
    parse_column_page,
    parse_fast_page,
    read_entry,
    stop_paging,
)
from spiders.listing import ListingSpider

SOURCE = "eastmoney"
#: All requests share this download slot, so the delay holds across the three hosts.
SLOT = "eastmoney"
_MERGED = ("title", "digest", "media_name", "published_at", "url")


class EastmoneySpider(ListingSpider):
    name = "eastmoney"
    supports_backfill = True
    source = SOURCE

    settings_prefix = "EASTMONEY"
    host_keys = ("LIST", "FAST", "WEB")
    article_placeholder = "{code}"
    article_query = False
    lists_setting = "COLUMNS"
    lists_what = "numeric column ids"
    extra_list_setting = "FAST"

    def valid_list_id(self, value: str) -> bool:
        return NUMERIC_ID.fullmatch(value) is not None

    def read_lists(self, settings: Any, ids: list[str], extra: bool) -> None:
        self.columns = ids
        self.fast = extra
        self.fast_column = str(settings.get("EASTMONEY_FAST_COLUMN") or "").strip()
        if self.fast and not NUMERIC_ID.fullmatch(self.fast_column):
            raise NotConfigured(f"EASTMONEY_FAST_COLUMN must be a numeric id, got {self.fast_column!r}")

    def configure(self, settings: Any, bases: list[str]) -> None:
        s = settings
        lists, fast, _web = bases
        self.media = {m.strip() for m in s.getlist("EASTMONEY_MEDIA") if m.strip()}
        self.req_trace = str(s.get("EASTMONEY_REQ_TRACE") or "").strip()
        if not self.req_trace:
            raise NotConfigured("EASTMONEY_REQ_TRACE must not be empty: the list APIs require req_trace")
        self.column_url = (
            f"{lists}{url_path(s, 'EASTMONEY_COLUMN_PATH', query=False)}?{s.get('EASTMONEY_COLUMN_QUERY') or ''}"
        )
        self.fast_url = f"{fast}{url_path(s, 'EASTMONEY_FAST_PATH', query=False)}?{s.get('EASTMONEY_FAST_QUERY') or ''}"
        self.max_article_pages = s.getint("EASTMONEY_MAX_ARTICLE_PAGES")
        if self.max_article_pages < 1:
            raise NotConfigured("EASTMONEY_MAX_ARTICLE_PAGES must be at least 1")
        #: infoCodes of 财富号 posts: never requested, whichever list also carries them.
        self._cfh: set[str] = set()

    # --- requests ----------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Referer": self.referer} if self.referer else {}

    def _list_request(self, feed: str, page: int, cursor: str | None = None) -> scrapy.Request:
        kind, ident = feed.split(":", 1)
        if kind == "column":
            query = {"column": ident, "page_index": page, "page_size": self.page_size, "req_trace": self.req_trace}
            url = self.column_url
        else:
            query = {"fastColumn": ident, "sortEnd": cursor or "", "pageSize": self.page_size}
            query["req_trace"] = self.req_trace
            url = self.fast_url
        self.list_sent()
        return scrapy.Request(
            f"{url}{'&' if not url.endswith('?') else ''}{urlencode(query)}",
            headers=self._headers(),
            callback=self.parse_list,
            errback=self.list_failed,
            dont_filter=True,
            meta={"newsarchive_kind": "list", "download_slot": SLOT, "feed": feed, "page": page},
        )

    def article_request(self, entry: ListEntry) -> scrapy.Request:
        return scrapy.Request(
            self.page_url(entry),
            headers=self._headers(),
            callback=self.parse_article,
            errback=self.article_failed,
            dont_filter=True,
            meta={"newsarchive_kind": "article", "download_slot": SLOT, "entry": entry},
        )

    def page_url(self, entry: ListEntry) -> str:
        """The article page: the code as listed (validated: 18 digits, or a whole infoCode)."""
        assert entry.info_code is not None
        code = entry.code_raw if isinstance(entry.code_raw, str) else entry.info_code[2:]
        return self.article_url.format(code=code)

    def feeds(self) -> list[str]:
        return [f"column:{c}" for c in self.columns] + ([f"fast:{self.fast_column}"] if self.fast else [])

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for feed in self.feeds():
            yield self._list_request(feed, 1)

    # --- lists -------------------------------------------------------------------------

    def parse_list(self, response: Response) -> Iterator[Any]:
        self.list_answered(response.meta)
        feed, page = response.meta["feed"], response.meta["page"]
        fetched_at = utcnow()
        sort_end: str | None = None
        end = False
        try:
            if feed.startswith("column:"):
                raws = parse_column_page(response.body, declared_type(response), self.json_limits)
            else:
                fast = parse_fast_page(response.body, declared_type(response), self.json_limits)
                raws, sort_end, end = fast.entries, fast.sort_end, fast.end
        except FeedError as exc:
            detail = f"{feed} page {page}: {exc.detail}"
            yield from self.list_unusable(response.url, exc.reason, detail, response.status, excerpt(response))
        else:
            self.crawler.stats.inc_value("newsarchive/lists/ok")
            rank = (self.feeds().index(feed), page)
            entries: list[ListEntry | None] = []
            yield from self.take(
                raws,
                feed,
                response.url,
                lambda raw, n: read_entry(raw, feed, response.url, (*rank, n), fetched_at),
                entries,
            )
            if end:  # past the last page: the feed is over, nothing went wrong
                self._stop(feed, page, "end_of_feed")
            else:
                yield from self._next_page(feed, page, raws, entries, sort_end)
        yield from self.maybe_fetch_articles()

    def _next_page(
        self, feed: str, page: int, raws: list[Any], entries: list[ListEntry | None], sort_end: str | None = None
    ) -> Iterator[Any]:
        index = self.run.index(self.source)
        archived = (lambda code: False) if self.refetch else index.__contains__
        why = stop_paging(entries, self.page_size, page, self.max_pages, self.since, archived)
        cursor = None
        if why is None and feed.startswith("fast:"):
            cursor = next_cursor(entries, sort_end)
            why = None if cursor else "no_cursor"
        if why is None:
            yield self._list_request(feed, page + 1, cursor)
        else:
            self._stop(feed, page, why)

    def _stop(self, feed: str, page: int, why: str) -> None:
        self.crawler.stats.inc_value(f"newsarchive/eastmoney/stop/{why}")
        self.logger.info("%s: stop after page %d (%s)", feed, page, why)

    def list_context(self, meta: dict[str, Any]) -> str:
        return f"{meta.get('feed')} page {meta.get('page')}: "

    def admit(self, entry: ListEntry) -> Any:
        """Keep an entry for fetching if it should be; return a quarantine record if it is bad."""
        stats = self.crawler.stats
        if entry.cfh:
            # 财富号 posts live on caifuhao.eastmoney.com, whose pages no public code parses:
            # skipped on purpose, counted (run manifest: eastmoney_skipped_cfh), never requested.
            code = entry.info_code or f"raw:{entry.code_raw!r}"
            if code not in self._cfh:
                self._cfh.add(code)
                stats.inc_value("newsarchive/eastmoney/skipped/cfh")
            self._entries.pop(code, None)
            return None
        if entry.info_code is None:
            return quarantine(
                self.source,
                "list",
                "invalid_info_code",
                f"{entry.feed} code {entry.code_raw!r} is not 18 digits (nor an NW/AN infoCode)",
                info_code_raw=entry.code_raw,
                url=entry.list_url,
                raw=entry.raw,
            )
        if self.out_of_range(entry.published_at):
            return None
        if self.media and entry.media_name and entry.media_name not in self.media:
            stats.inc_value("newsarchive/eastmoney/media_skipped")
            return None
        if not self.refetch and entry.info_code in self.run.index(self.source):
            stats.inc_value("newsarchive/skipped_archived")
            return None
        if entry.info_code in self._cfh:  # another list carries it as a plain entry: still CFH
            return None
        known = self._entries.get(entry.info_code)
        if known is None:
            self._entries[entry.info_code] = entry
            return None
        stats.inc_value("newsarchive/eastmoney/listed_again")
        first, other = (entry, known) if entry.rank < known.rank else (known, entry)
        for attr in _MERGED:  # the first list wins; the others fill its gaps
            if getattr(first, attr) is None:
                setattr(first, attr, getattr(other, attr))
        first.relative_time = first.relative_time and other.relative_time
        self._entries[entry.info_code] = first
        return None

    # --- articles ----------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[Any]:
        """Page 1 of an article: archived at once, or, when it links continuation pages
        (``<code>_2.html``…), once the last of them has answered (:meth:`parse_continuation`)."""
        entry: ListEntry = response.meta["entry"]
        try:
            page = parse_article(response.body, utcnow(), declared_type(response), response.url, self.max_article_pages)
        except FeedError as exc:
            yield self.article_rejected(response, exc)
            return
        media = entry.media_name or page.media_name
        if self.media and media not in self.media:
            # Fast news name no medium: the filter can only apply once the page says.
            self.crawler.stats.inc_value("newsarchive/eastmoney/media_skipped")
            return
        state = _Pages(first=page, url=response.url, status=response.status, bodies=[page.content_html])
        state.todo = dict(page.continuations)
        yield from self._go_on(entry, state)

    def parse_continuation(self, response: Response) -> Iterator[Any]:
        entry: ListEntry = response.meta["entry"]
        state: _Pages = response.meta["pages"]
        number = response.meta["page_number"]
        try:
            page = parse_article(response.body, utcnow(), declared_type(response), response.url, self.max_article_pages)
        except FeedError as exc:
            exc.detail = f"page {number} of the article: {exc.detail}"
            yield self.article_rejected(response, exc)
            return
        state.bodies.append(page.content_html)
        for n, url in page.continuations.items():  # a page may link pages page 1 did not
            if n not in state.done:
                state.todo.setdefault(n, url)
        yield from self._go_on(entry, state)

    def _go_on(self, entry: ListEntry, state: _Pages) -> Iterator[Any]:
        """Ask for the next continuation page (lowest number first, each once), or archive."""
        pending = sorted(n for n in state.todo if n not in state.done)
        if pending:
            number = pending[0]
            state.done.add(number)
            self.crawler.stats.inc_value("newsarchive/eastmoney/continuation_pages")
            yield scrapy.Request(
                state.todo.pop(number),
                headers=self._headers(),
                callback=self.parse_continuation,
                errback=self.article_failed,
                dont_filter=True,
                meta={
                    "newsarchive_kind": "article",
                    "download_slot": SLOT,
                    "entry": entry,
                    "pages": state,
                    "page_number": number,
                },
            )
            return
        yield self._article(entry, state)

    def _article(self, entry: ListEntry, state: _Pages) -> Article:
        page = state.first
        # A list time to the second wins; a relative one ("5分钟前") only without a page time.
        published = entry.published_at
        if published is None or (entry.relative_time and page.published_at is not None):
            published = page.published_at
        article_url = self.page_url(entry)
        return Article(
            source=self.source,
            source_id=entry.info_code,
            info_code=entry.info_code,
            title=entry.title or page.title,
            digest=entry.digest,
            media_name=entry.media_name or page.media_name,
            published_at=published,
            # every page's body in order; source_url (page 1) names the WARC record it points to
            content_html="\n".join(state.bodies),
            article_url=article_url,
            share_url=entry.url or article_url,
            source_url=state.url,
            list_url=entry.list_url,
            feed=entry.feed,
            fetched_at=utcnow(),
            http_status=state.status,
            spider=self.name,
        )

    def article_context(self, meta: dict[str, Any]) -> str:
        """A continuation page failed: the article is quarantined whole (not archived in
        part), saying which page, so a later run asks for it again."""
        return f"page {meta['page_number']} of the article: " if "page_number" in meta else ""


@dataclass
class _Pages:
    """An article being read page by page: page 1, the bodies so far, the pages to come."""

    first: ArticlePage
    url: str
    status: int
    bodies: list[str]
    #: Continuation pages known and not yet asked for: {page number: URL}.
    todo: dict[int, str] = field(default_factory=dict)
    #: Page numbers asked for (each once).
    done: set[int] = field(default_factory=set)
