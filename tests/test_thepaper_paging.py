"""Small crawls of purpose-built thepaper.cn look-alikes: what the WAF wants, politeness,
the SINCE/UNTIL/MAX_PAGES bounds and the channels' editorial paging by ``startTime``.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from newsarchive.samples.thepaper_site import CHANNEL_PATH, OMIT, ThepaperSite, entry, ms, page_html, text_detail
from tests.helpers import FAST, counters, run_crawl, sql_rows
from tests.sites import CH_A, by_id, small_site

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


# --- paging in the editors' order ----------------------------------------------------------


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
