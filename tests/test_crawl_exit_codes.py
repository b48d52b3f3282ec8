"""``newsarchive crawl`` exits 0 only for a complete run, 1 for partial/failed, 2 for bad usage."""

from __future__ import annotations

import json

from newsarchive.samples.feedserver import Reply
from tests.helpers import FAST, run_crawl

CODE = "NW202201122245299970"


def one_article_site(server, *, down=False):
    server.add(
        "/ok?marketType=37",
        json.dumps(
            {
                "record": [
                    {
                        "infoCode": CODE,
                        "medianame": "澎湃新闻",
                        "datetime": "2022-01-12 15:51:41",
                        "title": "标题",
                    }
                ]
            }
        ).encode(),
    )
    if down:
        server.add("/down", Reply(status=503, body=b"busy"))
    server.add(f"/text?id={CODE}", json.dumps({"text": "<p>正文</p>"}).encode())
    lists = [server.url("/ok?marketType=37")] + ([server.url("/down")] if down else [])
    return {
        **FAST,
        "FINEWS_LIST_URLS": ",".join(lists),
        "FINEWS_TEXT_URL": server.url("/text?id={info_code}"),
    }


def test_complete_run_exits_0(tmp_path, feed_server):
    result = run_crawl("finews", {**one_article_site(feed_server), "ARCHIVE_URI": tmp_path})
    assert result.returncode == 0 and result.summary["status"] == "complete"


def test_a_feed_down_makes_the_run_partial_after_archiving_the_rest(tmp_path, feed_server):
    result = run_crawl("finews", {**one_article_site(feed_server, down=True), "ARCHIVE_URI": tmp_path})
    assert result.returncode == 1
    m = result.run
    assert m["status"] == "partial" and m["articles_written"] == 1
    assert any("/down" in p and "http_error" in p for p in m["problems"])
    assert feed_server.count("/down") == 1 + int(FAST["RETRY_TIMES"])  # retried, then gave up
    assert m["quarantined_by_reason"] == {"http_error": 1}


def test_all_feeds_down_fails(tmp_path, feed_server):
    feed_server.add("/down", Reply(status=500))
    settings = {
        **FAST,
        "FINEWS_LIST_URLS": feed_server.url("/down"),
        "FINEWS_TEXT_URL": feed_server.url("/t?id={info_code}"),
        "ARCHIVE_URI": tmp_path,
    }
    result = run_crawl("finews", settings)
    assert result.returncode == 1 and result.run["status"] == "failed"


def test_unreachable_host_fails_clearly(tmp_path):
    settings = {
        **FAST,
        "FINEWS_LIST_URLS": "http://127.0.0.1:9/list",
        "RETRY_TIMES": "0",
        "FINEWS_TEXT_URL": "http://127.0.0.1:9/t?id={info_code}",
        "ARCHIVE_URI": tmp_path,
    }
    result = run_crawl("finews", settings)
    assert result.returncode == 1
    assert result.run["quarantined_by_reason"] == {"connection_error": 1}


def test_bad_usage_exits_2(tmp_path):
    assert run_crawl("no_such_spider", {"ARCHIVE_URI": tmp_path}).returncode == 2
    bad = run_crawl("finews", {}, extra_args=["-s", "NOEQUALS"])
    assert bad.returncode == 2 and "NAME=VALUE" in bad.stderr


def test_misconfigured_spider_is_bad_usage(tmp_path):
    settings = {"FINEWS_LIST_URLS": "http://127.0.0.1:9/l", "FINEWS_TEXT_URL": "http://h/no-placeholder"}
    result = run_crawl("finews", {**settings, "ARCHIVE_URI": tmp_path})
    assert result.returncode == 2
    assert "FINEWS_TEXT_URL must contain {info_code}" in result.stderr
    assert "Traceback" not in result.stderr
