"""East Money's formats without a network: list answers, entries, cursors, time strings and
article pages read by the pure functions of spiders/ and newsarchive/. Fast.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from newsarchive.bodies import FeedError
from newsarchive.htmltext import html_to_text, text_and_credit
from newsarchive.samples.eastmoney_site import cfh_entry, column_entry, fast_entry, page_html
from newsarchive.timeparse import is_relative, resolve_time
from spiders.eastmoney_pages import (
    continuation_pages,
    info_code_of,
    next_cursor,
    parse_article,
    parse_column_page,
    parse_fast_page,
    read_entry,
    stop_paging,
)
from tests.sites import FETCHED, QUOTED, D


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-27 16:25:01", datetime(2025, 11, 27, 8, 25, 1, tzinfo=UTC)),
        ("2025年11月27日 16:25", datetime(2025, 11, 27, 8, 25, tzinfo=UTC)),
        ("今天 16:25", datetime(2026, 1, 1, 8, 25, tzinfo=UTC)),
        ("今天 00:00", datetime(2025, 12, 31, 16, 0, tzinfo=UTC)),
        ("昨天 08:00", datetime(2025, 12, 31, 0, 0, tzinfo=UTC)),
        ("前天 08:00", datetime(2025, 12, 30, 0, 0, tzinfo=UTC)),
        ("16:25", datetime(2026, 1, 1, 8, 25, tzinfo=UTC)),
        ("11-27 16:25", datetime(2025, 11, 27, 8, 25, tzinfo=UTC)),  # ahead this year: last year's
        ("01-01 08:59", datetime(2026, 1, 1, 0, 59, tzinfo=UTC)),
        ("5分钟前", FETCHED - timedelta(minutes=5)),
        ("2小时前", FETCHED - timedelta(hours=2)),
        ("30秒前", FETCHED - timedelta(seconds=30)),
        ("刚刚", FETCHED),
        (1764231901, datetime(2025, 11, 27, 8, 25, 1, tzinfo=UTC)),
        ("1764231901000", datetime(2025, 11, 27, 8, 25, 1, tzinfo=UTC)),
        ("02-30 10:00", None),
        ("昨天", None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_resolve_time(value, expected):
    assert resolve_time(value, FETCHED) == expected


def test_relative_times_are_told_apart():
    assert is_relative("今天 16:25") and is_relative("5分钟前") and is_relative("11-27 16:25")
    assert not is_relative("2025-11-27 16:25:01") and not is_relative(1764231901)


def test_info_codes_of_list_codes():
    assert info_code_of("202201122245299970") == "NW202201122245299970"
    assert info_code_of(202201122245299970) == "NW202201122245299970"
    assert info_code_of("NW202201122245299970") == "NW202201122245299970"  # not doubled
    assert info_code_of("AN202201122245299970") == "AN202201122245299970"
    for bad in ("123", "NWNW202201122245299970", "../202201122245299970", "", None, True, " 202201122245299970"):
        assert info_code_of(bad) is None


def test_list_answers_and_their_faults():
    body = {"code": "1", "data": {"list": [{"code": "1"}]}}
    assert parse_column_page(json.dumps(body).encode()) == [{"code": "1"}]
    assert parse_column_page(b"jQuery123_456(" + json.dumps(body).encode() + b");") == [{"code": "1"}]
    assert parse_fast_page(b'{"code": 1, "data": {"fastNewsList": []}}').end
    for bad, reason in [
        (b'{"code": "0", "message": "req_trace is required"}', "api_error"),
        (b'{"code": "1", "data": null}', "bad_feed"),
        (b"[1, 2]", "bad_feed"),
        (b"", "bad_json"),
        (b"<html></html>", "bad_json"),
    ]:
        with pytest.raises(FeedError) as caught:
            parse_column_page(bad)
        assert caught.value.reason == reason


def test_entries_read_and_the_fast_cursor():
    raw = fast_entry("202201122245299970", "标题", "2022-01-12 15:51:41", "16419738")
    entry = read_entry(raw, "fast:102", "u", (0, 1, 0), FETCHED)
    assert entry is not None and entry.info_code == "NW202201122245299970" and entry.sort == "16419738"
    assert entry.published_at == datetime(2022, 1, 12, 7, 51, 41, tzinfo=UTC) and not entry.relative_time
    listed = read_entry(
        column_entry("1", "t", "今天 08:00", "媒体", uniqueUrl="//finance.eastmoney.com/a/1.html"),
        "c",
        "u",
        (0, 1, 0),
        FETCHED,
    )
    assert listed is not None and listed.url == "https://finance.eastmoney.com/a/1.html" and listed.relative_time
    assert read_entry("text", "c", "u", (0, 1, 0), FETCHED) is None
    assert next_cursor([entry, None]) == "16419738" and next_cursor([None]) is None


def test_paging_stops_at_the_last_page_the_bound_or_the_archive():
    entries = [
        read_entry(column_entry(f"2022011222452999{n}", "t", f"2022-01-{n:02d} 10:00"), "c", "u", (0, 1, n), FETCHED)
        for n in (12, 11)
    ]
    never = lambda code: False  # noqa: E731
    since = datetime(2022, 1, 10, tzinfo=UTC)
    assert stop_paging(entries, 2, 1, 5, since, never) is None
    assert stop_paging(entries, 3, 1, 5, since, never) == "last_page"
    assert stop_paging(entries, 2, 5, 5, since, never) == "max_pages"
    assert stop_paging([None, None], 2, 1, 5, None, never) == "empty_page"
    assert stop_paging(entries, 2, 1, 5, datetime(2022, 1, 11, 12, tzinfo=UTC), never) == "since"
    assert stop_paging(entries, 2, 1, 5, None, lambda c: c.endswith("11")) == "archived"
    assert stop_paging(entries, 2, 1, 5, None, lambda c: c.endswith("12")) is None


def test_article_pages_are_read_and_refused_cleanly():
    page = parse_article(page_html("标题", "2022-01-21 18:05:40", "澎湃新闻", QUOTED), FETCHED)
    assert page.title == "标题" and page.media_name == "澎湃新闻"
    assert page.published_at == datetime(2022, 1, 21, 10, 5, tzinfo=UTC)
    assert page.content_html.startswith("<p>") and page.content_html.endswith(
        '<p class="res-edit">(责任编辑：DF528)</p>'
    )
    bare = '<html><head><title>A_东方财富网</title></head><body><div id="ContentBody"><p>x</p></div>'.encode()
    assert parse_article(bare, FETCHED).title == "A" and parse_article(bare, FETCHED).published_at is None
    for body, reason in [(b"", "not_article"), (b"<html><body><p>home</p></body></html>", "not_article")]:
        with pytest.raises(FeedError) as caught:
            parse_article(body, FETCHED)
        assert caught.value.reason == reason
    with pytest.raises(FeedError, match="empty"):
        parse_article(page_html("t", None, None, "", editor=""), FETCHED)


# --- the real shapes, without a network ------------------------------------------------------------


def test_np_dst_is_read_whatever_its_case():
    for raw in (
        cfh_entry(f"{D}02", "t", "2022-02-07 20:00:00"),
        {**cfh_entry(f"{D}02", "t", "2022-02-07 20:00:00", np_dst="cfh")},
        {"code": f"{D}02", "Np_dst": "CFH", "uniqueUrl": "", "url": ""},
        {"code": f"{D}02", "NP_DST": " CFH "},
        {"code": f"{D}02", "uniqueUrl": "", "url": f"https://caifuhao.eastmoney.com/news/{D}02"},  # no np_dst
    ):
        entry = read_entry(raw, "column:345", "u", (0, 1, 0), FETCHED)
        assert entry is not None and entry.cfh, raw
    for raw in (
        column_entry(f"{D}01", "t", "2022-02-07 20:00:00"),
        {"code": f"{D}01"},
        {"code": f"{D}01", "np_dst": 7},
    ):
        entry = read_entry(raw, "column:345", "u", (0, 1, 0), FETCHED)
        assert entry is not None and not entry.cfh, raw
    plain = read_entry(column_entry(f"{D}01", "t", "2022-02-07 20:00:00"), "c", "u", (0, 1, 0), FETCHED)
    assert plain is not None and plain.url == f"http://finance.eastmoney.com/a/{D}01.html"  # uniqueUrl, not url


def test_success_codes_and_the_error_shell():
    assert parse_column_page(b'{"code": 1, "data": {"list": [{"code": "1"}]}}') == [{"code": "1"}]
    assert parse_column_page(b'{"code": " 1", "data": {"list": []}}') == []
    for code in (0, "0", True, 1.5, None, "-1"):
        with pytest.raises(FeedError) as caught:
            parse_column_page(json.dumps({"code": code, "message": "nope", "data": {"list": []}}).encode())
        assert caught.value.reason == "api_error" and "nope" in caught.value.detail
    shell = b'{"code":0,"message":"Required String parameter \'req_trace\' is not present"}'
    with pytest.raises(FeedError, match="Required String parameter 'req_trace' is not present"):
        parse_fast_page(shell)


def test_fast_pages_cursor_and_end():
    page = parse_fast_page(b'{"code": "1", "data": {"fastNewsList": [{"code": "1"}], "sortEnd": "17300"}}')
    assert page.entries == [{"code": "1"}] and page.sort_end == "17300" and not page.end
    assert parse_fast_page(b'{"code": "1", "data": {"fastNewsList": [{}], "sortEnd": 1730000}}').sort_end == "1730000"
    assert parse_fast_page(b'{"code": "1", "data": {"fastNewsList": [{}], "sortEnd": ""}}').sort_end is None
    assert parse_fast_page(b'{"code": "1", "data": {"fastNewsList": [{}]}}').sort_end is None
    for end in (
        b'{"code": "1", "message": "success", "data": null}',
        b'{"code": "1"}',
        b'{"code": "1", "data": {"fastNewsList": null}}',
        b'{"code": 1, "data": {"fastNewsList": []}}',
    ):
        page = parse_fast_page(end)
        assert page.end and page.entries == [], end
    for bad in (b'{"code": "1", "data": "x"}', b'{"code": "1", "data": {"list": []}}', b'{"code": "1", "data": []}'):
        with pytest.raises(FeedError) as caught:
            parse_fast_page(bad)
        assert caught.value.reason == "bad_feed", bad
    raw = fast_entry(f"{D}01", "t", "2022-02-08 10:00:00", "42")
    entries = [read_entry(raw, "fast:102", "u", (0, 1, 0), FETCHED)]
    assert next_cursor(entries, "99") == "99" and next_cursor(entries, None) == "42"


def test_article_page_title_byline_and_credit():
    spaced = page_html("标题 A_B", "2022-01-21 18:05:40", "澎湃新闻", "<p>x</p>", spaced_title=True, labelled=False)
    page = parse_article(spaced, FETCHED)
    assert page.title == "标题 A_B" and page.media_name == "澎湃新闻"
    assert page.published_at == datetime(2022, 1, 21, 10, 5, tzinfo=UTC)
    for title in ("某公司龙虎榜数据(08-27) _ 东方财富网", "某公司龙虎榜数据(08-27)_东方财富网"):
        bare = f'<html><head><title>{title}</title></head><body><div class="txtinfos" id="ContentBody"><p>x</p>'
        assert parse_article(bare.encode(), FETCHED).title == "某公司龙虎榜数据(08-27)"
    no_id = '<html><body><div class="title">T</div><div class="txtinfos"><p>y</p></div></body></html>'
    assert parse_article(no_id.encode(), FETCHED).content_html == "<p>y</p>"
    credited = page_html("t", "2022-01-21 18:05:40", None, "<p>x</p><p>（文章来源：证券时报网）</p>")
    assert parse_article(credited, FETCHED).media_name == "证券时报网"
    labelled = page_html("t", "2022-01-21 18:05:40", "财联社", "<p>x</p><p>（文章来源：证券时报网）</p>")
    assert parse_article(labelled, FETCHED).media_name == "财联社"  # the byline first
    neither = page_html("t", "2022-01-21 18:05:40", None, "<p>x</p>")
    assert parse_article(neither, FETCHED).media_name is None  # a time and 评论 are no medium
    counted = neither.replace(b'<div class="item">\xe8\xaf\x84\xe8\xae\xba</div>', b'<div class="item">128</div>')
    assert counted != neither and parse_article(counted, FETCHED).media_name is None  # a count is no medium
    boxed = neither.replace(
        b"</body>", b'<div class="box"><div class="title">\xe7\x83\xad\xe9\x97\xa8</div></div></body>'
    )
    assert boxed != neither and parse_article(boxed, FETCHED).title == "t"  # a sidebar box title after the body


def test_continuation_links_are_bounded_same_host_and_ordered():
    import lxml.html

    base = "http://127.0.0.1:8000/a/202202081234567850.html"
    links = [
        "202202081234567850_3.html",
        "/a/202202081234567850_2.html?x=1#top",
        "http://127.0.0.1:8000/a/202202081234567850_2.html",
        "http://evil.example/a/202202081234567850_4.html",
        "http://127.0.0.1:9999/a/202202081234567850_4.html",
        "/a/202202081234567850_1.html",
        "/a/202202081234567851_2.html",
        "/a/202202081234567850_12.html",
        "javascript:void(0)",
    ]
    root = lxml.html.document_fromstring("<html><body>" + "".join(f'<a href="{h}">x</a>' for h in links))
    found = continuation_pages(root, base, 10)
    assert found == {2: "http://127.0.0.1:8000/a/202202081234567850_2.html", 3: base[:-5] + "_3.html"}
    assert continuation_pages(root, base[:-5] + "_2.html", 20)[12].endswith("_12.html")  # siblings from page 2
    long = page_html("t", None, None, "<p>x</p>", pager=["202202081234567850_2.html"])
    assert parse_article(long, FETCHED, page_url=base, max_pages=5).continuations == {2: base[:-5] + "_2.html"}
    assert parse_article(long, FETCHED, page_url=base).continuations == {}  # max_pages 1: not followed


@pytest.mark.parametrize(
    "noise",
    [
        '<p class="res-edit">(责任编辑：DF528)</p>',
        '<div class="res-edit">责任编辑：DF528</div>',
        "<p>（责任编辑：DF528）</p>",
        "<p>　　(责任编辑：王晓)</p>",
        '<!-- 正文中部 内嵌广告 --><div class="ad_context3"><a href="#">广告</a><img src="x.png"/></div>',
        '<div class="share"><span>分享到：</span><a>微信</a></div>',
        "<p>分享到：微信 微博</p>",
    ],
)
def test_content_text_drops_editor_lines_ads_and_share_text(noise):
    text = html_to_text(f"<p>　　第一段。</p>{noise}<p>第二段（责任编辑不是这一段）。</p>")
    assert text == "第一段。\n第二段（责任编辑不是这一段）。"


def test_a_plain_body_credit_is_the_credit_as_em_media_is():
    assert text_and_credit("<p>正文。</p><p>（文章来源：证券时报网）</p>") == (
        "正文。",
        "（文章来源：证券时报网）",
        "证券时报网",
    )
    assert text_and_credit('<p>正文。</p><p class="em_media">（文章来源：澎湃新闻）</p>')[2] == "澎湃新闻"
    assert text_and_credit("<p>（据文章来源：某处）的分析</p>")[0] == "（据文章来源：某处）的分析"
