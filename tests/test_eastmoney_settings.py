"""The eastmoney spider's configuration: defaults, ``from_crawler`` refusals (NotConfigured),
the settings read from the environment, and what the CLI and a real crawl make of them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured

from newsarchive.samples.eastmoney_site import column_entry
from newsarchive.timeparse import parse_beijing
from spiders.eastmoney import EastmoneySpider
from spiders.eastmoney_pages import read_entry
from tests.helpers import FAST, clean_env, run_cli, run_crawl, sql_rows
from tests.sites import FETCHED, dated_site, project_crawler


def crawler_for(tmp_path: Path, **overrides: Any) -> Any:
    """A never-started crawler of the eastmoney spider with the project's settings."""
    return project_crawler(EastmoneySpider, tmp_path, **overrides)


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


def test_bad_settings_exit_2_from_the_cli(tmp_path):
    proc = run_cli("crawl", "eastmoney", "-s", "EASTMONEY_COLUMNS=345,abc", "-s", f"ARCHIVE_URI={tmp_path}")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "numeric column ids" in proc.stderr
