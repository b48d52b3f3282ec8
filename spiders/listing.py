"""The bookkeeping of a spider that reads paged lists before it fetches any article.

``thepaper`` and ``eastmoney`` read every list page first (a page may ask for the next),
keep the entries worth fetching by id, and only once the last list request has answered
request each kept article once, newest first. A subclass reads one raw entry, decides
whether to keep it (``admit``), and builds the requests; this class reads the settings
both share (``from_crawler``), counts the list requests still out, reads a page's entries,
quarantines the unreadable ones, applies the SINCE/UNTIL bounds, starts the articles and
quarantines an article that cannot be fetched or used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from twisted.python.failure import Failure

from newsarchive.bodies import FeedError, JsonLimits, out_of_range_paths
from newsarchive.failures import classify
from newsarchive.items import quarantine
from newsarchive.timeparse import time_fault
from spiders.base import ArchiveSpider, contained_errback
from spiders.config import apply_download_delay, base_url, time_bounds, url_path


class ListingSpider(ArchiveSpider):
    #: Publication bounds (``<SPIDER>_SINCE``/``_UNTIL`` in UTC), read in ``from_crawler``.
    since: datetime | None = None
    until: datetime | None = None
    #: Entries kept for fetching, by id (set per instance in ``from_crawler``).
    _entries: dict[str, Any]
    #: List requests sent and not yet answered: the articles wait until none is left.
    _pending: int = 0
    _articles_started: bool = False

    #: Every setting is ``<settings_prefix>_<NAME>`` (``THEPAPER_MAX_PAGES``).
    settings_prefix: ClassVar[str]
    #: The hosts' settings (``<PREFIX>_<KEY>_BASE``); the last one serves the article pages.
    host_keys: ClassVar[tuple[str, ...]]
    #: What ``<PREFIX>_ARTICLE_PATH`` must contain, and whether it may carry its own query.
    article_placeholder: ClassVar[str]
    article_query: ClassVar[bool] = True
    #: The setting naming the paged lists (``CHANNELS``), and what its ids must be (the
    #: NotConfigured message says it).
    lists_setting: ClassVar[str]
    lists_what: ClassVar[str]
    #: The setting switching the one unpaged-or-extra list on (``HOT``).
    extra_list_setting: ClassVar[str]

    # --- settings ------------------------------------------------------------------------

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        """Read the settings both paging spiders share, in the order they are checked;
        ``read_lists`` and ``configure`` read what only this spider has."""
        spider: Self = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        p = cls.settings_prefix
        bases = [base_url(s, f"{p}_{k}_BASE") for k in cls.host_keys]
        article_path = url_path(s, f"{p}_ARTICLE_PATH", query=cls.article_query)
        if cls.article_placeholder not in article_path:
            raise NotConfigured(f"{p}_ARTICLE_PATH must contain {cls.article_placeholder}")
        ids_setting, extra_setting = f"{p}_{cls.lists_setting}", f"{p}_{cls.extra_list_setting}"
        ids = [c.strip() for c in s.getlist(ids_setting) if c.strip()]
        bad = [c for c in ids if not spider.valid_list_id(c)]
        if bad:
            raise NotConfigured(f"{ids_setting} must be {cls.lists_what}, got {bad}")
        ids = list(dict.fromkeys(ids))
        extra = s.getbool(extra_setting)
        spider.read_lists(s, ids, extra)
        if not ids and not extra:
            raise NotConfigured(f"{ids_setting} is empty and {extra_setting} is off: nothing to crawl")
        spider.max_pages = s.getint(f"{p}_MAX_PAGES")
        spider.page_size = s.getint(f"{p}_PAGE_SIZE")
        if spider.max_pages < 1 or spider.page_size < 1:
            raise NotConfigured(f"{p}_MAX_PAGES and {p}_PAGE_SIZE must be at least 1")
        spider.since, spider.until = time_bounds(s, p)
        spider.article_url = bases[-1] + article_path
        spider.configure(s, bases)
        spider.referer = (s.get(f"{p}_REFERER") or "").strip()
        spider.refetch = s.getbool(f"{p}_REFETCH")
        spider.max_articles = s.getint("MAX_ARTICLES_PER_RUN")
        spider.json_limits = JsonLimits.from_settings(s)
        apply_download_delay(s, f"{p}_DOWNLOAD_DELAY")
        # Offsite protection: only the configured hosts are ever requested.
        spider.allowed_hosts = {h for h in (urlsplit(u).hostname for u in bases) if h}
        spider.allowed_domains = sorted(spider.allowed_hosts)
        spider._entries = {}
        return spider

    def valid_list_id(self, value: str) -> bool:
        """Whether an id of ``<PREFIX>_<lists_setting>`` is one."""
        raise NotImplementedError

    def read_lists(self, settings: Any, ids: list[str], extra: bool) -> None:
        """Keep the lists to page (``ids``, checked, without duplicates) and whether the
        extra list is on, and check what goes with them."""
        raise NotImplementedError

    def configure(self, settings: Any, bases: list[str]) -> None:
        """Read the settings only this spider has (its list URLs from ``bases``)."""

    # --- hooks ---------------------------------------------------------------------------

    def admit(self, entry: Any) -> Any:
        """Keep ``entry`` for fetching (in ``_entries``) if it should be; return a
        quarantine record if it is bad, None otherwise."""
        raise NotImplementedError

    def article_request(self, entry: Any) -> Any:
        raise NotImplementedError

    def list_context(self, meta: dict[str, Any]) -> str:
        """What a failed list request was (``"channel 25951 page 2: "``), for its quarantine detail."""
        return ""

    def fetchable(self) -> list[Any]:
        """The kept entries whose article has not been requested yet."""
        return list(self._entries.values())

    # --- lists ---------------------------------------------------------------------------

    def list_sent(self) -> None:
        self._pending += 1

    def list_answered(self, meta: dict[str, Any]) -> None:
        """Called first by every list callback (with its ``response.meta``); its last step is
        :meth:`maybe_fetch_articles`. Counts each list request once, even when a recovery
        (:meth:`after_list`) calls it again."""
        if self.first_answer(meta):
            self._pending -= 1

    def after_list(self, meta: dict[str, Any]) -> Iterator[Any]:
        """A list callback raised (before or after counting its answer): the other lists'
        articles are still requested once the last one answers."""
        self.list_answered(meta)
        yield from self.maybe_fetch_articles()

    @contained_errback
    def list_failed(self, failure: Failure) -> Iterator[Any]:
        self.list_answered(failure.request.meta)
        reason, detail, status = classify(failure)
        detail = self.list_context(failure.request.meta) + detail
        yield from self.list_unusable(failure.request.url, reason, detail, status)
        yield from self.maybe_fetch_articles()

    def take(
        self,
        raws: list[Any],
        feed: str,
        list_url: str,
        read_one: Callable[[Any, int], Any],
        read: list[Any],
    ) -> Iterator[Any]:
        """Read a list's entries (``read_one(raw, position)``, appended to ``read``), admit
        the ones to fetch, and yield the quarantine records of the bad ones.

        An entry holding a number the archive cannot hold (JSON_MAX_INT_DIGITS, ``1e999``) is
        quarantined ``number_out_of_range`` unread (None in ``read``); so is an entry whose
        time is a number (or date) that is no plausible time, after it was read."""
        stats = self.crawler.stats
        parsed = []
        for position, raw in enumerate(raws):
            stats.inc_value("newsarchive/records/seen")
            huge = out_of_range_paths(raw)
            entry = None if huge else read_one(raw, position)
            read.append(entry)
            parsed.append((raw, entry, huge))
        # one question to the archive for the whole page, not one per entry
        self.run.index(self.source).prefetch(self.entry_id(e) for _, e, _ in parsed if e is not None)
        for raw, entry, huge in parsed:
            if huge:
                detail = f"{feed} entry holds a number the archive cannot hold: {', '.join(huge)}"
                yield quarantine(self.source, "list", "number_out_of_range", detail, url=list_url, raw=raw)
                continue
            if entry is None:
                detail = f"{feed} entry is a {type(raw).__name__}, not an object"
                yield quarantine(self.source, "list", "bad_record", detail, url=list_url, raw=raw)
                continue
            time_raw = getattr(entry, "time_raw", None)
            if time_raw is not None and entry.published_at is None:
                reason, detail = time_fault(time_raw, f"{feed} entry time")
                if reason == "number_out_of_range":
                    yield quarantine(self.source, "list", reason, detail, url=list_url, raw=raw)
                    continue
            problem = self.admit(entry)
            if problem is not None:
                yield problem

    @staticmethod
    def entry_id(entry: Any) -> str | None:
        """The id an entry is archived under (an infoCode, a contId)."""
        return getattr(entry, "info_code", None) or getattr(entry, "cont_id", None)

    def out_of_range(self, published: datetime | None) -> bool:
        """Published before SINCE or after UNTIL (counted); an undated entry is kept."""
        if published is None:
            return False
        if (self.since is not None and published < self.since) or (self.until is not None and published > self.until):
            self.crawler.stats.inc_value(f"newsarchive/{self.source}/out_of_range")
            return True
        return False

    # --- articles ------------------------------------------------------------------------

    def maybe_fetch_articles(self) -> Iterator[Any]:
        """Once every list page has answered, request each new article's page once."""
        if self._pending > 0 or self._articles_started:
            return
        self._articles_started = True
        entries = self.fetchable()
        self.crawler.stats.set_value("newsarchive/records/unique", len(self._entries))
        entries.sort(key=lambda e: e.rank)  # list order breaks ties in time
        for entry in self.newest_within_limit(entries):
            yield self.article_request(entry)

    def article_rejected(self, response: Response, exc: FeedError) -> Any:
        """The quarantine record of an article response that cannot be used."""
        return self.response_rejected(response, exc, self.entry_id(response.meta["entry"]))

    def article_context(self, meta: dict[str, Any]) -> str:
        """What a failed article request was beyond its entry (``"page 2 of the article: "``)."""
        return ""

    @contained_errback
    def article_failed(self, failure: Failure) -> Iterator[Any]:
        """An article request failed for good: quarantined, so a later run asks again."""
        meta = failure.request.meta
        row = self.fetch_failed(failure, self.entry_id(meta["entry"]))
        context = self.article_context(meta)
        if context:
            row["detail"] = context + row["detail"]
        yield row
