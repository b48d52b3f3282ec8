"""One home for settings: module defaults < NEWSARCHIVE_<NAME> environment < -s NAME=value."""

from __future__ import annotations

import pytest

from newsarchive.config import setting
from newsarchive.envvars import SettingError, apply_env, coerce
from newsarchive.redaction import redacted
from tests.helpers import FAST, clean_env, run_crawl


def test_env_values_take_the_type_of_the_default():
    ns = {
        "ROBOTSTXT_OBEY": True,
        "RETRY_TIMES": 3,
        "FINEWS_LIST_URLS": ["a"],
        "X": "s",
        "AUTOTHROTTLE_MAX_DELAY": 1.0,
    }
    apply_env(
        ns,
        {
            "NEWSARCHIVE_ROBOTSTXT_OBEY": "false",
            "NEWSARCHIVE_RETRY_TIMES": "7",
            "NEWSARCHIVE_FINEWS_LIST_URLS": "http://a/1, http://b/2",
            "NEWSARCHIVE_AUTOTHROTTLE_MAX_DELAY": "2.5",
            "NEWSARCHIVE_NEW_ONE": "v",
            "OTHER_VAR": "ignored",
            "NEWSARCHIVE_lower": "ignored",
        },
    )
    assert ns == {
        "ROBOTSTXT_OBEY": False,
        "RETRY_TIMES": 7,
        "FINEWS_LIST_URLS": ["http://a/1", "http://b/2"],
        "X": "s",
        "AUTOTHROTTLE_MAX_DELAY": 2.5,
        "NEW_ONE": "v",
    }


def test_bad_env_values_are_clear_errors():
    with pytest.raises(SettingError, match="NEWSARCHIVE_RETRY_TIMES"):
        coerce("RETRY_TIMES", "three", 3)
    with pytest.raises(SettingError, match="not a boolean"):
        coerce("ROBOTSTXT_OBEY", "maybe", True)


def test_setting_reads_without_scrapy():
    assert setting("SCHEDULE", {}) == "*/30 * * * *"
    assert setting("SPIDERS", {"NEWSARCHIVE_SPIDERS": "finews,thepaper"}) == ["finews", "thepaper"]


def test_secrets_are_redacted():
    out = redacted(
        {
            "AWS_SECRET_ACCESS_KEY": "abc",
            "API_TOKEN": "t",
            "UPLOAD_URI": "s3://b/p",
            "FINEWS_TEXT_URL": "http://user:pw@host/x?id={info_code}",
            "EMPTY_PASSWORD": "",
        }
    )
    assert out["AWS_SECRET_ACCESS_KEY"] == "***" and out["API_TOKEN"] == "***"
    assert out["FINEWS_TEXT_URL"] == "http://***@host/x?id={info_code}"
    assert out["UPLOAD_URI"] == "s3://b/p" and out["EMPTY_PASSWORD"] == ""


def test_precedence_in_a_real_crawl(tmp_path, sample_settings):
    archive = tmp_path / "a"
    env = clean_env(
        NEWSARCHIVE_FINEWS_LIST_URLS=sample_settings["FINEWS_LIST_URLS"],
        NEWSARCHIVE_FINEWS_TEXT_URL=sample_settings["FINEWS_TEXT_URL"],
        NEWSARCHIVE_ARCHIVE_URI=str(tmp_path / "from-env"),
        NEWSARCHIVE_MAX_ARTICLES_PER_RUN="5",
        NEWSARCHIVE_API_SECRET_TOKEN="hunter2-fake",
    )
    result = run_crawl("finews", {**FAST, "ARCHIVE_URI": archive}, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    import json

    s = json.loads(result.run["settings"])
    assert s["ARCHIVE_URI"] == str(archive)  # -s beats the environment
    assert s["MAX_ARTICLES_PER_RUN"] == 5  # the environment beats the default, typed
    assert s["FINEWS_LIST_URLS"] == sample_settings["FINEWS_LIST_URLS"].split(",")
    assert s["API_SECRET_TOKEN"] == "***"
    assert "hunter2-fake" not in result.stderr + result.stdout
    assert result.run["articles_written"] == 5
    assert result.run["counts"]["deferred"] == 39
    assert not (tmp_path / "from-env").exists()


def test_scrapy_defaults_that_hurt_are_fixed():
    import os

    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsarchive.settings")
    s = get_project_settings()
    assert s.getbool("ROBOTSTXT_OBEY") and not s.getbool("REMOTE_CONTROL_ENABLED")
    assert s.getbool("AUTOTHROTTLE_ENABLED") and s.getbool("RETRY_ENABLED")
    assert s["FEED_EXPORT_ENCODING"] == "utf-8"
    assert 503 in s.getlist("RETRY_HTTP_CODES") and s.getint("RETRY_TIMES") >= 2
    assert s["USER_AGENT"].startswith("newsarchive/") and "Mozilla" not in s["USER_AGENT"]
