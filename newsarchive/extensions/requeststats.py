"""Count requests by kind (``list``, ``text``, ``robots``, ...) for the run manifest.

Spiders tag their requests with ``meta["newsarchive_kind"]``; robots.txt requests are
recognised by path. Each attempt counts, retries included: it is what the server sees.
"""

from __future__ import annotations

from scrapy import Request, signals
from scrapy.crawler import Crawler


def kind_of(request: Request) -> str:
    kind = request.meta.get("newsarchive_kind")
    if kind:
        return str(kind)
    if request.url.split("?", 1)[0].endswith("/robots.txt"):
        return "robots"
    return "other"


class RequestKindStats:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequestKindStats:
        ext = cls(crawler)
        crawler.signals.connect(ext.request_reached_downloader, signal=signals.request_reached_downloader)
        return ext

    def request_reached_downloader(self, request: Request) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newsarchive/requests")
        self.crawler.stats.inc_value(f"newsarchive/requests/{kind_of(request)}")
