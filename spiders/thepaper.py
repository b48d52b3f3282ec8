"""``thepaper``: 澎湃新闻 straight from thepaper.cn, with the fields only the source has.

A run pages through the channel lists in ``THEPAPER_CHANNELS`` and reads the hot list,
merges their entries by contId (one page request per contId however many lists carry it;
the entry from the earliest list wins ``feed`` and ``list_url``), then fetches the page of
each article not yet archived and reads it from its ``__NEXT_DATA__`` JSON (or, without
it, from the article markup). Every request goes to one of the three configured hosts,
through one download slot, at most one every ``THEPAPER_DOWNLOAD_DELAY`` seconds.
Formats and decisions: ``docs/thepaper.md``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Response

from newsarchive.bodies import FeedError
from newsarchive.items import Article, quarantine
from newsarchive.timeparse import utcnow
from spiders.base import declared_type, excerpt
from spiders.config import url_path
from spiders.listing import ListingSpider
from spiders.thepaper_articles import ArticlePage, PageError, parse_article
from spiders.thepaper_fields import valid_channel_id
from spiders.thepaper_lists import ListEntry, is_offsite, parse_channel_page, parse_hot, read_entry, stop_paging

SOURCE = "thepaper"
#: All requests share this download slot, so the delay holds across the three hosts.
SLOT = "thepaper"


class ThepaperSpider(ListingSpider):
    name = "thepaper"
    supports_backfill = True
    source = SOURCE

    settings_prefix = "THEPAPER"
    host_keys = ("API", "CACHE", "WEB")
    article_placeholder = "{cont_id}"
    lists_setting = "CHANNELS"
    lists_what = "numeric channel ids (negative ones too: -21)"
    extra_list_setting = "HOT"

    def valid_list_id(self, value: str) -> bool:
        return valid_channel_id(value) is not None

    def read_lists(self, settings: Any, ids: list[str], extra: bool) -> None:
        self.channels = ids
        self.hot = extra
        self.hot_lists = [k.strip() for k in settings.getlist("THEPAPER_HOT_LISTS") if k.strip()]

    def configure(self, settings: Any, bases: list[str]) -> None:
        s = settings
        api, cache, _web = bases
        self.channel_url = api + url_path(s, "THEPAPER_CHANNEL_PATH")
        self.hot_url = cache + url_path(s, "THEPAPER_HOT_PATH")
        self.content_type = (s.get("THEPAPER_CONTENT_TYPE") or "").strip()
        self.follow_topics = s.getbool("THEPAPER_FOLLOW_TOPICS")
        self._requested: set[str] = set()
        #: contIds quarantined from a list this run (an offsite link): never fetched, so
        #: done as far as paging is concerned.
        self._refused: set[str] = set()

    # --- requests ----------------------------------------------------------------------

    def _headers(self, *, json_body: bool = False) -> dict[str, str]:
        headers = {"Referer": self.referer} if self.referer else {}
        if json_body and self.content_type:
            headers["Content-Type"] = self.content_type
        return headers

    def _channel_request(self, channel: str, page: int, cursors: tuple[int | str, ...] = ()) -> scrapy.Request:
        """Page ``page`` of ``channel``: the site pages by the last ``startTime`` it handed
        out (``cursors``, oldest first; the first page sends ``""``). ``pageNum`` is sent
        as public clients do, but the site ignores it."""
        body = {
            "channelId": channel,
            "pageNum": page,
            "pageSize": self.page_size,
            "startTime": cursors[-1] if cursors else "",
            "excludeContIds": [],
            "listRecommendIds": [],
        }
        self.list_sent()
        return scrapy.Request(
            self.channel_url,
            method="POST",
            body=json.dumps(body, separators=(",", ":")),
            headers=self._headers(json_body=True),
            callback=self.parse_channel,
            errback=self.list_failed,
            dont_filter=True,
            meta={
                "newsarchive_kind": "list",
                "download_slot": SLOT,
                "channel": channel,
                "page": page,
                "cursors": cursors,
            },
        )

    def _hot_request(self) -> scrapy.Request:
        self.list_sent()
        return scrapy.Request(
            self.hot_url,
            headers=self._headers(),
            callback=self.parse_hot,
            errback=self.list_failed,
            dont_filter=True,
            meta={"newsarchive_kind": "list", "download_slot": SLOT},
        )

    def article_request(self, entry: ListEntry) -> scrapy.Request:
        assert entry.cont_id is not None
        self._requested.add(entry.cont_id)
        return scrapy.Request(
            self.article_url.format(cont_id=entry.cont_id),
            headers=self._headers(),
            callback=self.parse_article,
            errback=self.article_failed,
            dont_filter=True,
            meta={"newsarchive_kind": "article", "download_slot": SLOT, "entry": entry},
        )

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for channel in self.channels:
            yield self._channel_request(channel, 1)
        if self.hot:
            yield self._hot_request()

    # --- lists -------------------------------------------------------------------------

    def parse_channel(self, response: Response) -> Iterator[Any]:
        self.list_answered(response.meta)
        channel, page_num = response.meta["channel"], response.meta["page"]
        try:
            page = parse_channel_page(response.body, declared_type(response), self.json_limits)
        except FeedError as exc:
            detail = f"channel {channel} page {page_num}: {exc.detail}"
            yield from self.list_unusable(response.url, exc.reason, detail, response.status, excerpt(response))
        else:
            self.crawler.stats.inc_value("newsarchive/lists/ok")
            order = self.channels.index(channel)
            entries: list[ListEntry | None] = []
            yield from self._take(page.entries, f"channel-{channel}", response.url, (order, page_num), entries)
            index = self.run.index(self.source)
            refused = self._refused

            def archived(cid: str) -> bool:
                return not self.refetch and (cid in index or cid in refused)

            cursors = tuple(response.meta.get("cursors") or ())
            why = stop_paging(page, entries, page_num, self.max_pages, self.since, archived, cursors)
            if why is None:
                assert page.start_time is not None
                yield self._channel_request(channel, page_num + 1, (*cursors, page.start_time))
            else:
                self.crawler.stats.inc_value(f"newsarchive/thepaper/stop/{why}")
                self.logger.info("Channel %s: stop after page %d (%s)", channel, page_num, why)
        yield from self.maybe_fetch_articles()

    def parse_hot(self, response: Response) -> Iterator[Any]:
        self.list_answered(response.meta)
        try:
            pairs = parse_hot(response.body, self.hot_lists, declared_type(response), self.json_limits)
        except FeedError as exc:
            yield from self.list_unusable(response.url, exc.reason, exc.detail, response.status, excerpt(response))
        else:
            self.crawler.stats.inc_value("newsarchive/lists/ok")
            raws = [raw for _, raw in pairs]
            yield from self._take(raws, "hot", response.url, (len(self.channels), 1), [])
        yield from self.maybe_fetch_articles()

    def list_context(self, meta: dict[str, Any]) -> str:
        return f"channel {meta['channel']} page {meta['page']}: " if "channel" in meta else ""

    def _take(self, raws: list[Any], feed: str, list_url: str, rank: tuple[int, int], read: list[Any]) -> Iterator[Any]:
        return self.take(raws, feed, list_url, lambda raw, n: read_entry(raw, feed, list_url, (*rank, n)), read)

    def admit(self, entry: ListEntry) -> Any:
        """Keep an entry for fetching if it should be; return a quarantine record if it is bad."""
        stats = self.crawler.stats
        if entry.cont_id_raw in (None, ""):
            # Headers and separators (a morningEveningNews title row, say) carry no contId.
            stats.inc_value("newsarchive/thepaper/entries_without_id")
            return None
        if entry.cont_id is None:
            return quarantine(
                self.source,
                "list",
                "invalid_id",
                f"contId {entry.cont_id_raw!r} is not 1-12 digits",
                info_code_raw=entry.cont_id_raw,
                url=entry.list_url,
                raw=entry.raw,
            )
        if is_offsite(entry.link, self.allowed_hosts):
            stats.inc_value("newsarchive/thepaper/offsite_links")
            self._refused.add(entry.cont_id)
            return quarantine(
                self.source,
                "list",
                "offsite",
                f"{entry.feed} entry {entry.cont_id} links to {entry.link}, outside the configured hosts",
                info_code_raw=entry.cont_id,
                url=entry.link,
                raw=entry.raw,
            )
        if self.out_of_range(entry.published_at):
            return None
        if not self.refetch and entry.cont_id in self.run.index(self.source):
            stats.inc_value("newsarchive/skipped_archived")
            return None
        known = self._entries.get(entry.cont_id)
        if known is not None or entry.cont_id in self._requested:
            stats.inc_value("newsarchive/thepaper/listed_again")
        if known is None or entry.rank < known.rank:
            self._entries[entry.cont_id] = entry
        return None

    # --- articles ----------------------------------------------------------------------

    def fetchable(self) -> list[Any]:
        return [e for cid, e in self._entries.items() if cid not in self._requested]

    def parse_article(self, response: Response) -> Iterator[Any]:
        entry: ListEntry = response.meta["entry"]
        try:
            page = parse_article(
                response.body,
                entry.cont_id,
                base=response.url,
                content_type=declared_type(response),
                limits=self.json_limits,
            )
        except FeedError as exc:
            yield self.article_rejected(response, exc)
            if isinstance(exc, PageError) and exc.follow and self.follow_topics:
                yield from self._follow(exc.follow, entry, response.url)
            return
        if page.kind != "article":
            self.crawler.stats.inc_value(f"newsarchive/thepaper/archived_from/{page.kind}")
        yield self._article(entry, page, response)

    def _follow(self, raws: list[dict[str, Any]], topic: ListEntry, url: str) -> Iterator[Any]:
        """Request the articles a special topic lists (each once, if not archived)."""
        before = set(self._entries)
        read: list[ListEntry | None] = []
        yield from self._take(raws, f"topic-{topic.cont_id}", url, (len(self.channels) + 1, 1), read)
        budget = self.max_articles - len(self._requested) if self.max_articles else len(raws)
        for entry in read:
            cid = entry.cont_id if entry is not None else None
            if cid and cid not in before and cid in self._entries and cid not in self._requested and budget > 0:
                budget -= 1
                self.crawler.stats.inc_value("newsarchive/thepaper/followed")
                yield self.article_request(self._entries[cid])

    def _article(self, entry: ListEntry, page: ArticlePage, response: Response) -> Any:
        assert entry.cont_id is not None
        published: datetime | None = page.published_at or entry.published_at
        return Article(
            source=self.source,
            source_id=entry.cont_id,
            info_code=None,
            title=page.title or entry.title,
            digest=page.digest,
            media_name=page.media_name,
            published_at=published,
            content_html=page.content_html,
            author=page.author or entry.author,
            editors=page.editors,
            channel=page.channel or entry.channel,
            tags=page.tags,
            image_urls=page.image_urls,
            updated_at=page.updated_at,
            article_url=self.article_url.format(cont_id=entry.cont_id),
            source_url=response.url,
            list_url=entry.list_url,
            feed=entry.feed,
            fetched_at=utcnow(),
            http_status=response.status,
            spider=self.name,
        )
