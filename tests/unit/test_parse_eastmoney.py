"""spiders/eastmoney_pages.py on the bundled samples (newsarchive/samples/eastmoney)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest

from newsarchive.bodies import FeedError
from newsarchive.samples.eastmoney_site import page_html
from newsarchive.timeparse import resolve_time
from spiders.eastmoney_pages import parse_article, parse_column_page, parse_fast_page, read_entry

SAMPLES = resources.files("newsarchive.samples") / "eastmoney"
FETCHED = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def test_a_column_page_gives_entries_with_info_codes() -> None:
    page = {"code": 1, "data": {"list": sample("columns.json")["345"]}}
    raws = parse_column_page(json.dumps(page).encode())
    entries = [read_entry(r, "column-345", "http://x/", (0, 0, n), FETCHED) for n, r in enumerate(raws)]
    assert entries and all(e is not None for e in entries)
    first = entries[0]
    assert first is not None
    assert first.info_code == "NW202205312398034850"
    assert first.url == "http://finance.eastmoney.com/a/202205312398034850.html"
    assert first.published_at == datetime(2022, 5, 31, 10, 3, 41, tzinfo=UTC)
    assert first.dst == "CMS"


def test_the_fast_feed_pages_and_ends() -> None:
    page = parse_fast_page(
        json.dumps({"code": "1", "data": {"fastNewsList": sample("fast.json")["102"], "sortEnd": "9"}}).encode()
    )
    assert page.entries and page.sort_end == "9" and not page.end
    assert parse_fast_page(b'{"code": "1", "data": null}').end


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("刚刚", FETCHED),
        ("5分钟前", FETCHED - timedelta(minutes=5)),
        ("今天 08:30", datetime(2026, 11, 27, 0, 30, tzinfo=UTC)),
        ("昨天 08:30", datetime(2026, 11, 26, 0, 30, tzinfo=UTC)),
        ("2022-05-31 18:03:41", datetime(2022, 5, 31, 10, 3, 41, tzinfo=UTC)),
        ("12-31 10:00", datetime(2025, 12, 31, 2, 0, tzinfo=UTC)),
        ("nonsense", None),
        (None, None),
    ],
)
def test_relative_times_are_read_against_the_fetch(text: Any, expected: datetime | None) -> None:
    assert resolve_time(text, FETCHED) == expected


def test_every_sample_article_page_parses() -> None:
    for code, a in sample("articles.json").items():
        page = parse_article(page_html(a["title"], a["time"], a["media"], a["body"]), FETCHED)
        assert page.title == a["title"], code
        assert page.content_html.strip()
        assert page.published_at is not None


def test_a_page_without_content_body_is_not_an_article() -> None:
    with pytest.raises(FeedError) as err:
        parse_article(b"<html><body><p>hi</p></body></html>", FETCHED)
    assert err.value.reason == "not_article"
