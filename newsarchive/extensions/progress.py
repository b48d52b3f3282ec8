"""A live progress line for a crawl on a terminal: requests, articles and quarantined so far.

Off unless PROGRESS_ENABLED (the ``newsarchive`` command sets it; ``scrapy crawl`` and the
Airflow job do not), and even then only when stderr is a terminal: a log, a pipe or CI
never sees it. Wired by signals only; it changes nothing in the crawl.
"""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive.cli.console import Meter
from newsarchive.items import Quarantined


class CrawlProgress:
    def __init__(self, crawler: Crawler, meter: Meter) -> None:
        self.crawler = crawler
        self.meter = meter
        self.requests = self.responses = self.articles = self.quarantined = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        if not crawler.settings.getbool("PROGRESS_ENABLED"):
            raise NotConfigured  # no args: Scrapy would log a warning
        assert crawler.spidercls is not None
        meter = Meter(f"crawl {crawler.spidercls.name}")
        if not meter.live:
            raise NotConfigured  # stderr is not a terminal
        ext = cls(crawler, meter)
        connect = crawler.signals.connect
        connect(ext.opened, signal=signals.spider_opened)
        connect(ext.request, signal=signals.request_reached_downloader)
        connect(ext.response, signal=signals.response_received)
        connect(ext.item, signal=signals.item_scraped)
        # before ArchiveRun's own spider_closed (this extension comes first in EXTENSIONS):
        # the line says the run is committing while it does; it goes when the engine stops
        connect(ext.closing, signal=signals.spider_closed)
        connect(ext.closed, signal=signals.engine_stopped)
        return ext

    def line(self) -> str:
        return (
            f"{self.requests} requests, {self.responses} responses, "
            f"{self.articles} articles, {self.quarantined} quarantined"
        )

    def opened(self) -> None:
        self.meter.start()
        self.meter.update(detail=self.line())

    def request(self) -> None:
        self.requests += 1
        self.meter.update(detail=self.line())

    def response(self) -> None:
        self.responses += 1
        self.meter.update(detail=self.line())

    def item(self, item: Any) -> None:
        if isinstance(item, Quarantined):
            self.quarantined += 1
        else:
            self.articles += 1
        self.meter.update(detail=self.line())

    def closing(self) -> None:
        self.meter.update(description=f"crawl {self.crawler.spidercls.name}: committing", detail=self.line())

    def closed(self) -> None:
        self.meter.stop()
