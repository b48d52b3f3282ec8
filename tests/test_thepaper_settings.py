"""The thepaper spider's configuration: defaults, ``from_crawler`` refusals (NotConfigured) and
the settings read from the environment; a never-started crawler, no network.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured

from spiders.thepaper import ThepaperSpider
from spiders.thepaper_lists import read_entry
from tests.sites import project_crawler


def crawler_for(tmp_path: Path, **overrides: Any) -> Any:
    """A never-started crawler of the thepaper spider with the project's settings."""
    return project_crawler(ThepaperSpider, tmp_path, **overrides)


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
