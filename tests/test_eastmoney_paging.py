"""Small crawls of purpose-built East Money look-alikes: the media filter, the SINCE/UNTIL/
MAX_PAGES bounds, faults of the lists, and East Money as public code shows it (issue 16:
CFH posts, success codes, fast-news cursors, multi-page articles).
"""

from __future__ import annotations

import json

import pytest

from newsarchive.samples.eastmoney_site import (
    COLUMN_PATH,
    FAST_PATH,
    EastmoneySite,
    cfh_entry,
    column_entry,
    fast_entry,
)
from newsarchive.samples.feedserver import FeedServer, Reply
from tests.helpers import counters, run_cli, sql_rows
from tests.sites import D, crawl, crawl_dated, dated_site, fast_site, pages, quarantined

# --- filters, bounds and paging ----------------------------------------------------------------


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


# --- East Money as public code shows it (issue 16) ---------------------------------------------


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
