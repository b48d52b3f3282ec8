"""The thepaper spider end to end: a thepaper.cn look-alike on 127.0.0.1 → Iceberg tables.

The hot list and the homepage are real saved answers; channel lists and article pages are
built to the documented structure (newsarchive/thepaper_site.py). Crawls run as subprocesses and
the tables are read back through pyiceberg (and DuckDB over its Arrow).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured

from newsarchive.bodies import FeedError
from newsarchive.samples.feedserver import FeedServer, Received
from newsarchive.samples.thepaper_site import (
    CHANNEL_PATH,
    HOT_PATH,
    OMIT,
    SIDEBAR,
    ThepaperSite,
    entry,
    ms,
    page_html,
    text_detail,
)
from newsarchive.story import normalise_title, story_id
from newsarchive.timeparse import BEIJING, parse_beijing, parse_bound
from spiders.thepaper import ThepaperSpider
from spiders.thepaper_pages import (
    ListEntry,
    ListPage,
    PageError,
    is_offsite,
    parse_article,
    parse_channel_page,
    parse_hot,
    read_entry,
    split_names,
    stop_paging,
    valid_cont_id,
)
from tests.helpers import FAST, CrawlResult, counters, read_table, run_crawl, sql_rows
from tests.sites import small_site

HOMEPAGE = Path(__file__).resolve().parent / "data" / "reference" / "thepaper" / "homepage-next-data.html"
CH_A, CH_B = "25950", "25951"
IMG_A = "https://imgpai.thepaper.cn/newpai/image/a.jpg"
IMG_B = "https://imgpai.thepaper.cn/newpai/image/b.jpg"
VIDEO = "https://cloudvideo.thepaper.cn/video/x/sd/1.mp4"
COVER = "https://imgpai.thepaper.cn/newpai/image/cover.png"
OFFSITE = "https://www.peopleapp.com/column/300532-500007"
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


def build_site(server: FeedServer) -> ThepaperSite:
    site = ThepaperSite(server)
    site.hot_ids = site.add_hot_pages()  # type: ignore[attr-defined]
    text = (
        "<p>1月12日，上海市政府新闻办举行新闻发布会。</p>"
        f'<div class="contentImgBox"><img src="{IMG_A}"/></div>'
        '<p class="image_desc">图1说明</p>'
        f'<p><img data-src="{IMG_B}" src="data:image/gif;base64,R0lGOD"/></p><p>第二段。</p>'
    )
    pages: dict[str, bytes] = {
        "100001": page_html(
            "一篇完整的文章",
            detail_data={
                "contentDetail": text_detail(
                    "100001",
                    "一篇完整的文章",
                    "2022-01-12 15:35:00",
                    content=text,
                    responEditor="李四、王五",
                    tagList=[{"tag": "上海"}, {"tag": "数据"}],
                    images=[{"src": IMG_A, "width": 600, "description": "图1说明"}],
                )
            },
        ),
        "100002": page_html(
            "一段视频",
            detail_data={
                "contentDetail": text_detail(
                    "100002",
                    "一段视频",
                    "2022-01-12 14:00:00",
                    content="",
                    summary="视频摘要",
                    videos={"url": VIDEO, "hdurl": VIDEO.replace("/sd/", "/hd/"), "coverUrl": COVER},
                    contType=1,
                )
            },
        ),
        "100004": page_html(
            "一组图片",
            detail_data={
                "contentDetail": text_detail(
                    "100004",
                    "一组图片",
                    "2022-01-12 12:00:00",
                    content="",
                    summary="组图摘要",
                    images=[
                        {"src": "https://imgpai.thepaper.cn/newpai/image/1.jpg", "description": "第一张"},
                        {"src": "https://imgpai.thepaper.cn/newpai/image/2.jpg", "description": "第二张 <b>"},
                    ],
                )
            },
        ),
        "100005": page_html(
            "只有标题和时间",
            detail_data={
                "contentDetail": {
                    "contId": 100005,
                    "name": "只有标题和时间",
                    "pubTime": "2022-01-11 08:30",
                    "content": "<p>正文</p>",
                }
            },
        ),
        "100006": page_html(
            "网页版标题",
            body="<p>只有网页标记的正文。</p>",
            byline=("来源：澎湃新闻", "2022-01-11 10:05"),
        ),
        "100007": page_html("空页"),
        "100008": page_html(
            "直播：发布会",
            detail_data={
                "liveDetail": {
                    "contId": 100008,
                    "name": "直播：发布会",
                    "summary": "直播摘要",
                    "publishTime": ms("2022-01-11 09:00"),
                    "nodeInfo": {"name": "直播"},
                }
            },
        ),
        "100009": page_html("直播：无内容", detail_data={"liveDetail": {"contId": 100009, "name": "直播：无内容"}}),
        "100010": page_html(
            "专题：数字化转型",
            detail_data={
                "specialDetail": {
                    "specialInfo": {"contId": 100010, "name": "专题：数字化转型", "desc": "专题介绍"},
                    "childNodeList": [
                        {
                            "name": "第一部分",
                            "contList": [
                                {
                                    "contId": "100011",
                                    "name": "专题里的文章",
                                    "pubTimeLong": ms("2022-01-10 10:00"),
                                },
                                {"contId": "100001", "name": "一篇完整的文章"},
                            ],
                        }
                    ],
                }
            },
        ),
        "100011": page_html(
            "专题里的文章",
            detail_data={"contentDetail": text_detail("100011", "专题里的文章", "2022-01-10 10:00:00")},
        ),
        "100013": HOMEPAGE.read_bytes(),
        "100014": page_html(
            "空文章",
            detail_data={"contentDetail": {"contId": 100014, "name": "空文章", "publishTime": ms("2022-01-11 06:00")}},
        ),
        "100015": page_html("坏数据", next_data='{"props": {"pageProps": '),
    }
    for cid, body in pages.items():
        site.add_page(cid, body)
    page1 = [
        entry("100001", "一篇完整的文章", "2022-01-12 15:35:00"),
        entry("100002", "一段视频", "2022-01-12 14:00:00"),
        entry("100003", "  澎湃早晚报｜1月12日\n", "2022-01-12 13:00:00", link=OFFSITE),
        entry("../1", "坏编号", "2022-01-12 12:30:00"),
        entry(None, "早晚报（栏目标题，没有 contId）"),
        "不是对象的条目",
        entry("100004", "一组图片", "2022-01-12 12:00:00"),
    ]
    page2 = [
        entry("100005", "只有标题和时间", "2022-01-11 08:30:00", nodeInfo={"name": "时事"}),
        entry("100006", "网页版标题", "2022-01-11 10:05:00"),
        entry("100007", "空页", "2022-01-11 09:50:00"),
        entry("100008", "直播：发布会", "2022-01-11 09:00:00"),
        entry("100009", "直播：无内容", "2022-01-11 08:00:00"),
        entry("100010", "专题：数字化转型", "2022-01-11 07:30:00"),
        entry("100012", "已删除的文章", "2022-01-11 07:00:00"),
        entry("100013", "首页", "2022-01-11 06:30:00"),
        entry("100014", "空文章", "2022-01-11 06:00:00"),
        entry("100015", "坏数据", "2022-01-11 05:30:00"),
    ]
    hot = json.loads(SIDEBAR.read_bytes())["data"]["hotNews"][0]
    site.add_channel(CH_A, page1, page2)
    site.add_channel(CH_B, [entry("100001", "一篇完整的文章", "2022-01-12 15:35:00"), hot])
    return site


@pytest.fixture(scope="session")
def site() -> Iterator[ThepaperSite]:
    with FeedServer() as server:
        yield build_site(server)


@dataclass
class TwoRuns:
    archive: Path
    first: CrawlResult
    second: CrawlResult
    seen_first: list[Received]
    seen_second: list[Received]


@pytest.fixture(scope="session")
def two_runs(site: ThepaperSite, tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    """The same site crawled twice into one archive (the second run is incremental)."""
    archive = tmp_path_factory.mktemp("thepaper")
    settings = {**FAST, **site.settings(), "ARCHIVE_URI": archive}
    start = len(site.server.received)
    first = run_crawl("thepaper", settings)
    middle = len(site.server.received)
    second = run_crawl("thepaper", settings)
    received = site.server.received
    return TwoRuns(archive, first, second, received[start:middle], received[middle:])


def by_id(archive: Path) -> dict[str, dict[str, Any]]:
    return {r["source_id"]: r for r in sql_rows(archive)}


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


# --- the WAF, politeness and bounds ----------------------------------------------------------


def test_without_a_referer_the_waf_blocks_and_the_run_fails(tmp_path, feed_server):
    site = small_site(feed_server)
    settings = {
        **FAST,
        **site.settings(),
        "THEPAPER_HOT": "False",
        "THEPAPER_REFERER": "",
        "ARCHIVE_URI": tmp_path,
    }
    result = run_crawl("thepaper", settings)
    assert result.returncode == 1 and result.run["status"] == "failed"
    assert counters(result)["quarantined_by_reason"] == {"http_error": 1}
    assert [r.header("Referer") for r in site.requests_to(CHANNEL_PATH)] == [None]


def test_without_a_json_content_type_the_api_answers_99998(tmp_path, feed_server):
    site = small_site(feed_server)
    settings = {
        **FAST,
        **site.settings(),
        "THEPAPER_HOT": "False",
        "THEPAPER_CONTENT_TYPE": "",
        "ARCHIVE_URI": tmp_path,
    }
    result = run_crawl("thepaper", settings)
    assert result.returncode == 1
    (row,) = sql_rows(tmp_path, kind="quarantine")
    assert row["reason"] == "api_error" and "99998" in row["detail"] and f"channel {CH_A} page 1" in row["detail"]


def test_requests_are_spaced_by_the_delay(tmp_path, feed_server):
    site = small_site(feed_server, pages=2)
    site.hot_body = json.dumps({"resultCode": 1, "data": {"hotNews": []}}).encode()
    settings = {**FAST, **site.settings(), "THEPAPER_DOWNLOAD_DELAY": "1", "ARCHIVE_URI": tmp_path}
    result = run_crawl("thepaper", settings)
    assert result.returncode == 0, result.stderr[-3000:]
    times = [r.at for r in feed_server.received if r.path != "/robots.txt"]
    assert len(times) == 5  # two list pages, the hot list, two articles
    gaps = [b - a for a, b in pairwise(times)]
    assert min(gaps) >= 0.95, gaps


def test_since_stops_paging_and_until_skips_newer_entries(tmp_path, feed_server):
    site = small_site(feed_server, pages=5)  # one entry a day: 01-12, 01-11, 01-10, 01-09, 01-08
    settings = {
        **FAST,
        **site.settings(),
        "THEPAPER_HOT": "False",
        "ARCHIVE_URI": tmp_path,
        "THEPAPER_SINCE": "2022-01-10",
        "THEPAPER_UNTIL": "2022-01-11",
    }
    result = run_crawl("thepaper", settings)
    assert result.returncode == 0, result.stderr[-3000:]
    assert set(by_id(tmp_path)) == {"200002", "200003"}
    assert len(site.requests_to(CHANNEL_PATH)) == 4  # page 4 reaches below the bound: no page 5
    assert counters(result)["thepaper_stop_since"] == 1


def test_max_pages_bounds_the_paging(tmp_path, feed_server):
    site = small_site(feed_server, pages=4)
    settings = {
        **FAST,
        **site.settings(),
        "THEPAPER_HOT": "False",
        "THEPAPER_MAX_PAGES": "2",
        "ARCHIVE_URI": tmp_path,
    }
    result = run_crawl("thepaper", settings)
    assert result.returncode == 0
    assert set(by_id(tmp_path)) == {"200001", "200002"}
    assert counters(result)["thepaper_stop_max_pages"] == 1


def add_articles(site: ThepaperSite, articles: dict[str, str], **details: dict[str, Any]) -> None:
    """A text page for each contId → Beijing time; ``details`` overrides fields per contId."""
    for cid, published in articles.items():
        detail = text_detail(cid, f"文章{cid}", published, **details.get(cid, {}))
        site.add_page(cid, page_html(f"文章{cid}", detail_data={"contentDetail": detail}))


def test_editorial_order_pages_by_start_time_past_an_old_last_entry(tmp_path, feed_server):
    """The site's order is the editors': page 1 ends on an old entry and page 2 still holds
    new ones. Paging goes on until a page whose newest entry is older than SINCE, sending
    back each page's ``startTime`` (the site ignores ``pageNum``)."""
    site = ThepaperSite(feed_server)
    times = {
        "300010": "2022-01-12 09:00:00",  # pinned on top of both pages
        "300011": "2022-01-11 10:00:00",
        "300012": "2022-01-05 10:00:00",  # old, last on page 1
        "300021": "2022-01-10 10:00:00",
        "300022": "2022-01-11 12:00:00",
        "300031": "2022-01-08 10:00:00",
        "300032": "2022-01-07 10:00:00",
        "300041": "2022-01-12 10:00:00",  # after the stop: never requested
    }
    add_articles(site, times)
    row = {cid: entry(cid, f"文章{cid}", t) for cid, t in times.items()}
    site.add_channel(
        CH_A,
        [row["300010"], row["300011"], row["300012"]],
        [row["300010"], row["300021"], row["300022"]],
        [row["300031"], row["300032"]],
        [row["300041"]],
    )
    settings = {**FAST, **site.settings(), "THEPAPER_HOT": "False", "THEPAPER_SINCE": "2022-01-09"}
    result = run_crawl("thepaper", {**settings, "ARCHIVE_URI": tmp_path})
    assert result.returncode == 0, result.stderr[-3000:]
    assert set(by_id(tmp_path)) == {"300010", "300011", "300021", "300022"}
    sent = [json.loads(r.body)["startTime"] for r in site.requests_to(CHANNEL_PATH)]
    assert sent == ["", site.cursor(CH_A, 1), site.cursor(CH_A, 2)]  # page 3 is all older: no page 4
    assert counters(result)["thepaper_stop_since"] == 1
    pages = Counter(r.path for r in feed_server.received if r.path.startswith("/newsDetail_forward_"))
    assert pages == {f"/newsDetail_forward_{c}": 1 for c in ("300010", "300011", "300021", "300022")}


def test_paging_ends_when_the_cursor_is_missing_or_repeats(tmp_path, feed_server):
    """A ``startTime`` handed out twice (the site would serve the same page again), a page
    without one, and ``hasNext`` false each end their channel; an answer that does not say
    ``hasNext`` does not, and a cursor given as digits is sent back as given."""
    site = ThepaperSite(feed_server)
    times = {str(400000 + n): f"2022-01-{12 - n:02d} 10:00:00" for n in range(1, 9)}
    add_articles(site, times)
    row = {cid: entry(cid, f"文章{cid}", t) for cid, t in times.items()}
    site.add_channel(
        "-21", [row["400001"]], [row["400002"]], cursors=[1641949200000, 1641949200000], has_next=[True, True]
    )
    site.add_channel("-24", [row["400003"]], [row["400004"]], cursors=[OMIT, 1641776400000])
    site.add_channel(
        "-8", [row["400005"]], [row["400006"]], cursors=["1641690000000", "1641603600000"], has_next=[OMIT, OMIT]
    )
    site.add_channel("25953", [row["400007"]], [row["400008"]], has_next=[False, True])
    settings = {**FAST, **site.settings(), "THEPAPER_HOT": "False", "ARCHIVE_URI": tmp_path}
    result = run_crawl("thepaper", settings)
    assert result.returncode == 0, result.stderr[-3000:]
    sent: dict[str, list[Any]] = {}
    for r in site.requests_to(CHANNEL_PATH):
        body = json.loads(r.body)
        sent.setdefault(body["channelId"], []).append(body["startTime"])
    assert sent == {
        "-21": ["", 1641949200000],  # page 2 hands out page 1's cursor again: stop
        "-24": [""],  # no cursor: asking again would only get page 1 again
        "-8": ["", "1641690000000", "1641603600000"],  # hasNext unsaid: the cursor decides
        "25953": [""],
    }
    assert set(by_id(tmp_path)) == set(times) - {"400004", "400008"}
    counts = counters(result)
    assert counts["thepaper_stop_cursor_repeat"] == 1 and counts["thepaper_stop_no_cursor"] == 1
    assert counts["thepaper_stop_last_page"] == 2  # -8's empty third page, 25953's first


def test_negative_channel_ids_are_crawled(tmp_path, feed_server):
    """体育 (-21) and 评论 (-24), as RSSHub lists them: accepted, sent as strings, archived."""
    site = ThepaperSite(feed_server)
    add_articles(site, {"500001": "2022-01-12 10:00:00", "500002": "2022-01-12 11:00:00"})
    site.add_channel("-21", [entry("500001", "体育", "2022-01-12 10:00:00")])
    site.add_channel("-24", [entry("500002", "评论", "2022-01-12 11:00:00")])
    settings = {**FAST, **site.settings(), "THEPAPER_HOT": "False", "ARCHIVE_URI": tmp_path}
    assert settings["THEPAPER_CHANNELS"] == "-21,-24"
    result = run_crawl("thepaper", settings)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.summary["status"] == "complete"
    assert [json.loads(r.body)["channelId"] for r in site.requests_to(CHANNEL_PATH)] == ["-21", "-24"]
    got = by_id(tmp_path)
    assert {c: r["feed"] for c, r in got.items()} == {"500001": "channel--21", "500002": "channel--24"}


def test_authors_as_objects_and_times_as_strings_are_archived(tmp_path, feed_server):
    """``author`` as a string or an object with a ``name``; none on the page: the card's
    ``authorInfo.sname``; ``publishTime`` as epoch ms or a Beijing time string, and a card
    that gives its time only as a ``publishTime`` string still meets THEPAPER_UNTIL."""
    site = ThepaperSite(feed_server)
    times = {c: "2022-01-12 10:00:00" for c in ("600001", "600002", "600003", "600004")}
    add_articles(
        site,
        {**times, "600005": "2022-01-13 10:00:00"},
        **{
            "600001": {"author": {"name": "澎湃新闻记者 王六", "userId": 3}},
            "600002": {"author": None, "publishTime": "2022-01-12 10:00:00"},
            "600003": {"author": "澎湃新闻记者 张三", "publishTime": str(ms("2022-01-12 10:00:00"))},
            "600004": {"author": {"name": None}},
        },
    )
    card = {"authorInfo": {"userId": 9, "sname": "上海发布", "pic": ""}}
    site.add_channel(
        CH_A,
        [
            entry("600001", "文章600001", "2022-01-12 10:00:00"),
            entry("600002", "文章600002", "2022-01-12 10:00:00", **card),
            entry("600003", "文章600003", "2022-01-12 10:00:00"),
            entry("600004", "文章600004", "2022-01-12 10:00:00", **card),
            entry("600005", "文章600005", publishTime="2022-01-13 10:00:00"),  # after UNTIL
        ],
    )
    settings = {**FAST, **site.settings(), "THEPAPER_HOT": "False", "THEPAPER_UNTIL": "2022-01-12"}
    result = run_crawl("thepaper", {**settings, "ARCHIVE_URI": tmp_path})
    assert result.returncode == 0, result.stderr[-3000:]
    got = by_id(tmp_path)
    assert {c: r["author"] for c, r in got.items()} == {
        "600001": "澎湃新闻记者 王六",
        "600002": "上海发布",
        "600003": "澎湃新闻记者 张三",
        "600004": "上海发布",
    }
    assert {r["published_at"] for r in got.values()} == {datetime(2022, 1, 12, 2, 0, tzinfo=UTC)}
    assert not [r for r in feed_server.received if r.path == "/newsDetail_forward_600005"]


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


# --- configuration ------------------------------------------------------------------------


def crawler_for(tmp_path: Path, **overrides: Any) -> Any:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    from newsarchive import settings as project

    settings = Settings()
    settings.setmodule(project, priority="project")
    settings.setdict({"ARCHIVE_URI": str(tmp_path), **overrides}, priority="cmdline")
    return Crawler(ThepaperSpider, settings)


def test_defaults_are_polite_and_keep_to_the_three_hosts(tmp_path):
    crawler = crawler_for(tmp_path)
    spider = ThepaperSpider.from_crawler(crawler)
    assert spider.channels == ["25950", "25951", "25952", "25953", "122908", "119908"]
    assert crawler.settings.getfloat("DOWNLOAD_DELAY") == 3.0
    assert crawler.settings.getfloat("DOWNLOAD_DELAY_JITTER") == 0.0
    assert spider.allowed_domains == ["api.thepaper.cn", "cache.thepaper.cn", "www.thepaper.cn"]
    assert spider.channel_url == "https://api.thepaper.cn/contentapi/nodeCont/getByChannelId"
    assert spider.hot_url == "https://cache.thepaper.cn/contentapi/wwwIndex/rightSidebar"
    assert spider.article_url.format(cont_id="1") == "https://www.thepaper.cn/newsDetail_forward_1"
    assert spider._headers(json_body=True) == {
        "Referer": "https://www.thepaper.cn/",
        "Content-Type": "application/json",
    }
    request = spider.article_request(read_entry({"contId": "1"}, "f", "u", (0, 1, 0)))
    assert request.meta["download_slot"] == "thepaper"  # one slot for the three hosts
    explicit = crawler_for(tmp_path, DOWNLOAD_DELAY="7")
    ThepaperSpider.from_crawler(explicit)
    assert explicit.settings.getfloat("DOWNLOAD_DELAY") == 7.0  # the command line wins


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"THEPAPER_CHANNELS": "25950,abc"}, "numeric channel ids"),
        ({"THEPAPER_CHANNELS": "-21,--24"}, "numeric channel ids"),
        ({"THEPAPER_CHANNELS": "-"}, "numeric channel ids"),
        ({"THEPAPER_CHANNELS": "21-"}, "numeric channel ids"),
        ({"THEPAPER_CHANNELS": "", "THEPAPER_HOT": "False"}, "nothing to crawl"),
        ({"THEPAPER_SINCE": "last week"}, "THEPAPER_SINCE"),
        ({"THEPAPER_SINCE": "2022-02-01", "THEPAPER_UNTIL": "2022-01-01"}, "after"),
        ({"THEPAPER_WEB_BASE": "www.thepaper.cn"}, "http(s) URL"),
        ({"THEPAPER_ARTICLE_PATH": "/newsDetail_forward_"}, "{cont_id}"),
    ],
)
def test_bad_configuration_is_a_clear_error(tmp_path, overrides, words):
    with pytest.raises(NotConfigured, match=re.escape(words)):
        ThepaperSpider.from_crawler(crawler_for(tmp_path, **overrides))


def test_negative_channel_ids_are_kept_as_strings(tmp_path):
    crawler = crawler_for(tmp_path, THEPAPER_CHANNELS="-21, -24,25951,-8,-21")
    spider = ThepaperSpider.from_crawler(crawler)
    assert spider.channels == ["-21", "-24", "25951", "-8"]
    request = spider._channel_request("-21", 1)
    assert json.loads(request.body)["channelId"] == "-21"


def test_every_thepaper_setting_reads_from_the_environment():
    from newsarchive.config import setting

    env = {
        "NEWSARCHIVE_THEPAPER_CHANNELS": "25951, 119908",
        "NEWSARCHIVE_THEPAPER_HOT": "false",
        "NEWSARCHIVE_THEPAPER_DOWNLOAD_DELAY": "0.5",
        "NEWSARCHIVE_THEPAPER_MAX_PAGES": "2",
        "NEWSARCHIVE_THEPAPER_SINCE": "2025-07-01",
    }
    assert setting("THEPAPER_CHANNELS", env) == ["25951", "119908"]
    assert setting("THEPAPER_CHANNELS", {"NEWSARCHIVE_THEPAPER_CHANNELS": "-21,-24"}) == ["-21", "-24"]
    assert setting("THEPAPER_HOT", env) is False
    assert setting("THEPAPER_DOWNLOAD_DELAY", env) == 0.5
    assert setting("THEPAPER_MAX_PAGES", env) == 2
    assert setting("THEPAPER_SINCE", env) == "2025-07-01"
    assert setting("THEPAPER_DOWNLOAD_DELAY", {}) == 3.0
    assert setting("THEPAPER_REFERER", {}) == "https://www.thepaper.cn/"
