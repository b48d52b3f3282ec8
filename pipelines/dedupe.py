"""Nothing is written twice: an article version already archived (or seen this run) is
counted and skipped."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsarchive.items import Article
from newsarchive.run import Run


class DedupePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run = Run.of(crawler)
        self.seen: set[tuple[str, str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        key = (item["source"], item["source_id"], item["content_sha256"])
        if key in self.seen or self.run.index(key[0]).has_version(key[1], key[2]):
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("newsarchive/duplicates")
            raise DropItem(f"{key[0]}/{key[1]} version {key[2][:12]} is already archived", log_level="INFO")
        self.seen.add(key)
        return item
