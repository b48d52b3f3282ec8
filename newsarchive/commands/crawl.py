"""``scrapy crawl``, except that a spider refusing its settings stops the command with one line.

Scrapy 2.19 lets a ``NotConfigured`` raised by a spider's ``from_crawler`` escape the
crawl's asyncio task: asyncio logs "Task exception was never retrieved" with a traceback
and the command exits 1, which buries the reason (e.g. finews without its hosts). Here the
failure is read when the task ends: ``NotConfigured`` becomes one ERROR line, ``spider
'finews' is not configured: <reason>``, and exit code 2 (bad usage, as ``newsarchive
crawl``); any other failure is logged with its traceback, as before. Nothing was created
then (no engine, no run, no request): the spider refused first.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)

#: Exit code of a spider that refused its settings (``newsarchive crawl`` uses the same).
EXIT_USAGE = 2


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's own usage errors
            return
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        refused: list[NotConfigured] = []

        def bootstrap_failed(exc: BaseException | None) -> None:
            if isinstance(exc, NotConfigured):
                refused.append(exc)
                logger.error("spider %r is not configured: %s", crawler.spidercls.name, exc)
            elif exc is not None:
                logger.error("Crawl of %r failed", crawler.spidercls.name, exc_info=exc)

        started: Any = self.crawler_process.crawl(crawler, **opts.spargs)
        if hasattr(started, "add_done_callback"):  # AsyncCrawlerProcess: an asyncio task
            started.add_done_callback(lambda task: None if task.cancelled() else bootstrap_failed(task.exception()))
        else:  # CrawlerProcess (FORCE_CRAWLER_PROCESS): a Deferred
            started.addErrback(lambda failure: bootstrap_failed(failure.value))
        self.crawler_process.start()
        if refused:
            self.exitcode = EXIT_USAGE
        elif self.crawler_process.bootstrap_failed:
            self.exitcode = 1
