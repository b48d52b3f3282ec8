"""The eastmoney spider end to end: the East Money look-alike on 127.0.0.1 crawled twice into
one archive, the tables read back through pyiceberg (and DuckDB over its Arrow); and the link
with the finews spider by story id.

Lists and pages are built to the documented shapes (tests/sites.py,
newsarchive/samples/eastmoney_site.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from newsarchive.samples.eastmoney_site import COLUMN_PATH, FAST_PATH, EastmoneySite, install_eastmoney
from newsarchive.samples.feedserver import FeedServer
from newsarchive.timeparse import BEIJING
from tests.helpers import FAST, counters, read_table, run_crawl, sql_rows
from tests.sites import C, TwoRuns, crawl_twice, eastmoney_sample, pages

#: Codes (without NW) of the main site, and what must become of them.
ARCHIVED = {"202201212257099936", "202201212257099937", "202201212257099938", "202201212257099941"}

ARCHIVED |= {"202201212257099942"}

QUARANTINED = {
    "123": "invalid_info_code",
    "NW202201212257099939": "http_error",
    "NW202201212257099940": "not_article",
    "NW202201212257099943": "empty_text",
}

SETTINGS = {"EASTMONEY_PAGE_SIZE": "5"}


@pytest.fixture(scope="module")
def site() -> Iterator[EastmoneySite]:
    with FeedServer() as server:
        yield eastmoney_sample(server)


@pytest.fixture(scope="module")
def two_runs(site: EastmoneySite, tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    """The same site crawled twice into one archive (the second run is incremental)."""
    archive = tmp_path_factory.mktemp("eastmoney")
    return crawl_twice("eastmoney", site.server, {**FAST, **site.settings(), **SETTINGS, "ARCHIVE_URI": archive})


def by_code(archive: Path) -> dict[str, dict[str, Any]]:
    return {r["source_id"][2:]: r for r in sql_rows(archive)}


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
