"""The eastmoney spider end to end: an East Money look-alike on 127.0.0.1 → Iceberg tables.

Lists and pages are built to the documented shapes (newsarchive/eastmoney_site.py); crawls
run as subprocesses and the tables are read back through pyiceberg (and DuckDB over its Arrow).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured

from newsarchive.bodies import FeedError
from newsarchive.htmltext import html_to_text, text_and_credit
from newsarchive.samples.eastmoney_site import (
    COLUMN_PATH,
    FAST_PATH,
    EastmoneySite,
    cfh_entry,
    column_entry,
    fast_entry,
    install_eastmoney,
    page_html,
)
from newsarchive.samples.feedserver import FeedServer, Received, Reply
from newsarchive.timeparse import BEIJING, is_relative, parse_beijing, resolve_time
from spiders.eastmoney import EastmoneySpider
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
from tests.helpers import FAST, CrawlResult, clean_env, counters, read_table, run_cli, run_crawl, sql_rows

QUOTED = (
    '<p>　　<span id="stock_0.002752"><a href="http://quote.eastmoney.com/unify/r/0.002752" class="keytip" '
    'data-code="0,002752">昇兴股份</a></span><span id="quote_0.002752">5.20 +1.2%</span>(002752)1月21日晚间公告，'
    "预计2021年净利同比预增。</p>"
    '<p class="em_media">（文章来源：澎湃新闻）</p>'
)
#: Codes (without NW) of the main site, and what must become of them.
ARCHIVED = {"202201212257099936", "202201212257099937", "202201212257099938", "202201212257099941"}
ARCHIVED |= {"202201212257099942"}
QUARANTINED = {
    "123": "invalid_info_code",
    "NW202201212257099939": "http_error",
    "NW202201212257099940": "not_article",
    "NW202201212257099943": "empty_text",
}
C = "2022012122570999"  # + two digits: the codes above


def build_site(server: FeedServer) -> EastmoneySite:
    site = EastmoneySite(server)
    site.add_article(f"{C}36", "昇兴股份：2021年净利同比预增1117%-1233%", "2022-01-21 18:05:40", "澎湃新闻", QUOTED)
    site.add_article(f"{C}37", "今天的消息", None, "证券时报", "<p>没有时间的页面。</p>")
    site.add_article(f"{C}38", "页面时间优先", "2022-01-11 10:05:00", "中国证券报", "<p>相对时间。</p>")
    site.add_page(f"{C}39", b"gone", status=404)
    site.add_page(f"{C}40", b"<html><head><title>Eastmoney</title></head><body><h1>Home</h1></body></html>")
    site.add_article(f"{C}41", "快讯只有页面来源", None, "上海证券报", "<p>快讯正文。</p>")
    site.add_article(f"{C}42", "第二页的快讯", "2022-01-20 09:00:00", None, "<p>第二页。</p>")
    site.add_page(f"{C}43", page_html("空正文", "2022-01-20 08:00:00", None, "", editor=""))
    site.columns["345"] = [
        column_entry(f"{C}36", "昇兴股份：2021年净利同比预增1117%-1233%", "2022-01-21 18:05:40", "澎湃新闻"),
        column_entry(f"{C}37", "今天的消息", "今天 00:00", "证券时报"),
        column_entry("123", "坏编码", "2022-01-21 10:00:00"),
        "不是对象的条目",
        column_entry(f"{C}38", "页面时间优先", "5分钟前", "中国证券报"),
        column_entry(f"{C}39", "已删除", "2022-01-21 08:00:00"),
        column_entry(f"{C}40", "不是文章", "2022-01-21 07:00:00"),
    ]
    site.fast["102"] = [
        fast_entry(f"{C}36", "昇兴股份：2021年净利同比预增1117%-1233%", "2022-01-21 18:05:40", "900"),
        fast_entry(f"{C}41", "快讯只有页面来源", "3分钟前", "800"),
        fast_entry(f"{C}37", "今天的消息", "今天 00:00", "700"),
        fast_entry(f"{C}40", "不是文章", "2022-01-21 07:00:00", "600"),
        fast_entry(f"{C}39", "已删除", "2022-01-21 06:00:00", "500"),
        fast_entry(f"{C}42", "第二页的快讯", "2022-01-20 09:00:00", "400"),
        fast_entry(f"{C}43", "空正文", "2022-01-20 08:00:00", "300"),
    ]
    return site


SETTINGS = {"EASTMONEY_PAGE_SIZE": "5"}


@pytest.fixture(scope="module")
def site() -> Iterator[EastmoneySite]:
    with FeedServer() as server:
        yield build_site(server)


@dataclass
class TwoRuns:
    archive: Path
    first: CrawlResult
    second: CrawlResult
    seen_first: list[Received]
    seen_second: list[Received]
    started: datetime
    ended: datetime


@pytest.fixture(scope="module")
def two_runs(site: EastmoneySite, tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    """The same site crawled twice into one archive (the second run is incremental)."""
    archive = tmp_path_factory.mktemp("eastmoney")
    settings = {**FAST, **site.settings(), **SETTINGS, "ARCHIVE_URI": archive}
    start, started = len(site.server.received), datetime.now(UTC)
    first = run_crawl("eastmoney", settings)
    middle, ended = len(site.server.received), datetime.now(UTC)
    second = run_crawl("eastmoney", settings)
    received = site.server.received
    return TwoRuns(archive, first, second, received[start:middle], received[middle:], started, ended)


def by_code(archive: Path) -> dict[str, dict[str, Any]]:
    return {r["source_id"][2:]: r for r in sql_rows(archive)}


def pages(seen: list[Received]) -> Counter[str]:
    return Counter(r.path for r in seen if r.path.startswith("/a/"))


# --- the first run ---------------------------------------------------------------------


def test_first_run_archives_every_good_article_once_with_provenance(two_runs, site):
    result = two_runs.first
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.summary["status"] == "complete"
    got = by_code(two_runs.archive)
    assert set(got) == ARCHIVED
    table = read_table(two_runs.archive)
    assert table.num_rows == len(ARCHIVED)  # exactly once
    assert set(table["source"].to_pylist()) == {"eastmoney"}
    for column in ("info_code", "title", "published_at", "content_html", "content_text", "content_sha256"):
        assert table[column].null_count == 0, column
    for column in ("story_id", "source_url", "list_url", "feed", "article_url", "run_id", "fetched_at"):
        assert table[column].null_count == 0, column
    assert set(table["run_id"].to_pylist()) == {result.summary["run_id"]}
    row = got[f"{C}36"]
    assert row["info_code"] == row["source_id"] == f"NW{C}36"
    assert row["article_url"] == row["source_url"] == site.server.url(f"/a/{C}36.html")
    assert row["share_url"] == f"http://finance.eastmoney.com/a/{C}36.html"  # uniqueUrl
    assert row["feed"] == "column:345" and row["list_url"].startswith(site.server.url(COLUMN_PATH))
    assert "column=345" in row["list_url"] and "page_index=1" in row["list_url"]
    assert row["media_name"] == "澎湃新闻" and row["media_slug"] == "pengpaixinwen"
    assert row["media_credit"] == "（文章来源：澎湃新闻）"
    assert row["published_at"] == datetime(2022, 1, 21, 10, 5, 40, tzinfo=UTC)
    assert row["http_status"] == 200 and row["spider"] == "eastmoney" and row["warc_filename"]
    assert two_runs.started <= row["fetched_at"] <= two_runs.ended


def test_one_page_request_per_info_code_and_the_first_list_wins(two_runs):
    requested = pages(two_runs.seen_first)
    assert set(requested.values()) == {1}
    assert {p[3:-5] for p in requested} == ARCHIVED | {f"{C}39", f"{C}40", f"{C}43"}
    got = by_code(two_runs.archive)
    assert got[f"{C}41"]["feed"] == "fast:102" and "fastColumn=102" in got[f"{C}41"]["list_url"]
    assert got[f"{C}42"]["feed"] == "fast:102"  # from the second page of the fast news
    assert counters(two_runs.first)["eastmoney_listed_again"] == 4


def test_list_requests_carry_referer_req_trace_and_cursor(two_runs):
    lists = [r for r in two_runs.seen_first if r.path in (COLUMN_PATH, FAST_PATH)]
    assert all(r.header("Referer") == "https://kuaixun.eastmoney.com/7_24.html" for r in lists)
    assert all(r.query["req_trace"] == "newsarchive" for r in lists)
    columns = [r.query for r in lists if r.path == COLUMN_PATH]
    assert [(q["column"], q["page_index"], q["page_size"]) for q in columns] == [("345", "1", "5"), ("345", "2", "5")]
    assert columns[0]["biz"] == "web_news_col" and "uniqueUrl" in columns[0]["fields"]
    fast = [r.query for r in lists if r.path == FAST_PATH]
    assert [(q["fastColumn"], q["sortEnd"]) for q in fast] == [("102", ""), ("102", "500")]  # last realSort
    assert all(r.header("Referer") for r in two_runs.seen_first if r.path != "/robots.txt")


def test_content_text_drops_quote_noise_and_the_editor_line(two_runs):
    row = by_code(two_runs.archive)[f"{C}36"]
    assert row["content_text"] == "昇兴股份(002752)1月21日晚间公告，预计2021年净利同比预增。"
    assert 'class="keytip"' in row["content_html"] and "5.20 +1.2%" in row["content_html"]
    assert '<p class="res-edit">(责任编辑：DF528)</p>' in row["content_html"]  # the body as served


def test_relative_times_resolve_against_the_fetch_time_in_beijing(two_runs):
    got = by_code(two_runs.archive)
    today = got[f"{C}37"]["published_at"].astimezone(BEIJING)
    assert (today.hour, today.minute) == (0, 0)
    assert today.date() in {two_runs.started.astimezone(BEIJING).date(), two_runs.ended.astimezone(BEIJING).date()}
    # "5分钟前" in the list, an exact time on the page: the page wins
    assert got[f"{C}38"]["published_at"] == datetime(2022, 1, 11, 2, 5, tzinfo=UTC)
    # "3分钟前" and no time on the page: the list's, read against the fetch time
    ago = got[f"{C}41"]["published_at"]
    assert two_runs.started - timedelta(minutes=3, seconds=5) <= ago <= two_runs.ended - timedelta(minutes=3)
    assert got[f"{C}41"]["media_name"] == "上海证券报"  # fast news name no medium: the page's source


def test_every_bad_entry_or_page_is_quarantined_with_its_reason(two_runs):
    found = sql_rows(two_runs.archive, kind="quarantine")
    reasons = {r["info_code_raw"]: r["reason"] for r in found if r["info_code_raw"] is not None}
    assert reasons == QUARANTINED
    (bad,) = [r for r in found if r["reason"] == "bad_record"]
    assert json.loads(bad["raw"]) == "不是对象的条目"
    assert next(r for r in found if r["reason"] == "http_error")["http_status"] == 404
    assert "no div#ContentBody" in next(r for r in found if r["reason"] == "not_article")["detail"]
    assert counters(two_runs.first)["quarantined"] == len(QUARANTINED) + 1


def test_second_run_fetches_no_article_and_stops_paging_at_the_archive(two_runs):
    second = two_runs.second
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.summary["articles_written"] == 0
    # the three pages that failed are asked again; nothing archived is
    assert set(pages(two_runs.seen_second)) == {f"/a/{C}39.html", f"/a/{C}40.html", f"/a/{C}43.html"}
    columns = [r.query["page_index"] for r in two_runs.seen_second if r.path == COLUMN_PATH]
    assert columns == ["1"]  # page 1 ends with an archived entry: no page 2
    fast = [r.query["sortEnd"] for r in two_runs.seen_second if r.path == FAST_PATH]
    assert fast == ["", "500"]  # page 1 ends with the page that failed: it goes on
    assert counters(second)["eastmoney_stop_archived"] == 1
    assert len(sql_rows(two_runs.archive)) == len(ARCHIVED)


# --- filters, bounds and paging ----------------------------------------------------------------


def dated_site(server: FeedServer, days: int = 5, media: str = "澎湃新闻") -> EastmoneySite:
    """One column, one entry a day from 2022-01-12 back, a page each (media alternating)."""
    site = EastmoneySite(server)
    entries = []
    for n in range(days):
        code, when = f"2022011222452999{70 + n}", f"2022-01-{12 - n:02d} 10:00:00"
        who = media if n % 2 == 0 else "财联社"
        site.add_article(code, f"文章{n}", when, who, f"<p>正文{n}</p>")
        entries.append(column_entry(code, f"文章{n}", when, who))
    site.columns["345"] = entries
    return site


def crawl_dated(tmp_path: Path, site: EastmoneySite, **extra: str) -> CrawlResult:
    settings = {**FAST, **site.settings(), "EASTMONEY_PAGE_SIZE": "1", "EASTMONEY_MAX_PAGES": "10"}
    return run_crawl("eastmoney", {**settings, **extra, "ARCHIVE_URI": tmp_path})


def test_media_filter_keeps_only_the_named_media(tmp_path, feed_server):
    site = dated_site(feed_server)
    result = crawl_dated(tmp_path, site, EASTMONEY_MEDIA="澎湃新闻")
    assert result.returncode == 0, result.stderr[-3000:]
    assert {r["media_name"] for r in sql_rows(tmp_path)} == {"澎湃新闻"}
    assert len(sql_rows(tmp_path)) == 3
    assert len(pages(feed_server.received)) == 3  # the others are never requested
    assert counters(result)["eastmoney_media_skipped"] == 2


def test_since_stops_paging_and_until_skips_newer_entries(tmp_path, feed_server):
    site = dated_site(feed_server)
    result = crawl_dated(tmp_path, site, EASTMONEY_SINCE="2022-01-10", EASTMONEY_UNTIL="2022-01-11")
    assert result.returncode == 0, result.stderr[-3000:]
    assert {r["title"] for r in sql_rows(tmp_path)} == {"文章1", "文章2"}
    assert len(site.requests_to(COLUMN_PATH)) == 4  # page 4 reaches below the bound: no page 5
    assert counters(result)["eastmoney_stop_since"] == 1


def test_max_pages_bounds_the_paging(tmp_path, feed_server):
    site = dated_site(feed_server)
    result = crawl_dated(tmp_path, site, EASTMONEY_MAX_PAGES="2")
    assert result.returncode == 0
    assert {r["title"] for r in sql_rows(tmp_path)} == {"文章0", "文章1"}
    assert counters(result)["eastmoney_stop_max_pages"] == 1


# --- faults of the lists ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "reason", "words"),
    [
        (Reply(body=b'{"code": "-1", "message": "system busy", "data": null}'), "api_error", "system busy"),
        (Reply(body=b'{"code": "1", "data": {"lst": []}}'), "bad_feed", "no data.fastNewsList"),
        (Reply(body=b'{"code": "1", "data": {"fastNewsList": [{"code": '), "bad_json", "truncated"),
        (Reply(status=404, body=b"not found"), "http_error", "404"),
        (Reply(body=b"<html>maintenance</html>", content_type="text/html"), "bad_json", "HTML"),
    ],
)
def test_a_bad_list_is_quarantined_and_the_good_one_still_archived(tmp_path, feed_server, reply, reason, words):
    site = dated_site(feed_server, days=2)
    site.fast["102"] = []
    site.faults["fast:102"] = reply
    result = crawl_dated(tmp_path, site)
    assert result.returncode == 1 and result.run["status"] == "partial"
    (row,) = sql_rows(tmp_path, kind="quarantine")
    assert row["reason"] == reason and words in row["detail"] and "fast:102 page 1" in row["detail"]
    assert row["stage"] == "list"
    assert len(sql_rows(tmp_path)) == 2  # the column's articles are archived anyway


def test_without_a_referer_the_lists_are_refused_and_the_run_fails(tmp_path, feed_server):
    site = dated_site(feed_server, days=1)
    result = crawl_dated(tmp_path, site, EASTMONEY_REFERER="")
    assert result.returncode == 1 and result.run["status"] == "failed"
    assert counters(result)["quarantined_by_reason"] == {"http_error": 1}


def test_bad_settings_exit_2_from_the_cli(tmp_path):
    proc = run_cli("crawl", "eastmoney", "-s", "EASTMONEY_COLUMNS=345,abc", "-s", f"ARCHIVE_URI={tmp_path}")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "numeric column ids" in proc.stderr


# --- the link with the finews spider -------------------------------------------------------------


LINKED = "NW202201122245299970"


def test_the_two_infocode_sources_link_by_story_id(tmp_path, sample_settings):
    finews = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": tmp_path})
    assert finews.returncode == 0, finews.stderr[-3000:]
    with FeedServer() as server:
        settings = install_eastmoney(server)
        east = run_crawl("eastmoney", {**FAST, **settings, "ARCHIVE_URI": tmp_path})
    assert east.returncode == 0, east.stderr[-3000:]
    assert east.summary["articles_written"] == 44
    once = sql_rows(tmp_path, "SELECT CAST(source AS VARCHAR) AS s, info_code, count(*) AS n FROM a GROUP BY ALL")
    assert len(once) == 88 and {r["n"] for r in once} == {1}  # each article once per source
    joined = sql_rows(
        tmp_path,
        "SELECT f.info_code, f.story_id = e.story_id AS same_story, f.content_text = e.content_text AS same_text "
        "FROM a f JOIN a e ON f.info_code = e.info_code WHERE f.source = 'finews' AND e.source = 'eastmoney'",
    )
    assert len(joined) == 44 and all(r["same_story"] and r["same_text"] for r in joined)
    # the story of NW202201122245299970 (澎湃新闻): one row in each source, one story_id
    table = read_table(tmp_path, selected_fields=("source", "story_id", "info_code"))
    story = {
        s for s, c in zip(table["story_id"].to_pylist(), table["info_code"].to_pylist(), strict=True) if c == LINKED
    }
    assert len(story) == 1
    sources = [
        s for s, sid in zip(table["source"].to_pylist(), table["story_id"].to_pylist(), strict=True) if sid in story
    ]
    assert sorted(sources) == ["eastmoney", "finews"]


# --- the formats, without a network ----------------------------------------------------------------

FETCHED = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)  # 2026-01-01 09:00 in Beijing


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


# --- configuration ------------------------------------------------------------------------


def crawler_for(tmp_path: Path, **overrides: Any) -> Any:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    from newsarchive import settings as project

    settings = Settings()
    settings.setmodule(project, priority="project")
    settings.setdict({"ARCHIVE_URI": str(tmp_path), **overrides}, priority="cmdline")
    return Crawler(EastmoneySpider, settings)


def test_defaults_are_polite_and_keep_to_the_three_hosts(tmp_path):
    crawler = crawler_for(tmp_path)
    spider = EastmoneySpider.from_crawler(crawler)
    assert spider.columns == ["344", "345", "350", "372", "1207"] and spider.fast  # 366 is named nowhere
    assert crawler.settings.getfloat("DOWNLOAD_DELAY") == 1.0
    assert crawler.settings.getfloat("DOWNLOAD_DELAY_JITTER") == 0.0
    assert spider.allowed_domains == [
        "finance.eastmoney.com",
        "np-listapi.eastmoney.com",
        "np-weblist.eastmoney.com",
    ]
    request = spider._list_request("column:345", 2)
    assert request.url == (
        "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns?client=web&biz=web_news_col&order=1"
        "&needInteractData=0&fields=code,showTime,title,mediaName,summary,image,url,uniqueUrl,Np_dst"
        "&column=345&page_index=2&page_size=50&req_trace=newsarchive"
    )
    fast = spider._list_request("fast:102", 2, "123")
    assert fast.url == (
        "https://np-weblist.eastmoney.com/comm/web/getFastNewsList?client=web&biz=web_724"
        "&fastColumn=102&sortEnd=123&pageSize=50&req_trace=newsarchive"
    )
    assert request.meta["download_slot"] == fast.meta["download_slot"] == "eastmoney"
    assert request.headers["Referer"] == b"https://kuaixun.eastmoney.com/7_24.html"
    entry = read_entry(column_entry("202201122245299970", "t", "2022-01-12 10:00"), "c", "u", (0, 1, 0), FETCHED)
    assert spider.page_url(entry) == "https://finance.eastmoney.com/a/202201122245299970.html"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"EASTMONEY_COLUMNS": "345,abc"}, "numeric column ids"),
        ({"EASTMONEY_COLUMNS": "", "EASTMONEY_FAST": "False"}, "nothing to crawl"),
        ({"EASTMONEY_FAST_COLUMN": "7x24"}, "EASTMONEY_FAST_COLUMN"),
        ({"EASTMONEY_SINCE": "last week"}, "EASTMONEY_SINCE"),
        ({"EASTMONEY_SINCE": "2022-02-01", "EASTMONEY_UNTIL": "2022-01-01"}, "after"),
        ({"EASTMONEY_WEB_BASE": "finance.eastmoney.com"}, "http(s) URL"),
        ({"EASTMONEY_ARTICLE_PATH": "/a/"}, "{code}"),
        ({"EASTMONEY_FAST_PATH": "comm/web/getFastNewsList"}, "EASTMONEY_FAST_PATH"),
        ({"EASTMONEY_MAX_PAGES": "0"}, "at least 1"),
        ({"EASTMONEY_REQ_TRACE": ""}, "req_trace"),
        ({"EASTMONEY_MAX_ARTICLE_PAGES": "0"}, "EASTMONEY_MAX_ARTICLE_PAGES"),
    ],
)
def test_bad_configuration_is_a_clear_error(tmp_path, overrides, words):
    with pytest.raises(NotConfigured, match=re.escape(words)):
        EastmoneySpider.from_crawler(crawler_for(tmp_path, **overrides))


def test_every_eastmoney_setting_reads_from_the_environment():
    from newsarchive.config import setting

    env = {
        "NEWSARCHIVE_EASTMONEY_COLUMNS": "345, 1207",
        "NEWSARCHIVE_EASTMONEY_FAST": "false",
        "NEWSARCHIVE_EASTMONEY_MEDIA": "澎湃新闻,财联社",
        "NEWSARCHIVE_EASTMONEY_MAX_PAGES": "2",
        "NEWSARCHIVE_EASTMONEY_SINCE": "2025-07-01",
        "NEWSARCHIVE_EASTMONEY_DOWNLOAD_DELAY": "0.5",
        "NEWSARCHIVE_EASTMONEY_LIST_BASE": "http://127.0.0.1:1",
        "NEWSARCHIVE_EASTMONEY_MAX_ARTICLE_PAGES": "3",
    }
    assert setting("EASTMONEY_COLUMNS", env) == ["345", "1207"]
    assert setting("EASTMONEY_FAST", env) is False
    assert setting("EASTMONEY_MEDIA", env) == ["澎湃新闻", "财联社"]
    assert setting("EASTMONEY_MAX_PAGES", env) == 2 and setting("EASTMONEY_DOWNLOAD_DELAY", env) == 0.5
    assert setting("EASTMONEY_SINCE", env) == "2025-07-01"
    assert setting("EASTMONEY_LIST_BASE", env) == "http://127.0.0.1:1"
    assert setting("EASTMONEY_MAX_ARTICLE_PAGES", env) == 3 and setting("EASTMONEY_MAX_ARTICLE_PAGES", {}) == 10
    assert setting("EASTMONEY_WEB_BASE", {}) == "https://finance.eastmoney.com"


def test_the_environment_configures_a_real_crawl(tmp_path, feed_server):
    site = dated_site(feed_server, days=1)
    env = clean_env(**{f"NEWSARCHIVE_{k}": str(v) for k, v in site.settings().items()})
    result = run_crawl("eastmoney", {**FAST, "ARCHIVE_URI": tmp_path}, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.run["settings"])["EASTMONEY_COLUMNS"] == ["345"]
    assert len(sql_rows(tmp_path)) == 1
    assert parse_beijing("2022-01-12 10:00:00") == sql_rows(tmp_path)[0]["published_at"]


# --- East Money as public code shows it (issue 16) ---------------------------------------------

D = "2022020812345678"  # + two digits


def quarantined(archive: Path) -> list[dict[str, Any]]:
    return sql_rows(archive, kind="quarantine")


def crawl(tmp_path: Path, site: EastmoneySite, **extra: str) -> CrawlResult:
    settings = {**FAST, **site.settings(), "EASTMONEY_PAGE_SIZE": "5", **extra, "ARCHIVE_URI": tmp_path}
    return run_crawl("eastmoney", settings)


def test_cfh_posts_are_skipped_on_purpose_counted_and_never_requested(tmp_path, feed_server):
    site = EastmoneySite(feed_server)
    site.add_article(f"{D}01", "普通文章", "2022-02-08 10:00:00", "证券时报", "<p>正文。</p>")
    site.columns["345"] = [
        column_entry(f"{D}01", "普通文章", "2022-02-08 10:00:00", "证券时报"),
        cfh_entry(f"{D}02", "2月7日东方财富财经晚报（附新闻联播）", "2022-02-07 20:00:00"),
        cfh_entry(f"{D}03", "财富号：键名大写", "2022-02-07 19:00:00", np_dst=None, Np_dst="CFH"),
        cfh_entry(f"{D}04", "财富号：值小写", "2022-02-07 18:00:00", np_dst="cfh"),
        cfh_entry("2022020717235566561", "财富号：编码不是18位", "2022-02-07 17:00:00"),
    ]
    del site.columns["345"][2]["np_dst"]
    # the fast news carries a CFH code too, without np_dst: it is still never asked at /a/
    site.fast["102"] = [fast_entry(f"{D}02", "2月7日东方财富财经晚报（附新闻联播）", "2022-02-07 20:00:00", "9")]
    result = crawl(tmp_path, site)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.run["status"] == "complete"
    assert [r["source_id"] for r in sql_rows(tmp_path)] == [f"NW{D}01"]
    assert quarantined(tmp_path) == []  # nothing failed: skipped on purpose
    assert set(pages(feed_server.received)) == {f"/a/{D}01.html"}
    assert not any("caifuhao" in r.path or r.path.startswith("/news/") for r in feed_server.received)
    assert counters(result)["eastmoney_skipped_cfh"] == 4


@pytest.mark.parametrize("code", [1, "1"])
def test_column_success_code_as_int_or_string(tmp_path, feed_server, code):
    site = dated_site(feed_server, days=2)
    site.column_code = code
    result = crawl_dated(tmp_path, site)
    assert result.returncode == 0 and result.run["status"] == "complete"
    assert len(sql_rows(tmp_path)) == 2


def test_a_missing_req_trace_answer_is_an_api_error_naming_the_message(tmp_path, feed_server):
    site = dated_site(feed_server, days=1)
    site.fast["102"] = [fast_entry(f"{D}10", "快讯", "2022-01-12 11:00:00", "1")]
    site.add_article(f"{D}10", "快讯", "2022-01-12 11:00:00", None, "<p>快讯正文。</p>")
    message = "Required String parameter 'req_trace' is not present"
    site.faults["column:345"] = Reply(body=json.dumps({"code": 0, "message": message}).encode())
    result = crawl_dated(tmp_path, site)
    assert result.returncode == 1 and result.run["status"] == "partial"
    (row,) = quarantined(tmp_path)
    assert row["reason"] == "api_error" and row["stage"] == "list"
    assert "column:345 page 1" in row["detail"] and message in row["detail"] and "code 0" in row["detail"]
    assert [r["source_id"] for r in sql_rows(tmp_path)] == [f"NW{D}10"]


def fast_site(server: FeedServer, n: int) -> EastmoneySite:
    site = EastmoneySite(server)
    entries = []
    for i in range(n):
        code, when = f"{D}{20 + i}", f"2022-02-08 {10 - i // 6:02d}:{59 - i:02d}:00"
        site.add_article(code, f"快讯{i}", when, "财联社", f"<p>快讯{i}。</p>")
        entries.append(fast_entry(code, f"快讯{i}", when, f"164428{i:02d}00{90 - i:02d}"))
    site.fast["102"] = entries
    return site


def test_fast_news_pages_with_data_sort_end(tmp_path, feed_server):
    site = fast_site(feed_server, 8)
    # the page's last entry comes without its realSort: only data.sortEnd says where page 2 starts
    last = site.fast["102"][4]
    last["_sort"] = last.pop("realSort")
    result = crawl(tmp_path, site, EASTMONEY_COLUMNS="")
    assert result.returncode == 0 and result.run["status"] == "complete"
    cursors = [r.query["sortEnd"] for r in site.requests_to(FAST_PATH)]
    assert cursors == ["", last["_sort"]]
    assert len(sql_rows(tmp_path)) == 8
    assert "eastmoney_listed_again" not in counters(result)  # no entry served twice


def test_fast_news_falls_back_to_the_last_real_sort_without_sort_end(tmp_path, feed_server):
    site = fast_site(feed_server, 8)
    site.sort_end = False
    result = crawl(tmp_path, site, EASTMONEY_COLUMNS="")
    assert result.returncode == 0 and result.run["status"] == "complete"
    assert [r.query["sortEnd"] for r in site.requests_to(FAST_PATH)] == ["", site.fast["102"][4]["realSort"]]
    assert len(sql_rows(tmp_path)) == 8


def test_paging_past_the_end_of_the_fast_news_is_the_end_not_a_fault(tmp_path, feed_server):
    site = fast_site(feed_server, 5)  # exactly one full page: page 2 answers data: null
    result = crawl(tmp_path, site, EASTMONEY_COLUMNS="")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.run["status"] == "complete" and result.run["problems"] == []
    assert len(site.requests_to(FAST_PATH)) == 2
    assert quarantined(tmp_path) == []
    assert len(sql_rows(tmp_path)) == 5
    assert counters(result)["eastmoney_stop_end_of_feed"] == 1


def test_media_of_fast_news_is_decided_on_the_page(tmp_path, feed_server):
    site = EastmoneySite(feed_server)
    when = "2022-02-08 10:00:00"
    site.add_article(f"{D}40", "澎湃无来源字样", when, "澎湃新闻", "<p>一。</p>", labelled=False)
    site.add_article(f"{D}41", "澎湃正文署名", when, None, "<p>二。</p><p>（文章来源：澎湃新闻）</p>")
    site.add_article(f"{D}42", "财联社有来源字样", when, "财联社", "<p>三。</p>")
    site.add_article(f"{D}43", "证券时报无来源字样", when, "证券时报", "<p>四。</p>", labelled=False)
    site.add_article(f"{D}44", "澎湃有来源字样", when, "澎湃新闻", "<p>五。</p>")
    site.fast["102"] = [fast_entry(f"{D}{n}", f"快讯{n}", when, f"{100 - n}") for n in range(40, 45)]
    result = crawl(tmp_path, site, EASTMONEY_COLUMNS="", EASTMONEY_MEDIA="澎湃新闻", EASTMONEY_PAGE_SIZE="10")
    assert result.returncode == 0, result.stderr[-3000:]
    got = {r["source_id"][2:]: r for r in sql_rows(tmp_path)}
    assert set(got) == {f"{D}40", f"{D}41", f"{D}44"}
    assert {r["media_name"] for r in got.values()} == {"澎湃新闻"}
    assert got[f"{D}41"]["content_text"] == "二。" and got[f"{D}41"]["media_credit"] == "（文章来源：澎湃新闻）"
    assert counters(result)["eastmoney_media_skipped"] == 2


def test_long_articles_are_one_row_of_every_page_in_order(tmp_path, feed_server):
    from tests.helpers import the_record_at

    site = EastmoneySite(feed_server)
    bodies = ["<p>第一页。</p>", "<p>第二页。</p>", "<p>第三页。</p>"]
    paths = site.add_long_article(f"{D}50", "长文", "2022-02-08 10:00:00", "澎湃新闻", bodies, labelled=False)
    site.add_article(f"{D}51", "短文", "2022-02-08 09:00:00", "澎湃新闻", "<p>短。</p>", spaced_title=True)
    # fast news give no usable title: the page's (div.title; no h1 anywhere)
    site.fast["102"] = [fast_entry(f"{D}50", "", "2022-02-08 10:00:00", "2"), fast_entry(f"{D}51", "", "", "1")]
    result = crawl(tmp_path, site, EASTMONEY_COLUMNS="")
    assert result.returncode == 0 and result.run["status"] == "complete", result.stderr[-3000:]
    got = {r["source_id"][2:]: r for r in sql_rows(tmp_path)}
    assert set(got) == {f"{D}50", f"{D}51"}
    row = got[f"{D}50"]
    assert row["title"] == "长文" and got[f"{D}51"]["title"] == "短文"
    assert row["content_text"] == "第一页。\n第二页。\n第三页。"  # no ad slot, no editor's line
    html = row["content_html"]
    assert [html.index(b) for b in bodies] == sorted(html.index(b) for b in bodies)
    assert html.count('class="ad_context3"') == 3 and html.count("res-edit") == 1  # as received
    requested = [r.path for r in feed_server.received if r.path.startswith(f"/a/{D}50")]
    assert requested == paths  # each page once, in order
    assert row["source_url"] == site.server.url(paths[0]) and row["media_name"] == "澎湃新闻"
    record, _ = the_record_at(tmp_path, row["warc_filename"], row["warc_record_offset"], row["warc_record_length"])
    assert record.rec_headers.get_header("WARC-Target-URI") == site.server.url(paths[0])  # page 1's exchange
    assert counters(result)["eastmoney_continuation_pages"] == 2


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (404, b"gone", "http_error"),
        (200, b"<html><head><title>Eastmoney</title></head><body>home</body></html>", "not_article"),
    ],
)
def test_a_failed_continuation_page_quarantines_the_article_whole(tmp_path, feed_server, status, body, reason):
    site = EastmoneySite(feed_server)
    bodies = ["<p>第一页。</p>", "<p>第二页。</p>", "<p>第三页。</p>"]
    site.add_long_article(f"{D}60", "长文", "2022-02-08 10:00:00", "澎湃新闻", bodies)
    site.add_page(f"{D}60_2", body, status=status)  # page 2 is bad; page 3 is never asked
    site.add_article(f"{D}61", "短文", "2022-02-08 09:00:00", "澎湃新闻", "<p>短。</p>")
    site.fast["102"] = [fast_entry(f"{D}60", "长文", "", "2"), fast_entry(f"{D}61", "短文", "", "1")]
    result = crawl(tmp_path, site, EASTMONEY_COLUMNS="")
    assert result.returncode == 0 and result.run["status"] == "complete"
    assert [r["source_id"] for r in sql_rows(tmp_path)] == [f"NW{D}61"]
    (row,) = quarantined(tmp_path)
    assert row["reason"] == reason and row["http_status"] == status and row["info_code_raw"] == f"NW{D}60"
    assert "page 2 of the article" in row["detail"] and row["url"].endswith(f"/a/{D}60_2.html")
    from tests.helpers import the_record_at

    record, _ = the_record_at(tmp_path, row["warc_filename"], row["warc_record_offset"], row["warc_record_length"])
    assert record.rec_headers.get_header("WARC-Target-URI") == row["url"]  # that page's exchange
    assert not any(r.path == f"/a/{D}60_3.html" for r in feed_server.received)


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


def test_a_long_article_reparses_from_the_warc_to_the_same_row(tmp_path):
    import shutil

    from tests.helpers import last_json

    with FeedServer() as server:
        site = EastmoneySite(server)
        bodies = ["<p>第一页。</p>", "<p>第二页。</p>"]
        site.add_long_article(f"{D}70", "长文", "2022-02-08 10:00:00", "澎湃新闻", bodies)
        site.fast["102"] = [fast_entry(f"{D}70", "长文", "2022-02-08 10:00:00", "1")]
        result = crawl(tmp_path / "original", site, EASTMONEY_COLUMNS="")
        assert result.returncode == 0, result.stderr[-3000:]
        served = len(server.received)
    (before,) = sql_rows(tmp_path / "original")
    archive = tmp_path / "copy"  # a working directory holding only the WARC files, no tables
    shutil.copytree(tmp_path / "original" / "warc", archive / "warc")
    # the server is gone: only the WARC answers
    done = run_cli("reparse", "--warc", str(archive / "warc"), "--archive", str(archive))
    assert done.returncode == 0 and last_json(done.stdout)["articles_written"] == 1, done.stderr[-3000:]
    (after,) = sql_rows(archive)
    assert served == len(server.received)
    for column in ("content_html", "content_text", "source_url", "warc_filename", "warc_record_offset", "fetched_at"):
        assert after[column] == before[column], column
