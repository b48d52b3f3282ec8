"""Pure parsing rules: infoCodes, Beijing times, feed families, the merge, body text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from newsarchive.bodies import FeedError
from newsarchive.htmltext import html_to_text, split_credit
from newsarchive.ids import valid_info_code
from newsarchive.slug import media_slug
from newsarchive.story import normalise_title, story_id
from newsarchive.timeparse import beijing_date, parse_beijing
from spiders.finews_feeds import merge, parse_list, parse_text, read_record


@pytest.mark.parametrize("code", ["NW202201122245299970", "AN202201121540520381"])
def test_valid_info_codes(code):
    assert valid_info_code(code) == code


@pytest.mark.parametrize(
    "code",
    [
        "NW2022011222452999",
        "nw202201122245299970",
        "NW2022011222452999701",
        " NW202201122245299970",
        "NW202201122245299970\n",
        "XX202201122245299970",
        "../../etc/passwd",
        "NW20220112224529997%",
        "NW２０２２０１１２２２４５２９９９７０",
        None,
        202201122245299970,
        "",
        "NW202201122245299970?x=1",
        "NW202201122245299970/../a",
    ],
)
def test_invalid_info_codes(code):
    assert valid_info_code(code) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2022-01-12 15:51:41", datetime(2022, 1, 12, 7, 51, 41, tzinfo=UTC)),
        ("2022-01-12 00:19:55", datetime(2022, 1, 11, 16, 19, 55, tzinfo=UTC)),
        ("2022/1/2 8:05", datetime(2022, 1, 2, 0, 5, tzinfo=UTC)),
        ("2022-01-12T15:51:41+08:00", datetime(2022, 1, 12, 7, 51, 41, tzinfo=UTC)),
        ("2022-01-12T07:51:41Z", datetime(2022, 1, 12, 7, 51, 41, tzinfo=UTC)),
        (1641973901000, datetime(2022, 1, 12, 7, 51, 41, tzinfo=UTC)),
    ],
)
def test_beijing_times(raw, expected):
    assert parse_beijing(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        None,
        "yesterday",
        "2022-13-01 00:00:00",
        "2022-02-30 10:00:00",
        "1970-01-01 08:00:00",
        "2999-01-01 00:00:00",
        True,
        [],
        "2022-01-12 25:00:00",
    ],
)
def test_unusable_times(raw):
    assert parse_beijing(raw) is None


def test_beijing_date_crosses_midnight():
    assert str(beijing_date(parse_beijing("2022-05-26 00:19:55"))) == "2022-05-26"


def test_list_families_are_recognised_by_their_json():
    body = json.dumps({"nodeList": [{"infocode": "NW202201122245299970"}]}).encode()
    assert parse_list(body, "http://any.host/whatever") == ("media", [{"infocode": "NW202201122245299970"}])
    assert parse_list(b'{"record": []}', "http://h/x?marketType=38&count=100") == ("market-38", [])
    assert parse_list(b'{"records": []}', "http://h/y") == ("rolling", [])
    assert parse_list(b'{"record": []}', "http://h/no-market-type")[0] == "market"


@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        (b"", "bad_json", "empty body"),
        (b'{"records": [{"infoCode": "NW', "bad_json", "truncated"),
        (b"{records: []}", "bad_json", "invalid JSON"),
        (b"<html><body>502 Bad Gateway</body></html>", "bad_json", "HTML"),
        (b'{"data": []}', "bad_feed", "no records/nodeList/record"),
        (b"[1, 2]", "bad_feed", "list"),
        (b'{"records": "none"}', "bad_feed", "records"),
        (b'{"records": ["\xff"]}', "undecodable", "utf-8 (default) at byte 14"),
    ],
)
def test_bad_lists_name_their_fault(body, reason, words):
    with pytest.raises(FeedError) as info:
        parse_list(body, "http://h/x")
    assert info.value.reason == reason and words in info.value.detail


def test_field_variants_and_merge():
    rolling = read_record(
        {
            "infoCode": "NW202201122245299970",
            "id": "202201122245299970",
            "title": "T",
            "digest": "【T】摘要",
            "showtime": "2022-01-12 15:51:41",
            "url_w": "http://finance.eastmoney.com/a/1.html",
        },
        "rolling",
        "L1",
        1,
    )
    media = read_record(
        {
            "infocode": "NW202201122245299970",
            "from": "澎湃新闻",
            "showtime": "2022-01-12 15:51:41",
            "title": "T",
        },
        "media",
        "L2",
        2,
    )
    market = read_record(
        {
            "infoCode": "NW202201122245299970",
            "medianame": "澎湃新闻",
            "datetime": "2022-01-12 15:51:41",
            "title": "T",
        },
        "market-37",
        "L3",
        3,
    )
    assert rolling.digest == "摘要" and media.media_name == "澎湃新闻"
    merged = merge([rolling, media, market])
    # a media name beats none; among those with one, the earlier feed wins ties
    assert (merged.feed, merged.list_url) == ("media", "L2")
    assert merged.digest == "摘要" and merged.article_url == "http://finance.eastmoney.com/a/1.html"
    assert merged.media_name == "澎湃新闻"


def test_id_without_info_code_becomes_nw_code():
    rec = read_record({"id": "202201122245299970", "title": "T"}, "rolling", "L", 1)
    assert rec.info_code == "NW202201122245299970"
    assert read_record({"id": "../x", "title": "T"}, "rolling", "L", 1).info_code is None
    assert read_record(["not", "a", "dict"], "rolling", "L", 1) is None


def test_text_prefers_text_then_content():
    assert parse_text(json.dumps({"text": "<p>a</p>", "content": "<p>b</p>"}).encode()) == "<p>a</p>"
    assert parse_text(json.dumps({"text": "", "content": "<p>b</p>"}).encode()) == "<p>b</p>"
    assert parse_text(json.dumps({"data": {"content": "<p>c</p>"}}).encode()) == "<p>c</p>"
    with pytest.raises(FeedError, match="empty_text"):
        parse_text(b'{"text": null, "content": "  "}')


def test_html_to_text():
    html = (
        "<p>　　第一段&lt;条例&gt;&amp;</p>\r\n <p>　　第二<strong>段</strong>"
        '<script>alert(1)</script></p><!-- EM --><center><img src="x"></center>'
        '<p class="em_media">（文章来源：财联社）</p>'
    )
    assert html_to_text(html) == "第一段<条例>&\n第二段"
    assert split_credit(html) == ("（文章来源：财联社）", "财联社")
    assert split_credit("<p>no credit</p>") == (None, None)
    assert html_to_text("") == "" and html_to_text("plain") == "plain"


@pytest.mark.parametrize(
    ("media", "slug"),
    [
        ("澎湃新闻", "pengpaixinwen"),
        ("券商中国", "quanshangzhongguo"),
        ("财联社", "cailianshe"),
        ("央视新闻客户端", "yangshixinwenkehuduan"),
        ("21世纪经济报道", "21shijijingjibaodao"),
    ],
)
def test_media_slug_as_the_original_made_it(media, slug):
    assert media_slug(media) == slug


def test_story_id_ignores_punctuation_width_and_spaces():
    t = parse_beijing("2022-01-12 15:51:41")
    a = story_id("上海推进城市数字化转型 启动首席数据官制度研究和试点", t)
    b = story_id("上海推进城市数字化转型，启动首席数据官制度研究和试点！", parse_beijing("2022-01-12 09:00"))
    assert a == b and len(a) == 16
    assert a != story_id("上海推进城市数字化转型 启动首席数据官制度研究和试点", parse_beijing("2022-01-13 09:00"))
    assert normalise_title("Ａ股 “涨” 了！") == "a股涨了"
