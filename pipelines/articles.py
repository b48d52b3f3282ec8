"""Write articles to ``articles/source=<s>/date=<Beijing date>/part-<run>-<n>.parquet``.

Streaming and atomic (see :class:`~newsarchive.archive.sink.PartitionedSink`); at the end
of the run the parts are published, then one index part per source.

``newsarchive/articles_written`` counts rows in *published* files: what is durably in the
archive, whatever happened on the way. A row pyarrow cannot store is quarantined (it never
costs the other rows); a write failure (disk full) fails the run, closes the spider and
keeps what was already published.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import pyarrow.parquet as pq
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from newsarchive.archive.files import WrittenFile
from newsarchive.archive.index import write_index_part
from newsarchive.archive.layout import ARTICLES, PARTITION_RE, partition_key
from newsarchive.archive.sink import PartitionedSink, WriteFailed
from newsarchive.items import Article, quarantine
from newsarchive.run import Run
from newsarchive.schema import ARTICLE_FIELDS, ARTICLE_SCHEMA, INDEX_FIELDS
from newsarchive.surrogates import surrogate_field
from newsarchive.timeparse import beijing_date
from pipelines.guard import contained

logger = logging.getLogger(__name__)
#: Finish reason of a crawl stopped because its archive cannot be written.
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
        self.run = Run.of(crawler)
        self.sink = PartitionedSink(
            self.run.layout,
            ARTICLE_SCHEMA,
            self.run.run_id,
            kind=ARTICLES,
            on_reject=self.unstorable,
            **sink_options(crawler.settings),
        )
        #: What the index part lists, per source, as columns (a dict per article would cost
        #: about 0.3 KiB more each).
        self.index_rows: dict[str, dict[str, list[Any]]] = defaultdict(lambda: {k: [] for k in INDEX_FIELDS})
        # Rows the sink can only reject when it flushes must reach the quarantine before it publishes.
        self.run.before_quarantine_publish.append(self.flush)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleWriterPipeline:
        return cls(crawler)

    @contained("write")
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        if self.sink.failed is not None:
            raise DropItem(f"not archived, the archive cannot be written: {self.sink.failed}")
        filled = dict(item)  # one pass over the set fields: get() on an Item raises for each unset one
        row = {name: filled.get(name) for name in ARTICLE_FIELDS}
        source = row["source"]
        key = partition_key(ARTICLES, source, beijing_date(row["published_at"]))
        try:
            self.sink.write(key, row)
        except WriteFailed as exc:
            self.write_failed(exc)
            raise DropItem(f"not archived, the archive cannot be written: {exc}") from exc
        for name, values in self.index_rows[source].items():
            values.append(row[name])
        self.run.index(source).add(row["source_id"], row["content_sha256"], row["pipeline_version"])
        return item

    def unstorable(self, row: dict[str, Any], exc: Exception) -> None:
        """A row the sink cannot convert (validation should have caught it): quarantined,
        out of the index, and the other rows of its row group are written."""
        source, source_id = row.get("source") or "unknown", row.get("source_id")
        field = surrogate_field(row)
        reason = "invalid_text" if field else "internal_error"
        where = f"field {field}" if field else "a field"
        detail = f"{source}/{source_id}: {where} cannot be stored in Parquet: {type(exc).__name__}: {exc}"
        logger.error("Article row %s/%s not stored: %s", source, source_id, exc)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newsarchive/rows_rejected")
        self._unindex(row)
        raw = {k: v for k, v in row.items() if k not in ("content_html", "content_text")}
        bad = quarantine(source, "write", reason, detail, info_code_raw=source_id, url=row.get("source_url"), raw=raw)
        if self.run.quarantine is not None:
            self.run.quarantine(bad)
        else:  # the quarantine writer is not configured: say so rather than lose it silently
            self.run.problems.append(f"article {source}/{source_id} could not be stored: {detail}")

    def _unindex(self, row: dict[str, Any]) -> None:
        columns = self.index_rows.get(row.get("source") or "")
        if not columns:
            return
        ids, shas = columns["source_id"], columns["content_sha256"]
        for n in range(len(ids) - 1, -1, -1):
            if ids[n] == row.get("source_id") and shas[n] == row.get("content_sha256"):
                for values in columns.values():
                    del values[n]
                break

    def write_failed(self, exc: WriteFailed) -> None:
        """The run's rows cannot be written: it fails, now, rather than fetch for nothing.
        The temporary files go at once (a full disk then still takes the quarantine and the
        manifest); published files are never touched."""
        self.sink.abort()
        if self.run.failures:
            return  # already failed and closing
        logger.error("The archive cannot be written, the run fails: %s", exc)
        self.run.fail(f"writing articles failed: {exc}")
        engine = getattr(self.crawler, "engine", None)
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason=WRITE_FAILED))

    def flush(self) -> None:
        """Write every buffered row (files stay temporary), before the quarantine publishes."""
        try:
            self.sink.close()
        except WriteFailed as exc:  # kept in self.sink.failed; close_spider reports it
            self.write_failed(exc)

    def close_spider(self) -> None:
        try:
            self.sink.publish()
            index = self.write_index(self.index_rows)
        except WriteFailed as exc:
            self.sink.abort()  # temporary files only: what was published stays, named in the manifest
            self.run.fail(f"writing articles failed: {exc}")
            self.run.add_files(self.sink.published)
            self.run.add_files(self.index_of_published())
            logger.error("Writing articles failed: %s", exc)
        except Exception as exc:
            self.sink.abort()
            self.run.fail(f"writing articles failed: {type(exc).__name__}: {exc}")
            self.run.add_files(self.sink.published)
            raise
        else:
            self.run.add_files([*self.sink.published, *index])
        finally:
            self.count_published()

    def write_index(self, rows: dict[str, dict[str, list[Any]]]) -> list[WrittenFile]:
        try:
            return [write_index_part(self.run.layout, s, self.run.run_id, r) for s, r in sorted(rows.items())]
        except Exception as exc:
            raise WriteFailed(f"{ARTICLES}: writing the index failed: {type(exc).__name__}: {exc}") from exc

    def index_of_published(self) -> list[WrittenFile]:
        """After a failure, the index of the rows that were published after all (read back
        from their files), so the next run does not fetch them again; best effort."""
        rows: dict[str, dict[str, list[Any]]] = defaultdict(lambda: {k: [] for k in INDEX_FIELDS})
        for written in self.sink.published:
            m = PARTITION_RE.match(written.key)
            if m is None:
                continue
            table = pq.read_table(self.run.layout.path(written.key), columns=list(INDEX_FIELDS))
            for name in INDEX_FIELDS:
                rows[m["source"]][name].extend(table.column(name).to_pylist())
        try:
            return self.write_index(rows)
        except WriteFailed as exc:
            logger.error("%s; the next run adopts nothing and may fetch those articles again", exc)
            return []

    def count_published(self) -> None:
        """``articles_written``: rows in the article files this run published, per source too."""
        stats = self.crawler.stats
        assert stats is not None
        total = 0
        for written in self.sink.published:
            m = PARTITION_RE.match(written.key)
            rows = written.rows or 0
            total += rows
            if m is not None:
                stats.inc_value(f"newsarchive/articles_written/{m['source']}", rows)
        stats.set_value("newsarchive/articles_written", total)
