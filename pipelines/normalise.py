"""Derive the columns a source does not give: plain text, credit, slug, hashes, provenance."""

from __future__ import annotations

import hashlib
from typing import Any

from scrapy.crawler import Crawler

from newsarchive import __version__
from newsarchive.htmltext import text_and_credit
from newsarchive.items import Article, quarantine
from newsarchive.run import Run
from newsarchive.schema import SCHEMA_VERSION
from newsarchive.slug import media_slug
from newsarchive.story import story_id
from pipelines.guard import contained


def normalise(item: Any, run_id: str, dag_run_id: str | None, pipeline_version: str = __version__) -> Any:
    """Fill the derived columns of a valid article in place and return it."""
    html: str = item["content_html"]
    text, credit, credited_media = text_and_credit(html)
    item["media_credit"] = credit
    if not item.get("media_name") and credited_media:
        item["media_name"] = credited_media
    # a slug the source states (an imported post's category) is kept as it was published
    item["media_slug"] = item.get("media_slug") or media_slug(item.get("media_name"))
    item["content_text"] = text
    item["content_sha256"] = hashlib.sha256(html.encode("utf-8")).hexdigest()
    item["story_id"] = story_id(item["title"], item["published_at"])
    item["run_id"] = run_id
    item["dag_run_id"] = dag_run_id
    item["pipeline_version"] = pipeline_version
    item["schema_version"] = SCHEMA_VERSION
    return item


class NormalisePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run = Run.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(crawler)

    @contained("normalise")
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        try:
            return normalise(item, self.run.run_id, self.run.dag_run_id, self.run.pipeline_version)
        except Exception as exc:
            raw = {k: v for k, v in item.items() if k != "content_html"}
            return quarantine(
                item["source"],
                "normalise",
                "invalid",
                f"{type(exc).__name__}: {exc}",
                info_code_raw=item.get("source_id"),
                url=item.get("source_url"),
                raw=raw,
                evidence=item,
            )
