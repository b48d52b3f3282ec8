"""pipelines/guard.py: one item's exception becomes one internal_error row, not a lost item."""

from __future__ import annotations

from typing import Any

import pytest
from crawler import article
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsarchive.items import Quarantined
from newsarchive.tables.sink import WriteFailed
from pipelines.guard import contained


class Stage:
    def __init__(self, crawler: Crawler, exc: BaseException) -> None:
        self.crawler = crawler
        self.exc = exc

    @contained("normalise")
    def process_item(self, item: Any) -> Any:
        raise self.exc


def test_an_exception_becomes_an_internal_error_row(crawler: Crawler) -> None:
    out = Stage(crawler, KeyError("boom")).process_item(article(content_html="<p>x</p>"))
    assert isinstance(out, Quarantined)
    assert (out["source"], out["stage"], out["reason"]) == ("finews", "normalise", "internal_error")
    assert "KeyError" in out["detail"] and "boom" in out["detail"]
    assert out["info_code_raw"] == "NW202611270000000001"
    assert "content_html" not in (out["raw"] or "")
    stats = crawler.stats
    assert stats is not None
    assert stats.get_value("newsarchive/internal_errors") == 1
    assert stats.get_value("newsarchive/internal_errors/normalise") == 1


def test_an_unnamed_source_is_unknown(crawler: Crawler) -> None:
    out = Stage(crawler, ValueError("x")).process_item(article(source="../etc"))
    assert out["source"] == "unknown"


@pytest.mark.parametrize("exc", [DropItem("dup"), WriteFailed("disk full")])
def test_drop_and_write_failure_keep_their_meaning(crawler: Crawler, exc: Exception) -> None:
    with pytest.raises(type(exc)):
        Stage(crawler, exc).process_item(article())
