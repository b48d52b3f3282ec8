"""spiders/thepaper_lists.py, thepaper_articles.py, thepaper_fields.py on the sample site's builders and bundled
rightSidebar answer."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from newsarchive.bodies import FeedError
from newsarchive.samples.thepaper_site import entry, page_html, text_detail
from spiders.thepaper_articles import parse_article
from spiders.thepaper_fields import valid_channel_id, valid_cont_id
from spiders.thepaper_lists import parse_channel_page, read_entry


def test_a_channel_page_gives_entries_and_its_cursor() -> None:
    body = {
        "resultCode": 1,
        "data": {"list": [entry(31234567, "标题", "2026-11-27 08:00:00")], "hasNext": True, "startTime": 17},
    }
    page = parse_channel_page(json.dumps(body).encode())
    assert page.has_next is True
    got = read_entry(page.entries[0], "channel-25462", "http://x/", (0, 0, 0))
    assert got is not None and got.cont_id == "31234567"


def test_the_end_of_a_channel_is_not_a_fault() -> None:
    page = parse_channel_page(b'{"resultCode": 1, "data": {"list": null, "hasNext": false}}')
    assert page.entries == [] and page.has_next is False


def test_a_channel_answer_without_a_list_is_bad_feed() -> None:
    with pytest.raises(FeedError) as err:
        parse_channel_page(b'{"resultCode": 1, "data": {"x": 1}}')
    assert err.value.reason == "bad_feed"


def test_the_bundled_sidebar_answer_is_a_status_ok_answer() -> None:
    raw = (resources.files("newsarchive.samples") / "thepaper" / "rightSidebar.json").read_bytes()
    assert json.loads(raw)["resultCode"] == 1


def test_an_article_page_is_read_from_its_next_data() -> None:
    detail = text_detail("31234567", "一篇文章", "2026-11-27 08:00:00")
    page = parse_article(page_html("一篇文章", detail_data={"contentDetail": detail}), "31234567")
    assert page.kind == "article"
    assert page.title == "一篇文章"
    assert "第二段正文" in page.content_html
    assert page.media_name == "澎湃新闻"
    assert page.tags == ["上海"]
    assert page.published_at is not None and page.published_at.isoformat().startswith("2026-11-27T00:00")


@pytest.mark.parametrize(("value", "ok"), [("123", "123"), (123, "123"), ("12a", None), ("", None), (None, None)])
def test_ids_that_go_into_urls_are_digits(value: object, ok: str | None) -> None:
    assert valid_cont_id(value) == ok
    assert valid_channel_id(value) == ok
