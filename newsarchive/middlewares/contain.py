"""Any exception escaping a spider callback costs that response only.

Scrapy calls ``process_spider_exception`` when a callback raises, before its first result
or in the middle of its generator; unhandled, the exception is logged and the rest of the
callback's output is lost, and with it whatever the callback was to do next (after the last
list answers, request the articles). This middleware asks the spider for a recovery,
:meth:`spiders.base.ArchiveSpider.callback_failed`: an ``internal_error`` quarantine row
naming the exception and the URL, and, for a list, the step that was to follow, so the
other lists' articles are still requested. Items the callback yielded before it raised
have already gone on their way.

Exceptions Scrapy means for other middlewares (``HttpError``, handled by
``HttpErrorMiddleware``; ``IgnoreRequest``) pass through untouched, as do spiders that
offer no recovery.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

#: Not accidents of parsing: Scrapy's own control flow.
PASSED_THROUGH: tuple[type[BaseException], ...] = (HttpError, IgnoreRequest)


class ContainCallbackErrors:
    """Spider middleware: a callback's exception becomes the spider's recovery output."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContainCallbackErrors:
        return cls(crawler)

    def process_spider_exception(self, response: Response, exception: Exception) -> Iterable[Any] | None:
        if isinstance(exception, PASSED_THROUGH):
            return None
        recover = getattr(self.crawler.spider, "callback_failed", None)
        if recover is None:
            return None
        output: Iterable[Any] = recover(response, exception)
        return output
