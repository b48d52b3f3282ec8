"""The thepaper spider end to end: the full thepaper.cn look-alike on 127.0.0.1 crawled twice
into one archive, the tables read back through pyiceberg (and DuckDB over its Arrow).

The hot list and the homepage are real saved answers; channel lists and article pages are
built to the documented structure (tests/sites.py, newsarchive/samples/thepaper_site.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from newsarchive.samples.feedserver import FeedServer
from newsarchive.samples.thepaper_site import (
    CHANNEL_PATH,
    HOT_PATH,
    SIDEBAR,
    ThepaperSite,
    entry,
    page_html,
    text_detail,
)
from newsarchive.timeparse import BEIJING
from tests.helpers import FAST, counters, read_table, run_crawl, sql_rows
from tests.sites import CH_A, CH_B, COVER, IMG_A, IMG_B, OFFSITE, VIDEO, TwoRuns, by_id, crawl_twice, thepaper_sample

#: contIds the site's lists carry that must be archived (besides the 34 of the hot list).
ARCHIVED = {"100001", "100002", "100004", "100005", "100006", "100008", "100011"}

#: contIds (or raw ids) that must be quarantined, with the reason.
QUARANTINED = {
    "100003": "offsite",
    "../1": "invalid_id",
    "100007": "not_article",
    "100009": "live_page",
    "100010": "special_topic",
    "100012": "http_error",
    "100013": "not_article",
    "100014": "empty_text",
    "100015": "bad_json",
}


@pytest.fixture(scope="session")
def site() -> Iterator[ThepaperSite]:
    with FeedServer() as server:
        yield thepaper_sample(server)


@pytest.fixture(scope="session")
def two_runs(site: ThepaperSite, tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    """The same site crawled twice into one archive (the second run is incremental)."""
    archive = tmp_path_factory.mktemp("thepaper")
    return crawl_twice("thepaper", site.server, {**FAST, **site.settings(), "ARCHIVE_URI": archive})


# --- the first run ---------------------------------------------------------------------


def test_first_run_archives_every_good_article_and_completes(two_runs, site):
    result = two_runs.first
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.summary["status"] == "complete"
    got = by_id(two_runs.archive)
    assert set(got) == ARCHIVED | set(site.hot_ids)
    assert len(site.hot_ids) == 34
    table = read_table(two_runs.archive)
    assert set(table["source"].to_pylist()) == {"thepaper"}
    assert table["info_code"].null_count == table.num_rows
    for column in (
        "title",
        "published_at",
        "content_html",
        "content_sha256",
        "story_id",
        "source_url",
        "feed",
    ):
        assert table[column].null_count == 0, column


def test_channel_requests_carry_what_the_waf_wants(two_runs, site):
    posts = [r for r in two_runs.seen_first if r.path == CHANNEL_PATH]
    assert len(posts) == 3  # 25950 pages 1 and 2, 25951 page 1
    bodies = [json.loads(r.body) for r in posts]
    for r, body in zip(posts, bodies, strict=True):
        assert r.method == "POST"
        assert r.header("Referer") == "https://www.thepaper.cn/"
        assert r.header("Content-Type") == "application/json"
        assert set(body) == {
            "channelId",
            "pageNum",
            "pageSize",
            "startTime",
            "excludeContIds",
            "listRecommendIds",
        }
        assert body["pageSize"] == 20
    pages = {(b["channelId"], b["pageNum"]): b["startTime"] for b in bodies}
    assert pages == {(CH_A, 1): "", (CH_A, 2): site.cursor(CH_A, 1), (CH_B, 1): ""}
    others = [r for r in two_runs.seen_first if r.path != "/robots.txt"]
    assert all(r.header("Referer") for r in others)


def test_one_page_request_per_cont_id_and_the_first_list_wins(two_runs, site):
    pages = Counter(r.path for r in two_runs.seen_first if r.path.startswith("/newsDetail_forward_"))
    assert set(pages.values()) == {1}
    requested = {p.rsplit("_", 1)[1] for p in pages}
    assert requested == (set(QUARANTINED) - {"100003", "../1"}) | ARCHIVED | set(site.hot_ids)
    got = by_id(two_runs.archive)
    assert got["100001"]["feed"] == f"channel-{CH_A}"  # listed by both channels and a topic
    hot_in_channel = str(json.loads(SIDEBAR.read_bytes())["data"]["hotNews"][0]["contId"])
    assert got[hot_in_channel]["feed"] == f"channel-{CH_B}"  # channels rank before the hot list
    others = [got[c] for c in site.hot_ids if c != hot_in_channel]
    assert {r["feed"] for r in others} == {"hot"}
    assert {r["list_url"] for r in others} == {site.server.url(HOT_PATH)}
    assert got["100011"]["feed"] == "topic-100010"


def test_a_full_article_has_the_fields_only_the_source_has(two_runs, site):
    row = by_id(two_runs.archive)["100001"]
    assert row["title"] == "一篇完整的文章"
    assert row["digest"] == "一篇完整的文章（摘要）"
    assert row["media_name"] == "澎湃新闻" and row["media_slug"] == "pengpaixinwen"
    assert row["author"] == "澎湃新闻记者 张三"
    assert row["editors"] == ["李四", "王五"]
    assert row["channel"] == "中国政库"
    assert row["tags"] == ["上海", "数据"]
    assert row["image_urls"] == [IMG_A, IMG_B]  # the lazy image too, no duplicates
    assert row["published_at"] == datetime(2022, 1, 12, 7, 35, tzinfo=UTC)
    assert row["updated_at"] == datetime(2022, 1, 12, 8, 35, tzinfo=UTC)
    assert row["article_url"] == site.server.url("/newsDetail_forward_100001")
    assert row["source_url"] == row["article_url"]
    assert row["list_url"] == site.server.url(CHANNEL_PATH)
    assert row["http_status"] == 200 and row["spider"] == "thepaper"
    assert row["content_text"] == "1月12日，上海市政府新闻办举行新闻发布会。\n图1说明\n第二段。"
    assert row["published_at"].astimezone(BEIJING).date().isoformat() == "2022-01-12"


def test_video_image_set_live_and_sparse_pages(two_runs):
    got = by_id(two_runs.archive)
    video = got["100002"]
    assert video["content_html"] == f'<p>视频摘要</p><video src="{VIDEO}" poster="{COVER}" controls></video>'
    assert video["content_text"] == "视频摘要" and video["image_urls"] == []
    images = got["100004"]
    assert images["image_urls"] == [
        "https://imgpai.thepaper.cn/newpai/image/1.jpg",
        "https://imgpai.thepaper.cn/newpai/image/2.jpg",
    ]
    assert images["content_text"] == "组图摘要\n第一张\n第二张 <b>"  # captions kept, escaped in HTML
    sparse = got["100005"]
    assert sparse["published_at"] == datetime(2022, 1, 11, 0, 30, tzinfo=UTC)  # pubTime, Beijing
    assert sparse["channel"] == "时事"  # from the list entry
    for column in ("author", "editors", "tags", "media_name", "media_slug", "digest", "updated_at"):
        assert sparse[column] is None, column
    html = got["100006"]
    assert html["title"] == "网页版标题" and html["media_name"] == "澎湃新闻"
    assert html["published_at"] == datetime(2022, 1, 11, 2, 5, tzinfo=UTC)
    assert html["content_html"] == "<p>只有网页标记的正文。</p>"
    live = got["100008"]
    assert live["title"] == "直播：发布会" and live["content_text"] == "直播摘要" and live["channel"] == "直播"


def test_every_odd_page_is_quarantined_with_its_reason(two_runs):
    found = sql_rows(two_runs.archive, kind="quarantine")
    reasons = {r["info_code_raw"]: r["reason"] for r in found if r["info_code_raw"] is not None}
    assert reasons == QUARANTINED
    bad_record = [r for r in found if r["reason"] == "bad_record"]
    assert len(bad_record) == 1 and json.loads(bad_record[0]["raw"]) == "不是对象的条目"
    offsite = next(r for r in found if r["reason"] == "offsite")
    assert offsite["url"] == OFFSITE and offsite["stage"] == "list"
    homepage = next(r for r in found if r["info_code_raw"] == "100013")
    assert "no detailData" in homepage["detail"] and homepage["stage"] == "text"
    assert next(r for r in found if r["info_code_raw"] == "100012")["http_status"] == 404
    assert "lists 2 articles" in next(r for r in found if r["reason"] == "special_topic")["detail"]
    counts = counters(two_runs.first)
    assert counts["thepaper_entries_without_id"] == 2  # the channel header and the real hot-list one
    assert counts["thepaper_offsite_links"] == 1
    assert counts["quarantined"] == len(QUARANTINED) + 1


def test_second_run_fetches_no_article_and_stops_paging_at_the_archive(two_runs):
    second = two_runs.second
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.summary["articles_written"] == 0
    assert not [r for r in two_runs.seen_second if r.path.startswith("/newsDetail_forward_")]
    posts = [json.loads(r.body) for r in two_runs.seen_second if r.path == CHANNEL_PATH]
    assert sorted((b["channelId"], b["pageNum"]) for b in posts) == [(CH_A, 1), (CH_B, 1)]
    counts = counters(second)
    assert counts["thepaper_stop_archived"] == 1 and counts["quarantined"] == 0
    assert counts["quarantine_repeats"] == 3  # offsite, invalid id, bad record: written once


# --- the link between the sources --------------------------------------------------------

#: The infoCode feeds' title of NW202201122245299970 (a real record of the original system)
#: and the same headline written the way thepaper.cn writes its own: a full-width comma
#: where East Money puts a space. thepaper.cn's page for this article could not be found;
#: the comma form is the house style of real thepaper.cn titles, e.g.
#: "上海GDP突破4万亿，2021年增长8.1%" (newsDetail_forward_16369221, 2022-01-20).
FINEWS_TITLE = "上海推进城市数字化转型 启动首席数据官制度研究和试点"

THEPAPER_TITLE = "上海推进城市数字化转型，启动首席数据官制度研究和试点"


def test_the_same_story_from_both_sources_joins_on_story_id(tmp_path, feed_server, sample_settings):
    finews = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": tmp_path})
    assert finews.returncode == 0, finews.stderr[-3000:]
    site = ThepaperSite(feed_server)
    detail = text_detail("900001", THEPAPER_TITLE, "2022-01-12 15:35:00")
    site.add_page("900001", page_html(THEPAPER_TITLE, detail_data={"contentDetail": detail}))
    site.add_channel(CH_B, [entry("900001", THEPAPER_TITLE, "2022-01-12 15:35:00")])
    paper = run_crawl("thepaper", {**FAST, **site.settings(), "THEPAPER_HOT": "False", "ARCHIVE_URI": tmp_path})
    assert paper.returncode == 0, paper.stderr[-3000:]
    joined = sql_rows(
        tmp_path,
        "SELECT f.info_code, p.source_id, f.title AS ft, p.title AS pt, f.story_id FROM a f JOIN a p "
        "ON f.story_id = p.story_id WHERE f.source = 'finews' AND p.source = 'thepaper'",
    )
    assert joined == [
        {
            "info_code": "NW202201122245299970",
            "source_id": "900001",
            "ft": FINEWS_TITLE,
            "pt": THEPAPER_TITLE,
            "story_id": joined[0]["story_id"],
        }
    ]
