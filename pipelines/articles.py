"""Stream articles to Parquet files in the ``articles`` table's location.

Streaming with bounded memory (see :class:`~newsarchive.tables.sink.TableSink`); the files
are committed by the run (:class:`~newsarchive.extensions.archiverun.ArchiveRun`) when it
ends, in one snapshot. ``newsarchive/articles_written`` then counts the rows *committed*.
A row pyarrow cannot store is quarantined (it never costs the other rows); a write failure
(disk full) fails the run at once, and the run commits none of its article files.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsarchive.extensions.archiverun import ArchiveRun
from newsarchive.items import Article, quarantine
from newsarchive.schema import ARTICLE_FIELDS
from newsarchive.surrogates import surrogate_field
from newsarchive.tables.definitions import ARTICLES
from newsarchive.tables.sink import TableSink, WriteFailed, month_of
from pipelines.guard import contained

logger = logging.getLogger(__name__)
#: Finish reason of a crawl stopped because its rows cannot be written.
WRITE_FAILED = "archive_write_failed"


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
        self.run = ArchiveRun.of(crawler)
        self.options = sink_options(crawler.settings)
        self._sink: TableSink | None = None
        # Rows the sink can only reject when it flushes must reach the quarantine before it commits.
        self.run.before_commit(self.finish)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleWriterPipeline:
        return cls(crawler)

    @property
    def sink(self) -> TableSink:
        if self._sink is None:
            self._sink = self.run.new_sink(ARTICLES, self.unstorable, **self.options)
        return self._sink

    @contained("write")
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        filled = dict(item)  # one pass over the set fields: get() on an Item raises for each unset one
        row = {name: filled.get(name) for name in ARTICLE_FIELDS}
        try:
            self.sink.write((row["source"], month_of(row["published_at"])), row)
        except WriteFailed as exc:
            self.write_failed(exc)
            raise DropItem(f"not archived, the archive cannot be written: {exc}") from exc
        self.run.index(row["source"]).add(row["source_id"], row["content_sha256"], row["pipeline_version"])
        return item

    def unstorable(self, row: dict[str, Any], exc: Exception) -> None:
        """A row the sink cannot convert (validation should have caught it): quarantined,
        and the other rows of its row group are written."""
        source, source_id = row.get("source") or "unknown", row.get("source_id")
        field = surrogate_field(row)
        reason = "invalid_text" if field else "internal_error"
        where = f"field {field}" if field else "a field"
        detail = f"{source}/{source_id}: {where} cannot be stored in Parquet: {type(exc).__name__}: {exc}"
        logger.error("Article row %s/%s not stored: %s", source, source_id, exc)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newsarchive/rows_rejected")
        raw = {k: v for k, v in row.items() if k not in ("content_html", "content_text")}
        bad = quarantine(source, "write", reason, detail, info_code_raw=source_id, url=row.get("source_url"), raw=raw)
        if self.run.quarantine is not None:
            self.run.quarantine(bad)
        else:  # the quarantine writer is not configured: say so rather than lose it silently
            self.run.problems.append(f"article {source}/{source_id} could not be stored: {detail}")

    def write_failed(self, exc: WriteFailed) -> None:
        """The run's rows cannot be written: it fails, now, rather than fetch for nothing.
        Its article files go at once (a full disk then still takes the quarantine)."""
        if self._sink is not None:
            self._sink.abort()
        if self.run.failures:
            return  # already failed and closing
        logger.error("The archive cannot be written, the run fails: %s", exc)
        self.run.fail(f"writing articles failed: {exc}")
        self.run.stop_crawl(WRITE_FAILED)

    def finish(self) -> None:
        """Finish every file and hand them to the run, before the quarantine's commit."""
        if self._sink is None:
            return
        if self._sink.failed is not None:
            self._sink.abort()
            return
        try:
            files = self._sink.close()
        except WriteFailed as exc:
            self.write_failed(exc)
            return
        self.run.stage(ARTICLES, files)
