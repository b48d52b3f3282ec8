"""Nothing is written twice: an article version already archived (or seen this run) is
counted and skipped.

A version is (source, source_id, content_sha256) as written by a pipeline version: the same
content archived by an older ``pipeline_version`` is not a duplicate (a reparse with newer
parsers writes it again, and the newest wins in the deduplicated view); by the same or a
newer version it is. The table is asked about the candidates only (the spider prefetched the
ids of each list); the commit checks again for what another writer committed meanwhile."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsarchive.extensions.archiverun import ArchiveRun
from newsarchive.items import Article
from pipelines.guard import contained


class DedupePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run = ArchiveRun.of(crawler)
        self.seen: set[tuple[str, str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    @contained("dedupe")
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        key = (item["source"], item["source_id"], item["content_sha256"])
        index = self.run.index(key[0])
        if key in self.seen or index.has_version(key[1], key[2], self.run.pipeline_version):
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("newsarchive/duplicates")
            raise DropItem(f"{key[0]}/{key[1]} version {key[2][:12]} is already archived", log_level="INFO")
        self.seen.add(key)
        return item
