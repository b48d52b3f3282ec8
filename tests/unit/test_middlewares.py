"""newsarchive/middlewares: contain (a callback's exception → the spider's recovery) and offsite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from crawler import UnitSpider, build
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

from newsarchive.middlewares.contain import ContainCallbackErrors
from newsarchive.middlewares.offsite import StrictOffsiteMiddleware


class RecoveringSpider(UnitSpider):
    allowed_domains = ("127.0.0.1",)

    def callback_failed(self, response: Response, exc: Exception) -> list[Any]:
        return [("recovered", response.url, type(exc).__name__)]


def test_a_callback_exception_becomes_the_spiders_recovery(new_crawler: Callable[..., Crawler]) -> None:
    crawler = new_crawler(spidercls=RecoveringSpider)
    mw = build(ContainCallbackErrors, crawler)
    response = Response("http://127.0.0.1/list")
    assert list(mw.process_spider_exception(response, KeyError("x"))) == [
        ("recovered", "http://127.0.0.1/list", "KeyError")
    ]


def test_scrapys_own_exceptions_pass_through(new_crawler: Callable[..., Crawler]) -> None:
    crawler = new_crawler(spidercls=RecoveringSpider)
    mw = build(ContainCallbackErrors, crawler)
    response = Response("http://127.0.0.1/list")
    assert mw.process_spider_exception(response, IgnoreRequest()) is None
    assert mw.process_spider_exception(response, HttpError(response)) is None


def test_a_spider_without_recovery_is_left_alone(crawler: Crawler) -> None:
    mw = build(ContainCallbackErrors, crawler)
    assert mw.process_spider_exception(Response("http://127.0.0.1/"), KeyError("x")) is None


def test_offsite_refuses_other_hosts_even_with_dont_filter(new_crawler: Callable[..., Crawler]) -> None:
    crawler = new_crawler(spidercls=RecoveringSpider)
    mw = build(StrictOffsiteMiddleware, crawler)
    assert mw.process_request(Request("http://127.0.0.1:8765/x", dont_filter=True)) is None
    with pytest.raises(IgnoreRequest, match=r"evil\.example"):
        mw.process_request(Request("http://evil.example/x", dont_filter=True))
    assert crawler.stats.get_value("offsite/filtered") == 1  # type: ignore[union-attr]
    assert mw.process_request(Request("http://evil.example/x", meta={"allow_offsite": True})) is None
