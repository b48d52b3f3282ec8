"""The bookkeeping of a spider that reads paged lists before it fetches any article.

``thepaper`` and ``eastmoney`` read every list page first (a page may ask for the next),
keep the entries worth fetching by id, and only once the last list request has answered
request each kept article once, newest first. A subclass reads one raw entry, decides
whether to keep it (``admit``), and builds the requests; this class counts the list
requests still out, reads a page's entries, quarantines the unreadable ones, applies the
SINCE/UNTIL bounds and starts the articles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from twisted.python.failure import Failure

from newsarchive.bodies import out_of_range_paths
from newsarchive.failures import classify
from newsarchive.items import quarantine
from newsarchive.timeparse import time_fault
from spiders.base import ArchiveSpider, contained_errback


class ListingSpider(ArchiveSpider):
    #: Publication bounds (``<SPIDER>_SINCE``/``_UNTIL`` in UTC), read in ``from_crawler``.
    since: datetime | None = None
    until: datetime | None = None
    #: Entries kept for fetching, by id (set per instance in ``from_crawler``).
    _entries: dict[str, Any]
    #: List requests sent and not yet answered: the articles wait until none is left.
    _pending: int = 0
    _articles_started: bool = False

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
