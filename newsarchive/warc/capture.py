"""Keep every request and response of a run in WARC files (``WARC_ENABLED``).

A **downloader middleware** next to the downloader (``DOWNLOADER_MIDDLEWARES``, 950,
  after every built-in one): it sees each attempt exactly as sent and as received, before
  decompression, retries, redirects and robots.txt included (robots.txt is fetched through
  the engine, so through the middlewares). A response becomes a ``request`` + ``response``
  record pair; an attempt that got no response (timeout, refused connection, too large)
  becomes a ``request`` + ``metadata`` record naming the failure. When the run ends, before
  its commits, the files get their final names and the run's ``runs`` row lists them.

The records are written by the run's writer (:mod:`newsarchive.writer`): in the writer
process by default, where the SHA-256 digests and the gzip of each record cost the crawler
nothing; the middleware hands over the bytes as they are. Each response's pointer is then
pending (its sequence number) until the writer puts the real one on the rows that cite it.

Requests are recorded without their credentials (:func:`http_request`): a password in a
configured URL or an ``Authorization`` header would otherwise travel in every WARC file
uploaded; responses are the evidence and stay exactly as received.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from newsarchive import __version__
from newsarchive.extensions.archiverun import ArchiveRun, WarcFile, shaping_settings
from newsarchive.failures import classify
from newsarchive.timeparse import beijing_date, utcnow
from newsarchive.warc.evidence import POINTER_KEY, Evidence
from newsarchive.warc.writer import WARC_VERSION, HttpRequest, HttpResponse
from newsarchive.writer.client import WriterClient
from newsarchive.writer.work import RawRequest, RawResponse, WarcTarget, recorded_request, recorded_response

logger = logging.getLogger(__name__)
#: ``request.meta`` flag: this attempt went past the capture middleware to the network.
_SENT = "_newsarchive_warc_sent"


def _headers(headers: Any) -> list[tuple[bytes, bytes]]:
    # the stored (normalised) keys as they are: Headers.items() would normalise each again
    return [(k, v) for k, values in dict.items(headers) for v in values]


def raw_request(request: Request, protocol: str | None = None) -> RawRequest:
    return (request.method, request.url, _headers(request.headers), request.body, protocol or "HTTP/1.1")


def raw_response(response: Response) -> RawResponse:
    ip = str(response.ip_address) if response.ip_address else None
    return (response.status, _headers(response.headers), response.body, response.protocol or "HTTP/1.1", ip)


def http_request(request: Request, protocol: str | None = None, secrets: frozenset[str] = frozenset()) -> HttpRequest:
    """The request as it is recorded (:func:`~newsarchive.writer.work.recorded_request`:
    its credentials masked, the run's ``secrets`` among them)."""
    return recorded_request(raw_request(request, protocol), secrets)


def http_response(response: Response) -> HttpResponse:
    return recorded_response(raw_response(response))


class WarcCapture:
    """Downloader middleware: every exchange, as sent and as received, into the run's WARC files."""

    def __init__(
        self,
        crawler: Crawler,
        run: ArchiveRun,
        evidence: Evidence,
        writer: WriterClient,
        *,
        max_size: int,
        gzip_level: int,
        robots: bool,
        user_agent: str | None,
    ) -> None:
        self.crawler = crawler  # for the spider's name, known once the crawl runs
        self.run = run
        self.evidence = evidence
        self.max_size = max_size
        self.gzip_level = gzip_level
        self.robots = robots
        self.user_agent = user_agent
        self.writer = writer
        writer.use("warc")
        writer.warc_target = self.target
        self.run.before_commit(self.publish)  # the runs row lists the finished files
        self._recorded = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED"):
            raise NotConfigured("WARC_ENABLED is off")
        if settings.getlist("WARC_REPLAY_PATHS"):
            raise NotConfigured("replaying WARC files: nothing new to capture")
        return cls(
            crawler,
            ArchiveRun.of(crawler),  # extensions are built before the downloader's middlewares
            Evidence.of(crawler),
            WriterClient.of(crawler),
            max_size=settings.getint("WARC_MAX_SIZE"),
            gzip_level=settings.getint("WARC_GZIP_LEVEL"),
            robots=settings.getbool("ROBOTSTXT_OBEY"),
            user_agent=settings.get("USER_AGENT"),
        )

    def target(self) -> WarcTarget:
        """Where and how the writer writes this run's WARC files."""
        return WarcTarget(
            str(self.run.workdir.root),
            beijing_date(self.run.started_at),
            self.max_size,
            self.gzip_level,
            self._warcinfo(),
        )

    def _warcinfo(self) -> dict[str, Any]:
        """What a reparse needs to know: which spider, run and settings made the file."""
        spider = self.crawler.spider
        name = getattr(spider, "name", None) or getattr(self.crawler.spidercls, "name", "")
        info = {
            "software": f"newsarchive/{__version__}",
            "format": f"WARC File Format {WARC_VERSION.split('/')[1]}",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "isPartOf": self.run.run_id,
            "robots": "obey" if self.robots else "ignore",
            "http-header-user-agent": self.user_agent,
            "newsarchive-run-id": self.run.run_id,
            "newsarchive-spider": name,
            "newsarchive-source": getattr(spider, "source", name),
            "newsarchive-started-at": self.run.started_at.isoformat(),
            "newsarchive-pipeline-version": self.run.pipeline_version,
            "newsarchive-settings": json.dumps(shaping_settings(self.crawler), ensure_ascii=False),
        }
        return {k: self.run.redact(v) if isinstance(v, str) else v for k, v in info.items()}

    # --- downloader middleware --------------------------------------------------------

    def process_request(self, request: Request) -> None:
        request.meta.pop(POINTER_KEY, None)  # a retry's copy of the previous attempt's
        request.meta[_SENT] = True

    def process_response(self, request: Request, response: Response) -> Response:
        if not request.meta.pop(_SENT, False):  # answered before reaching us (a cache)
            return response
        try:
            pointer = self.writer.exchange(raw_request(request, response.protocol), raw_response(response), utcnow())
        except Exception as exc:
            self._failed(exc)
        else:
            self._recorded = True
            if pointer is not None:  # None: the writer could not record it, and said so
                self.evidence.record(request, pointer)
                self._count("responses")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not request.meta.pop(_SENT, False):  # refused before the network (robots, offsite)
            return
        reason, detail, _ = classify(exception)
        try:
            written = self.writer.failure(raw_request(request), utcnow(), reason, self.run.redact(detail))
        except Exception as exc:
            self._failed(exc)
        else:
            self._recorded = True
            if written:
                self._count("failures")

    def _count(self, what: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newsarchive/warc/{what}")

    def _failed(self, exc: Exception) -> None:
        problem = f"WARC capture failed: {type(exc).__name__}: {exc}"
        if problem not in self.run.problems:
            self.run.problems.append(problem)
            logger.error(problem, exc_info=exc)

    # --- extension --------------------------------------------------------------------

    def publish(self) -> None:
        """Give every WARC file its final name and list it in the run (before its commits)."""
        if not self._recorded:
            return
        try:
            files = self.writer.finish_warc()
        except Exception as exc:
            self.run.problems.append(f"publishing WARC files failed: {type(exc).__name__}: {exc}")
            logger.exception("Publishing WARC files failed")
            return
        self.run.warc_files.extend(WarcFile(f.key, f.bytes, f.sha256, f.records or 0) for f in files)
        logger.info("WARC: %d files, %d bytes", len(files), sum(f.bytes for f in files))
