"""pipelines/dedupe.py: a version is (source, id, content) by the same or a newer pipeline."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from crawler import article, build, close, feed, start
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from pipelines.articles import ArticleWriterPipeline
from pipelines.dedupe import DedupePipeline
from pipelines.normalise import NormalisePipeline


def archive_one(crawler: Crawler) -> None:
    start(crawler)
    feed(
        [build(NormalisePipeline, crawler), build(DedupePipeline, crawler), build(ArticleWriterPipeline, crawler)],
        article(),
    )
    close(crawler)


def dedupe_of(crawler: Crawler) -> list[object]:
    start(crawler)
    return [build(NormalisePipeline, crawler), build(DedupePipeline, crawler)]


def test_the_same_item_twice_in_a_run_is_dropped_once(crawler: Crawler) -> None:
    stages = dedupe_of(crawler)
    feed(stages, article())
    with pytest.raises(DropItem):
        feed(stages, article())
    assert crawler.stats.get_value("newsarchive/duplicates") == 1  # type: ignore[union-attr]


def test_a_newer_pipeline_version_writes_the_same_content_again(new_crawler: Callable[..., Crawler]) -> None:
    archive_one(new_crawler({"PIPELINE_VERSION": "1.0"}))
    newer = dedupe_of(new_crawler({"PIPELINE_VERSION": "2.0"}))
    assert feed(newer, article())["pipeline_version"] == "2.0"


def test_the_same_or_an_older_version_is_a_duplicate(new_crawler: Callable[..., Crawler]) -> None:
    archive_one(new_crawler({"PIPELINE_VERSION": "2.0"}))
    for version in ("2.0", "1.0"):
        with pytest.raises(DropItem):
            feed(dedupe_of(new_crawler({"PIPELINE_VERSION": version})), article())
