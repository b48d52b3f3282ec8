"""Write articles to ``articles/source=<s>/date=<Beijing date>/part-<run>-<n>.parquet``.

Streaming and atomic (see :class:`~newsarchive.archive.sink.PartitionedSink`); at the end
of the run the parts are published, then one index part per source.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from scrapy.crawler import Crawler

from newsarchive.archive.index import write_index_part
from newsarchive.archive.layout import ARTICLES, partition_key
from newsarchive.archive.sink import PartitionedSink
from newsarchive.items import Article
from newsarchive.run import Run
from newsarchive.schema import ARTICLE_FIELDS, ARTICLE_SCHEMA, INDEX_FIELDS
from newsarchive.timeparse import beijing_date


def sink_options(settings: Any) -> dict[str, Any]:
    return {
        "row_group_size": settings.getint("PARQUET_ROW_GROUP_SIZE"),
        "max_rows_per_file": settings.getint("PARQUET_MAX_ROWS_PER_FILE"),
        "max_open": settings.getint("PARQUET_MAX_OPEN_PARTITIONS"),
        "compression": settings.get("PARQUET_COMPRESSION"),
        "compression_level": settings.getint("PARQUET_COMPRESSION_LEVEL") or None,
    }


class ArticleWriterPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run = Run.of(crawler)
        self.sink = PartitionedSink(
            self.run.layout,
            ARTICLE_SCHEMA,
            self.run.run_id,
            kind=ARTICLES,
            **sink_options(crawler.settings),
        )
        #: What the index part lists, per source, as columns (a dict per article would cost
        #: about 0.3 KiB more each).
        self.index_rows: dict[str, dict[str, list[Any]]] = defaultdict(lambda: {k: [] for k in INDEX_FIELDS})

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleWriterPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        filled = dict(item)  # one pass over the set fields: get() on an Item raises for each unset one
        row = {name: filled.get(name) for name in ARTICLE_FIELDS}
        source = row["source"]
        self.sink.write(partition_key(ARTICLES, source, beijing_date(row["published_at"])), row)
        for name, values in self.index_rows[source].items():
            values.append(row[name])
        self.run.index(source).add(row["source_id"], row["content_sha256"], row["pipeline_version"])
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newsarchive/articles_written")
        self.crawler.stats.inc_value(f"newsarchive/articles_written/{source}")
        return item

    def close_spider(self) -> None:
        try:
            files = self.sink.publish()
            for source, rows in sorted(self.index_rows.items()):
                files.append(write_index_part(self.run.layout, source, self.run.run_id, rows))
        except Exception as exc:
            self.sink.abort()
            self.run.problems.append(f"writing articles failed: {type(exc).__name__}: {exc}")
            raise
        self.run.add_files(files)
