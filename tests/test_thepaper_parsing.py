"""thepaper.cn's formats without a network: the pure readers of spiders/ on saved and built
pages (the real hot list and homepage among them), and the story id across syndication. Fast.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from newsarchive.bodies import FeedError
from newsarchive.samples.thepaper_site import SIDEBAR, ms, page_html, text_detail
from newsarchive.story import normalise_title, story_id
from newsarchive.timeparse import parse_beijing, parse_bound
from spiders.thepaper_articles import PageError, parse_article
from spiders.thepaper_fields import split_names, valid_cont_id
from spiders.thepaper_lists import (
    ListEntry,
    ListPage,
    is_offsite,
    parse_channel_page,
    parse_hot,
    read_entry,
    stop_paging,
)
from tests.sites import HOMEPAGE, OFFSITE


@pytest.mark.parametrize(
    ("thepaper", "syndicated"),
    [
        # Real thepaper.cn titles (the saved hot list and a 2022-01-20 snapshot of its pages)
        # against the forms syndication gives them: comma → space, a dropped "？", and the
        # column separator written ｜ or 丨 (thepaper.cn itself uses both).
        ("上海GDP突破4万亿，2021年增长8.1%", "上海GDP突破4万亿 2021年增长8.1%"),
        (
            "圆桌｜CR450动车组技术攻关取得重大阶段性成果，中国高铁如何跑出加速度？",
            "圆桌丨CR450动车组技术攻关取得重大阶段性成果 中国高铁如何跑出加速度",
        ),
        ("旁白丨幼儿园的食物里本不该有“毒颜料”", '旁白｜幼儿园的食物里本不该有"毒颜料"'),
        ("余承东回应“开车睡觉”事件", '余承东回应"开车睡觉"事件 '),
    ],
)
def test_story_id_absorbs_how_syndication_rewrites_a_title(thepaper, syndicated):
    when = parse_beijing("2025-07-08 21:11")
    assert normalise_title(thepaper) == normalise_title(syndicated)
    assert story_id(thepaper, when) == story_id(syndicated, parse_beijing("2025-07-08 08:00"))
    assert story_id(thepaper, when) != story_id(thepaper, parse_beijing("2025-07-09 08:00"))


# --- the formats, without a network ----------------------------------------------------------

HOT_LISTS = ["hotNews", "morningEveningNews", "editorHandpicked", "financialInformationNews"]


def test_the_real_hot_list_and_the_list_shape_both_read():
    pairs = parse_hot(SIDEBAR.read_bytes(), HOT_LISTS)
    assert Counter(k for k, _ in pairs) == {
        "hotNews": 20,
        "editorHandpicked": 10,
        "morningEveningNews": 3,
        "financialInformationNews": 2,
    }
    entries = [read_entry(raw, "hot", "u", (0, 1, i)) for i, (_, raw) in enumerate(pairs)]
    without_id = [e for e in entries if e is not None and e.cont_id_raw is None]
    assert [e.title for e in without_id] == ["中尼边境突发山洪"]  # the morningEveningNews header
    first = entries[0]
    assert first is not None and first.cont_id == "31133390" and first.channel == "10%公司"
    assert first.published_at == datetime(2025, 7, 8, 13, 11, 14, 328000, tzinfo=UTC)  # pubTimeLong, not "17小时前"
    listed = json.dumps({"code": 200, "data": {"list": [{"contId": "1", "name": "x"}]}}).encode()
    assert parse_hot(listed, HOT_LISTS) == [("list", {"contId": "1", "name": "x"})]


@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        ({"code": 99998, "desc": "系统繁忙"}, "api_error", "99998 系统繁忙"),
        ({"code": 10000, "desc": "请求无效"}, "api_error", "10000"),
        ({"resultCode": 0, "resultMsg": "操作失败"}, "api_error", "操作失败"),
        ({"resultCode": 1, "data": {"other": []}}, "bad_feed", "none of hotNews"),
        ([1, 2], "bad_feed", "list"),
    ],
)
def test_error_answers_are_named(body, reason, words):
    with pytest.raises(FeedError) as caught:
        parse_hot(json.dumps(body, ensure_ascii=False).encode(), HOT_LISTS)
    assert caught.value.reason == reason and words in caught.value.detail


def test_channel_pages_and_their_faults():
    body = {"code": 200, "data": {"list": [{"contId": "1"}], "hasNext": True, "startTime": 1752043451604}}
    page = parse_channel_page(json.dumps(body).encode())
    assert page.has_next and page.start_time == 1752043451604 and page.entries == [{"contId": "1"}]
    last = parse_channel_page(b'{"code": 200, "data": {"list": [], "hasNext": false}}')
    assert not last.has_next and last.start_time is None
    for bad, reason in [
        (b"<html>403</html>", "bad_json"),
        (b'{"code": 200, "data": {}}', "bad_feed"),
        (b'{"code": "99998"}', "api_error"),
        (b"", "bad_json"),
    ]:
        with pytest.raises(FeedError) as caught:
            parse_channel_page(bad)
        assert caught.value.reason == reason


def test_the_real_homepage_is_refused_cleanly():
    text = HOMEPAGE.read_bytes()
    assert text.startswith(b"body:  <!DOCTYPE html>")
    with pytest.raises(PageError) as caught:
        parse_article(text)
    assert caught.value.reason == "not_article" and "page '/'" in caught.value.detail


def test_an_article_page_reads_whatever_precedes_it():
    detail = text_detail("1", "标题", "2022-01-12 15:35:00", content="<p>a &lt; b</p>")
    page = parse_article(b"body:  " + page_html("标题", detail_data={"contentDetail": detail}))
    assert page.kind == "article" and page.title == "标题" and page.content_html == "<p>a &lt; b</p>"


def test_pages_without_json_fall_back_to_the_markup():
    page = parse_article(
        page_html(
            "网页版",
            body='<p>正文</p><img src="//imgpai.thepaper.cn/x.png"/>',
            byline=("澎湃新闻记者 张三", "2022-01-11 10:05", "来源：澎湃新闻"),
        ),
        base="https://www.thepaper.cn/newsDetail_forward_1",
    )
    assert page.kind == "html" and page.title == "网页版" and page.media_name == "澎湃新闻"
    assert page.image_urls == ["https://imgpai.thepaper.cn/x.png"]
    assert page.published_at == datetime(2022, 1, 11, 2, 5, tzinfo=UTC)
    with pytest.raises(FeedError) as caught:
        parse_article(page_html("坏", next_data="{", body=""))
    assert caught.value.reason == "bad_json"
    # broken JSON, but the markup is there: archived from the markup
    assert parse_article(page_html("坏", next_data="{", body="<p>正文</p>")).kind == "html"


def test_special_topics_name_the_articles_they_list():
    special = {
        "specialInfo": {"contId": 5, "name": "专题"},
        "list": [
            {"contId": "6", "name": "a"},
            {"contId": 5, "name": "self"},
            {"contId": "x/", "name": "b"},
            {"nested": [{"contId": 7, "name": "c"}, {"contId": "6", "name": "again"}]},
        ],
    }
    with pytest.raises(PageError) as caught:
        parse_article(page_html("专题", detail_data={"specialDetail": special}), "5")
    assert caught.value.reason == "special_topic"
    assert [e["contId"] for e in caught.value.follow] == ["6", 7]


def test_small_readers():
    assert valid_cont_id("31133390") == "31133390" and valid_cont_id(31133390) == "31133390"
    for bad in ("../1", "", "1" * 13, None, True, -1, "12a"):
        assert valid_cont_id(bad) is None
    assert split_names("李四、王五 ,赵六") == ["李四", "王五", "赵六"] and split_names("") is None
    assert parse_bound("2022-01-10", end=False) == datetime(2022, 1, 9, 16, 0, tzinfo=UTC)
    assert parse_bound("2022-01-10 08:00", end=True) == datetime(2022, 1, 10, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="yesterday"):
        parse_bound("yesterday", end=False)
    assert is_offsite(OFFSITE, {"www.thepaper.cn"}) and is_offsite("javascript:;", {"www.thepaper.cn"})
    assert not is_offsite("https://www.thepaper.cn/newsDetail_forward_1", {"www.thepaper.cn"})
    assert not is_offsite("", {"www.thepaper.cn"}) and not is_offsite("/list_1", {"www.thepaper.cn"})


def _page_of(*ids: str, has_next: bool | None = True, cursor: Any = 1) -> tuple[ListPage, list[ListEntry | None]]:
    raws = [{"contId": c, "name": c, "pubTimeLong": ms(f"2022-01-{int(c):02d} 10:00")} for c in ids]
    return ListPage(raws, has_next, cursor), [read_entry(r, "f", "u", (0, 1, i)) for i, r in enumerate(raws)]


def test_paging_stops_on_the_newest_entry_the_cursor_or_the_archive():
    since = parse_bound("2022-01-10", end=False)
    never = lambda cid: False  # noqa: E731
    page, entries = _page_of("12", "11")
    assert stop_paging(page, entries, 1, 5, since, never) is None
    assert stop_paging(page, entries, 5, 5, since, never) == "max_pages"
    assert stop_paging(ListPage([], False, None), [], 1, 5, None, never) == "last_page"
    assert stop_paging(ListPage([{}], True, 1), [None], 1, 5, None, never) == "empty_page"
    # editors' order: an old entry last (or anywhere) does not end the channel, the newest does
    old_last, entries = _page_of("12", "03")
    assert stop_paging(old_last, entries, 1, 5, since, never) is None
    all_old, entries = _page_of("03", "09", "05")
    assert stop_paging(all_old, entries, 1, 5, since, never) == "since"
    # the cursor: missing, or one handed out before, ends it; hasNext unsaid does not
    page, entries = _page_of("12", "11", cursor=None)
    assert stop_paging(page, entries, 1, 5, None, never) == "no_cursor"
    page, entries = _page_of("12", "11", cursor="1641974400000")
    assert stop_paging(page, entries, 2, 5, None, never, (1641974400000,)) == "cursor_repeat"
    assert stop_paging(page, entries, 2, 5, None, never, (1641974400001,)) is None
    page, entries = _page_of("12", "11", has_next=None)
    assert stop_paging(page, entries, 1, 5, None, never) is None
    # the archive: only a page holding nothing new ends it
    assert stop_paging(page, entries, 1, 5, None, lambda cid: cid == "11") is None
    assert stop_paging(page, entries, 1, 5, None, lambda cid: cid in ("11", "12")) == "archived"


def test_channel_cursors_are_read_for_what_they_are():
    def page(**data: Any) -> ListPage:
        return parse_channel_page(json.dumps({"code": 200, "data": {"list": [], **data}}).encode())

    assert page(startTime=1788168472152, hasNext=True).start_time == 1788168472152
    assert page(startTime="1788168472152").start_time == "1788168472152"  # sent back as given
    for missing in (None, "", 0, -5, "abc", True, [1], {"t": 1}):
        assert page(startTime=missing).start_time is None, missing
    assert page().start_time is None and page().has_next is None
    end = parse_channel_page(b'{"code": 200, "data": {"hasNext": false, "list": null}}')
    assert end.entries == [] and end.has_next is False
    with pytest.raises(FeedError):  # a null list that does not say it is the end is a bad answer
        parse_channel_page(b'{"code": 200, "data": {"hasNext": true, "list": null}}')
    assert [page(hasNext=v).has_next for v in (True, "true", 1, False, "false", 0, None)] == [
        True,
        True,
        True,
        False,
        False,
        False,
        None,
    ]


def test_author_object_card_author_and_both_time_forms_are_read():
    detail = text_detail("1", "标题", "2022-01-12 15:35:00", author={"name": "澎湃新闻记者 王六", "id": 7})
    page = parse_article(page_html("标题", detail_data={"contentDetail": detail}))
    assert page.author == "澎湃新闻记者 王六"
    for author, expected in [
        ("  澎湃新闻记者 张三 ", "澎湃新闻记者 张三"),
        ({"sname": "上海发布"}, "上海发布"),
        ([{"name": "甲"}, "乙", {"name": "甲"}], "甲、乙"),
        ({"name": ""}, None),
        ({"name": {"deep": 1}}, None),
        (None, None),
        (12, None),
    ]:
        detail = text_detail("1", "标题", "2022-01-12 15:35:00", author=author)
        assert parse_article(page_html("标题", detail_data={"contentDetail": detail})).author == expected, author
    stamp = datetime(2022, 1, 12, 7, 35, tzinfo=UTC)
    for published in (ms("2022-01-12 15:35:00"), str(ms("2022-01-12 15:35:00")), "2022-01-12 15:35:00"):
        detail = text_detail("1", "标题", "2022-01-12 15:35:00", publishTime=published, pubTime=None)
        assert parse_article(page_html("标题", detail_data={"contentDetail": detail})).published_at == stamp
    card = read_entry(
        {
            "contId": "1",
            "name": "x",
            "publishTime": "2022-01-12 15:35:00",
            "authorInfo": {"userId": 9, "sname": "上海发布"},
        },
        "f",
        "u",
        (0, 1, 0),
    )
    assert card is not None and card.published_at == stamp and card.author == "上海发布"
    card = read_entry({"contId": "1", "author": {"name": "王六"}, "authorInfo": {"sname": "x"}}, "f", "u", (0, 1, 0))
    assert card is not None and card.author == "王六"
