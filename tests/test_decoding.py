"""What a source's bytes can do to the parsers: poison JSON (deep nesting, huge numbers,
absurd times) and encodings (GBK, GB18030, UTF-16, garbage). In process, no network.

Every parser either returns or raises FeedError with a reason code; nothing else escapes.
The end-to-end side (real HTTP, real crawls) is in test_faults_feeds.py and
test_decoding_properties.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from newsarchive.bodies import FeedError, JsonLimits, OutOfRange, body_text, json_depth, loads, out_of_range_paths
from newsarchive.samples.eastmoney_site import page_html as eastmoney_page
from newsarchive.samples.thepaper_site import page_html as thepaper_page
from newsarchive.samples.thepaper_site import text_detail
from newsarchive.timeparse import parse_beijing, time_fault
from spiders.eastmoney_pages import parse_article as eastmoney_article
from spiders.eastmoney_pages import parse_column_page, parse_fast_page
from spiders.finews_feeds import parse_list, parse_text
from spiders.thepaper_articles import parse_article as thepaper_article
from spiders.thepaper_lists import parse_channel_page, parse_hot

FETCHED = datetime(2022, 1, 21, 12, 0, tzinfo=UTC)
DEEP = 50_000


def deep(n: int, inner: str = "1") -> str:
    return "[" * n + inner + "]" * n


def record(n: int, **extra: object) -> dict[str, object]:
    return {"infoCode": f"NW20220112{n:010d}", "datetime": "2022-01-12 10:00:00", "title": f"T{n}", **extra}


# --- poison JSON -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "parse",
    [
        lambda b: parse_list(b, "http://h/x"),
        parse_text,
        parse_column_page,
        parse_fast_page,
        parse_channel_page,
        lambda b: parse_hot(b, ["hotNews"]),
    ],
    ids=["finews list", "finews text", "eastmoney column", "eastmoney fast", "thepaper channel", "thepaper hot"],
)
def test_json_nested_too_deep_is_too_deep_in_every_parser(parse):
    body = ('{"record": ' + deep(DEEP) + "}").encode()
    with pytest.raises(FeedError) as caught:
        parse(body)
    assert caught.value.reason == "too_deep" and "512" in caught.value.detail


def test_depth_is_counted_without_recursion_and_ignores_brackets_in_strings():
    assert json_depth(deep(DEEP), 512) == DEEP
    assert json_depth(json.dumps({"a": "[" * 5000, "b": ['\\"[[[', {"c": []}]}), 10) == 4
    assert json_depth('{"a": [1, 2]}', 512) == 0  # few brackets: not even scanned
    limits = JsonLimits(max_depth=3)
    assert loads("[[[1]]]", limits) == [[[1]]]
    with pytest.raises(FeedError, match="too_deep"):
        loads("[[[[1]]]]", limits)


def test_a_deep_article_page_is_too_deep_unless_its_markup_saves_it():
    page = thepaper_page("深", next_data=deep(DEEP))
    with pytest.raises(FeedError) as caught:
        thepaper_article(page, "1")
    assert caught.value.reason == "too_deep" and "__NEXT_DATA__" in caught.value.detail
    assert thepaper_article(thepaper_page("深", next_data=deep(DEEP), body="<p>正文</p>"), "1").kind == "html"


def test_a_huge_integer_spoils_only_its_record():
    huge = "9" * 5000
    body = ('{"record": [' + json.dumps(record(1)) + ', {"infoCode": "NW1", "views": ' + huge + "}]}").encode()
    feed, raws = parse_list(body, "http://h/x?marketType=37")
    assert feed == "market-37" and raws[0] == record(1)
    assert out_of_range_paths(raws[0]) == []
    (where,) = out_of_range_paths(raws[1])
    assert where.startswith("`views` (5000-digit integer 999999999999") and len(where) < 120
    assert "9" * 100 not in repr(raws[1]) and "9" * 100 not in str(raws[1]["views"])


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_numbers_no_float_can_hold_become_markers(number):
    data = loads('{"a": [1, {"b": ' + number + "}]}")
    assert isinstance(data["a"][1]["b"], OutOfRange)
    assert out_of_range_paths(data) == [f"`a[1].b` ({data['a'][1]['b'].what})"]
    assert loads("[1.5, -2, 12345678901234567890]") == [1.5, -2, 12345678901234567890]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (10**500, "number_out_of_range"),  # /1000 overflowed a float before the fix
        (10**300, "number_out_of_range"),
        (3_155_760_000_000_000, "number_out_of_range"),  # year 99999 in milliseconds
        (-1, "number_out_of_range"),
        (float("inf"), "number_out_of_range"),
        (float("nan"), "number_out_of_range"),
        (OutOfRange("5000-digit integer"), "number_out_of_range"),
        ("9999-12-31 23:59:59", "number_out_of_range"),
        ("1900-01-01 00:00", "number_out_of_range"),
        ("2022-13-45 99:99:99", "missing_time"),
        ("soon", "missing_time"),
        ("", "missing_time"),
        (None, "missing_time"),
    ],
)
def test_a_time_never_raises_and_its_fault_is_named(value, reason):
    assert parse_beijing(value) is None
    got, detail = time_fault(value, "showtime")
    assert got == reason and detail and len(detail) < 200


def test_details_quoting_the_source_are_storable_even_with_lone_surrogates():
    """A detail goes into the runs row's problems (UTF-8 strings): a lone surrogate in a
    key or an error message once made the run record unwritable, so the run had none."""
    for parse, body in (
        (lambda b: parse_list(b, "http://h/x"), b'{"\\ud800key": 1}'),
        (parse_channel_page, b'{"code": 1, "desc": "busy \\udfff"}'),
    ):
        with pytest.raises(FeedError) as caught:
            parse(body)
        assert "\\ud" in caught.value.detail
        caught.value.detail.encode("utf-8")  # would raise UnicodeEncodeError


def test_plausible_times_still_parse():
    assert parse_beijing(1642000000000) == datetime(2022, 1, 12, 15, 6, 40, tzinfo=UTC)
    assert parse_beijing(1642000000) == datetime(2022, 1, 12, 15, 6, 40, tzinfo=UTC)
    assert parse_beijing("2022-01-12 10:00") == datetime(2022, 1, 12, 2, 0, tzinfo=UTC)


# --- encodings -------------------------------------------------------------------------


def test_a_gbk_list_with_its_charset_is_read():
    body = json.dumps({"record": [record(1, title="澎湃新闻：上海")]}, ensure_ascii=False).encode("gbk")
    with pytest.raises(FeedError) as caught:
        parse_list(body, "http://h/x")  # no charset: UTF-8, and these bytes are not UTF-8
    assert caught.value.reason == "undecodable"
    _, raws = parse_list(body, "http://h/x", "application/json; charset=GBK")
    assert raws[0]["title"] == "澎湃新闻：上海"
    assert parse_column_page(
        json.dumps({"code": "1", "data": {"list": [{"title": "东方财富"}]}}, ensure_ascii=False).encode("gbk"),
        "application/json;charset=gb2312",
    ) == [{"title": "东方财富"}]


def test_a_gb18030_text_is_read_and_characters_outside_gbk_survive():
    html = "<p>𠀀 — 澎湃 €</p>"  # U+20000 exists only in GB18030, not in GBK
    body = json.dumps({"text": html}, ensure_ascii=False).encode("gb18030")
    assert parse_text(body, "text/plain; charset=GB18030") == html
    assert parse_text(body, b"application/json; charset=gbk") == html  # GBK is read as its superset


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_json_in_utf16_or_utf32_is_detected_without_a_bom(codec):
    assert parse_text(json.dumps({"text": "<p>正文</p>"}, ensure_ascii=False).encode(codec)) == "<p>正文</p>"


def test_a_bom_wins_over_a_wrong_charset():
    body = "\ufeff".encode() + json.dumps({"text": "<p>正文</p>"}, ensure_ascii=False).encode()
    assert parse_text(body, "application/json; charset=iso-8859-1") == "<p>正文</p>"


def test_bytes_invalid_in_the_declared_encoding_name_it_and_the_offset():
    body = b'{"text": "<p>\xe6\xad\xa3\xff</p>"}'
    with pytest.raises(FeedError) as caught:
        parse_text(body, "application/json; charset=utf-8")
    assert caught.value.reason == "undecodable"
    assert "utf-8" in caught.value.detail and "at byte 16" in caught.value.detail and "\\xff" in caught.value.detail
    with pytest.raises(FeedError) as caught:
        body_text(b"\x81\x30\x81", "text/html; charset=gb18030")  # a four-byte sequence cut short
    assert caught.value.reason == "undecodable" and "gb18030" in caught.value.detail


def test_html_pages_decode_by_header_or_meta_and_never_silently_replace():
    gbk_page = eastmoney_page("标题", "2022-01-21 18:05:40", "澎湃新闻", "<p>正文</p>").decode()
    gbk_page = gbk_page.replace('<meta charset="utf-8"/>', '<meta charset="gbk"/>').encode("gbk")
    page = eastmoney_article(gbk_page, FETCHED)  # declared in the markup
    assert page.title == "标题" and "正文" in page.content_html and page.media_name == "澎湃新闻"
    assert eastmoney_article(gbk_page, FETCHED, "text/html; charset=GBK").title == "标题"
    with pytest.raises(FeedError) as caught:
        eastmoney_article(gbk_page, FETCHED, "text/html; charset=utf-8")  # the header wins, and is wrong
    assert caught.value.reason == "undecodable"
    detail = text_detail("1", "澎湃标题", "2022-01-12 15:35:00")
    paper = thepaper_page("澎湃标题", detail_data={"contentDetail": detail}).decode().encode("gb18030")
    assert thepaper_article(paper, "1", content_type="text/html; charset=gb18030").title == "澎湃标题"
    with pytest.raises(FeedError) as caught:
        thepaper_article(paper, "1")  # no charset anywhere: UTF-8, and it is not
    assert caught.value.reason == "undecodable"


# --- end to end: a crawl, then its replay ------------------------------------------------


def test_gbk_and_gb18030_bodies_are_archived_and_a_reparse_decodes_them_alike(tmp_path):
    """Real HTTP, a real crawl, then ``reparse`` of its WARC files: the recorded Content-Type
    travels with the bytes, so the replay decodes them as the crawl did."""
    from newsarchive.samples.feedserver import FeedServer, Reply
    from tests.helpers import FAST, read_table, run_cli, run_crawl

    codes = [f"NW20220112{n:010d}" for n in (1, 2, 3)]
    titles = ["国标码", "澎湃新闻", "𠀀字"]
    texts = {
        codes[0]: ("<p>　　上海市数据条例。</p>", "gbk"),
        codes[1]: ("<p>正文 € 𠀀</p>", "gb18030"),
        codes[2]: ("<p>UTF-16 正文</p>", "utf-16-le"),
    }
    with FeedServer() as server:
        listed = [
            {"infoCode": c, "datetime": "2022-01-12 10:00:00", "title": t} for c, t in zip(codes, titles, strict=True)
        ]
        body = json.dumps({"record": listed}, ensure_ascii=False).encode("gb18030")
        server.add("/list?marketType=37", Reply(body=body, content_type="application/json; charset=GB18030"))
        for c, (html, codec) in texts.items():
            charset = "" if codec.startswith("utf-16") else f"; charset={codec}"  # UTF-16: RFC 8259 detection
            text = json.dumps({"text": html}, ensure_ascii=False).encode(codec)
            server.add(f"/text?id={c}", Reply(body=text, content_type="application/json" + charset))
        archive = tmp_path / "archive"
        settings = {
            **FAST,
            "FINEWS_LIST_URLS": server.url("/list?marketType=37"),
            "FINEWS_TEXT_URL": server.url("/text?id={info_code}"),
            "ARCHIVE_URI": archive,
        }
        crawled = run_crawl("finews", settings)
    assert crawled.returncode == 0, crawled.stderr[-3000:]
    got = {r["source_id"]: r for r in read_table(archive, "articles").to_pylist()}
    assert {c: (got[c]["title"], got[c]["content_html"]) for c in codes} == {
        c: (t, texts[c][0]) for c, t in zip(codes, titles, strict=True)
    }
    replayed = tmp_path / "replayed"
    proc = run_cli("reparse", "--warc", str(archive / "warc"), "--archive", str(replayed))
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = {r["source_id"]: r for r in read_table(replayed, "articles").to_pylist()}
    assert {c: (again[c]["title"], again[c]["content_html"]) for c in codes} == {
        c: (got[c]["title"], got[c]["content_html"]) for c in codes
    }


def test_an_eastmoney_crawl_quarantines_poison_entries_and_pages_and_archives_the_rest(tmp_path):
    """The listing spiders (eastmoney here; thepaper shares ``spiders/listing.py``): a huge
    integer or an impossible time spoils only its entry, a GBK page declared in its markup is
    archived, bytes invalid in the declared charset spoil only their page, and a fast-news
    list nested too deep makes the run partial while the column list is archived."""
    from newsarchive.samples.eastmoney_site import EastmoneySite, column_entry
    from newsarchive.samples.feedserver import FeedServer, Reply
    from tests.helpers import FAST, read_table, run_crawl

    good, gbk, huge, future, broken = (f"20220121{n:010d}" for n in range(1, 6))
    with FeedServer() as server:
        site = EastmoneySite(server)
        site.columns = {"345": []}
        site.fast = {"102": []}
        entries = [
            column_entry(good, "好文章", "2022-01-21 10:00:00"),
            column_entry(gbk, "国标码页面", "2022-01-21 09:00:00"),
            column_entry(huge, "巨大的整数", "2022-01-21 08:00:00", views="@huge@"),
            column_entry(future, "九万年", 3_155_760_000_000_000),
            column_entry(broken, "坏字节", "2022-01-21 07:00:00"),
        ]
        listed = json.dumps({"code": "1", "data": {"list": entries}}, ensure_ascii=False)
        site.faults["column:345"] = Reply(body=listed.replace('"@huge@"', "9" * 5000).encode())
        site.faults["fast:102"] = Reply(body=('{"code": "1", "data": {"fastNewsList": ' + deep(DEEP) + "}}").encode())
        site.add_article(good, "好文章", "2022-01-21 10:00:00", "澎湃新闻", "<p>正文。</p>")
        page = eastmoney_page("国标码页面", "2022-01-21 09:00:00", "澎湃新闻", "<p>国标码正文。</p>").decode()
        page = page.replace('<meta charset="utf-8"/>', '<meta charset="gbk"/>').encode("gbk")
        server.add_request_handler(f"/a/{gbk}.html", lambda r: Reply(body=page, content_type="text/html"))
        bad = eastmoney_page("坏字节", None, None, "<p>正文</p>").replace("正文".encode(), b"\xff\xfe")
        server.add_request_handler(f"/a/{broken}.html", lambda r: Reply(body=bad, content_type="text/html"))
        result = run_crawl("eastmoney", {**FAST, **site.settings(), "ARCHIVE_URI": tmp_path})
    assert result.returncode == 1 and result.run["status"] == "partial", result.stderr[-3000:]
    articles = {r["source_id"]: r for r in read_table(tmp_path, "articles").to_pylist()}
    assert set(articles) == {f"NW{good}", f"NW{gbk}"}
    assert "国标码正文" in articles[f"NW{gbk}"]["content_html"]
    rows = read_table(tmp_path, "quarantine").to_pylist()
    got = sorted((r["stage"], r["reason"]) for r in rows)
    assert got == [
        ("list", "number_out_of_range"),
        ("list", "number_out_of_range"),
        ("list", "too_deep"),
        ("text", "undecodable"),
    ], rows
    details = " | ".join(r["detail"] for r in rows)
    assert "`views` (5000-digit integer" in details and "3155760000000000 is no plausible epoch time" in details
    assert "not valid utf-8 (<meta charset='utf-8'>) at byte" in details


def test_a_thepaper_crawl_decodes_pages_as_declared_and_quarantines_the_poison(tmp_path):
    """thepaper: a GB18030 page declared in its header is archived; an impossible list time,
    a page whose ``__NEXT_DATA__`` nests too deep (no markup to fall back on) and a page of
    bytes invalid in UTF-8 cost their article only; a hot list nested too deep makes the run
    partial."""
    from newsarchive.samples.feedserver import FeedServer, Reply
    from newsarchive.samples.thepaper_site import ThepaperSite, entry
    from tests.helpers import FAST, read_table, run_crawl

    with FeedServer() as server:
        site = ThepaperSite(server)
        published = "2022-01-12 15:35:00"
        site.add_channel(
            "25951",
            [
                entry(1, "好文章", published),
                entry(2, "国标码", published),
                entry(3, "负时间", pubTimeLong=-1),
                entry(4, "太深", published),
                entry(5, "坏字节", published),
            ],
        )
        site.add_page(1, thepaper_page("好文章", detail_data={"contentDetail": text_detail("1", "好文章", published)}))
        paper = thepaper_page("国标码", detail_data={"contentDetail": text_detail("2", "国标码", published)})
        gb = Reply(body=paper.decode().encode("gb18030"), content_type="text/html; charset=GB18030")
        server.add_request_handler("/newsDetail_forward_2", site._guarded(lambda r: gb))
        site.add_page(4, thepaper_page("太深", next_data=deep(DEEP)))
        site.add_page(
            5, thepaper_page("坏字节", detail_data={"contentDetail": text_detail("5", "坏", published)})[:-20] + b"\xff"
        )
        site.hot_body = ('{"resultCode": 1, "data": {"hotNews": ' + deep(DEEP) + "}}").encode()
        result = run_crawl("thepaper", {**FAST, **site.settings(), "ARCHIVE_URI": tmp_path})
    assert result.returncode == 1 and result.run["status"] == "partial", result.stderr[-3000:]
    articles = {r["source_id"]: r for r in read_table(tmp_path, "articles").to_pylist()}
    assert set(articles) == {"1", "2"} and articles["2"]["title"] == "国标码"
    rows = read_table(tmp_path, "quarantine").to_pylist()
    got = sorted((r["stage"], r["reason"], r["info_code_raw"]) for r in rows)
    assert got == [
        ("list", "number_out_of_range", None),
        ("list", "too_deep", None),
        ("text", "too_deep", "4"),
        ("text", "undecodable", "5"),
    ], rows
