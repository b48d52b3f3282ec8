"""pipelines/normalise.py: the derived columns, unsafe links, idempotence."""

from __future__ import annotations

import hashlib
from typing import Any

from crawler import article, build, run_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.crawler import Crawler

from newsarchive import signals
from newsarchive.schema import SCHEMA_VERSION
from pipelines.normalise import NormalisePipeline, normalise


def test_derived_columns_are_filled(crawler: Crawler) -> None:
    out = build(NormalisePipeline, crawler).process_item(article())
    run = run_of(crawler)
    assert out["content_sha256"] == hashlib.sha256("<p>正文 text</p>".encode()).hexdigest()
    assert out["content_text"].strip() == "正文 text"
    assert out["run_id"] == run.run_id
    assert out["pipeline_version"] == run.pipeline_version
    assert out["schema_version"] == SCHEMA_VERSION
    assert out["story_id"]
    assert out["media_slug"]


def test_a_stated_slug_is_kept(crawler: Crawler) -> None:
    out = build(NormalisePipeline, crawler).process_item(article(media_slug="kept"))
    assert out["media_slug"] == "kept"


def test_an_unsafe_link_is_removed_and_quarantined(crawler: Crawler) -> None:
    rows: list[Any] = []

    def got(item: Any, **_: Any) -> None:
        rows.append(item)

    crawler.signals.connect(got, signal=signals.quarantine_row, weak=False)
    out = build(NormalisePipeline, crawler).process_item(
        article(article_url="javascript:alert(1)", image_urls=["https://a.example/x.jpg", "data:x"])
    )
    assert out["article_url"] is None
    assert out["image_urls"] == ["https://a.example/x.jpg"]
    assert crawler.stats.get_value("newsarchive/unsafe_links") == 2  # type: ignore[union-attr]
    assert [r["reason"] for r in rows] == ["unsafe_url", "unsafe_url"]


def test_credentials_in_links_are_masked(crawler: Crawler) -> None:
    out = build(NormalisePipeline, crawler).process_item(article(share_url="https://user:secret@a.example/x"))
    assert "secret" not in out["share_url"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(html=st.text(min_size=1).filter(lambda s: s.strip()), title=st.text(min_size=1).filter(lambda s: s.strip()))
def test_normalise_is_idempotent(html: str, title: str) -> None:
    html = html.encode("utf-8", "replace").decode("utf-8", "replace")
    once = dict(normalise(article(content_html=html, title=title), "run-1", None, "1.0"))
    twice = dict(
        normalise(normalise(article(content_html=html, title=title), "run-1", None, "1.0"), "run-1", None, "1.0")
    )
    assert once == twice
