"""Answer every request from recorded WARC files, never from the network (``WARC_REPLAY_PATHS``).

``newsarchive reparse`` runs the original spider with this downloader middleware in the
downloader's place (960, after the capture position): each request is matched by method,
URL and body to the last outcome recorded for it and answered with the recorded response
(status, headers, body as received: decompression, retries, redirects and robots.txt then
happen as they did), or fails as the recorded attempt failed. A request the files do not
hold fails with reason ``not_in_warc``. Nothing ever reaches the downloader.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from newsarchive.warc.evidence import Evidence
from newsarchive.warc.reader import Outcome, body_key, iter_outcomes, read_warcinfo, record_at
from newsarchive.warc.writer import ORIG_PREFIX, WarcPointer
from newsarchive.workdir import WorkDir

logger = logging.getLogger(__name__)

RequestKey = tuple[str, str, str]


class NotInWarc(IgnoreRequest):
    """The WARC files being replayed hold no answer to this request."""

    quarantine_reason = "not_in_warc"


class RecordedFailure(IgnoreRequest):
    """The recorded attempt got no response; replayed with the reason recorded then."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail or reason)
        self.quarantine_reason = reason


class ReplayIndex:
    """The last recorded outcome of every request in a set of WARC files."""

    def __init__(self) -> None:
        self.outcomes: dict[RequestKey, Outcome] = {}
        self.keys: dict[Path, str] = {}  # file → archive key recorded in its warcinfo

    @classmethod
    def load(cls, paths: Iterable[str | Path], root: Path | None = None) -> ReplayIndex:
        index = cls()
        for raw in paths:
            path = Path(raw).expanduser().resolve()
            info = read_warcinfo(path)
            key = info.key if info and info.key else None
            if key is None:
                try:
                    key = path.relative_to(root).as_posix() if root else path.name
                except ValueError:
                    key = path.name
            index.keys[path] = key
            for outcome in iter_outcomes(path):
                index.outcomes[(outcome.method, outcome.url, outcome.body_sha256)] = outcome
        return index

    def __len__(self) -> int:
        return len(self.outcomes)

    def lookup(self, request: Request) -> Outcome | None:
        return self.outcomes.get((request.method.upper(), request.url, body_key(request.body)))

    def pointer(self, outcome: Outcome) -> WarcPointer:
        assert outcome.raw_sha256 is not None and outcome.date is not None
        return WarcPointer(self.keys[outcome.path], outcome.offset, outcome.length, outcome.raw_sha256, outcome.date)

    def response(self, outcome: Outcome, request: Request) -> Response:
        """The recorded response, rebuilt as Scrapy's downloader would have returned it."""
        record = record_at(outcome.path, outcome.offset, outcome.length)
        http = record.http_headers
        headers = Headers()
        for name, value in http.headers:
            if name.startswith(ORIG_PREFIX):  # how the bytes travelled, not what they are
                continue
            headers.appendlist(name, value.encode("latin-1", "replace"))
        body = record.raw_stream.read()
        respcls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return respcls(
            url=request.url,
            status=int(http.get_statuscode()),
            headers=headers,
            body=body,
            flags=["warc"],
            request=request,
            protocol=http.protocol or None,
        )


class WarcReplay:
    def __init__(self, crawler: Crawler, index: ReplayIndex) -> None:
        self.crawler = crawler
        self.index = index
        self.evidence = Evidence.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcReplay:
        paths = crawler.settings.getlist("WARC_REPLAY_PATHS")
        if not paths:
            raise NotConfigured  # off unless reparse sets WARC_REPLAY_PATHS: the normal case, not worth a warning
        index = ReplayIndex.load(paths, WorkDir.from_uri(str(crawler.settings.get("ARCHIVE_URI") or "./archive")).root)
        logger.info("Replaying %d recorded requests from %d WARC files", len(index), len(paths))
        return cls(crawler, index)

    def process_request(self, request: Request) -> Response:
        """Never returns None: a request is answered from the files or refused."""
        stats = self.crawler.stats
        assert stats is not None
        outcome = self.index.lookup(request)
        if outcome is None:
            stats.inc_value("newsarchive/replay/not_in_warc")
            raise NotInWarc(f"{request.method} {request.url} is not in the WARC files being replayed")
        if outcome.failure is not None:
            stats.inc_value("newsarchive/replay/failures")
            raise RecordedFailure(*outcome.failure)
        stats.inc_value("newsarchive/replay/responses")
        response = self.index.response(outcome, request)
        self.evidence.record(request, self.index.pointer(outcome))
        return response
