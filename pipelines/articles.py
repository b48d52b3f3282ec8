"""Hand articles to the run's writer, which streams them to Parquet files in the ``articles`` table.

The writer (:mod:`newsarchive.writer`, in a process of its own by default) writes with
bounded memory (see :class:`~newsarchive.tables.sink.TableSink`); the files are committed by
the run (:class:`~newsarchive.extensions.archiverun.ArchiveRun`) when it ends, in one
snapshot. ``newsarchive/articles_written`` then counts the rows *committed*. A row pyarrow
cannot store is quarantined (it never costs the other rows); a write failure (disk full)
fails the run at once, and the run commits none of its article files.
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
from newsarchive.tables.sink import WriteFailed
from newsarchive.writer.client import WRITE_FAILED, WriterClient
from pipelines.guard import contained

__all__ = ["WRITE_FAILED", "ArticleWriterPipeline"]

logger = logging.getLogger(__name__)


class ArticleWriterPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run = ArchiveRun.of(crawler)
        self.writer = WriterClient.of(crawler)
        self.writer.use(ARTICLES)
        self.writer.on_rejected = self.unstorable
        self.writer.on_row_failed = self.row_failed
        self._wrote = False
        # Rows the sink can only reject when it flushes must reach the quarantine before it commits.
        self.run.before_commit(self.finish)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleWriterPipeline:
        return cls(crawler)

    @contained("write")
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        filled = dict(item)  # one pass over the set fields: get() on an Item raises for each unset one
        try:
            self.writer.article(tuple(map(filled.get, ARTICLE_FIELDS)))
        except WriteFailed as exc:
            self.write_failed(exc)
            raise DropItem(f"not archived, the archive cannot be written: {exc}") from exc
        self._wrote = True
        self.run.index(filled["source"]).add(filled["source_id"], filled["content_sha256"], filled["pipeline_version"])
        return item

    def unstorable(self, row: dict[str, Any], error: str) -> None:
        """A row the sink cannot convert (validation should have caught it): quarantined,
        and the other rows of its row group are written."""
        source, source_id = row.get("source") or "unknown", row.get("source_id")
        field = surrogate_field(row)
        reason = "invalid_text" if field else "internal_error"
        where = f"field {field}" if field else "a field"
        detail = f"{source}/{source_id}: {where} cannot be stored in Parquet: {error}"
        logger.error("Article row %s/%s not stored: %s", source, source_id, error)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newsarchive/rows_rejected")
        raw = {k: v for k, v in row.items() if k not in ("content_html", "content_text")}
        bad = quarantine(source, "write", reason, detail, info_code_raw=source_id, url=row.get("source_url"), raw=raw)
        self._quarantine(bad, detail)

    def row_failed(self, row: dict[str, Any], stage: str, detail: str) -> None:
        """The writer could not write the row (its text could not be derived, say): one
        ``internal_error`` row, as :func:`~pipelines.guard.contained` makes in the crawler."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newsarchive/internal_errors")
        self.crawler.stats.inc_value(f"newsarchive/internal_errors/{stage}")
        source, source_id = row.get("source") or "unknown", row.get("source_id")
        bad = quarantine(
            source,
            stage,
            "internal_error",
            detail,
            info_code_raw=source_id,
            url=row.get("source_url"),
            raw=row,
            evidence=row,
        )
        self._quarantine(bad, detail)

    def _quarantine(self, bad: Any, detail: str) -> None:
        if self.run.quarantine is not None:
            self.run.quarantine(bad)
        else:  # the quarantine writer is not configured: say so rather than lose it silently
            self.run.problems.append(f"article {bad.get('source')}/{bad.get('info_code_raw')} not archived: {detail}")

    def write_failed(self, exc: WriteFailed) -> None:
        """The run's rows cannot be written: it fails, now, rather than fetch for nothing.
        Its article files are gone already (a full disk then still takes the quarantine)."""
        if self.run.failures:
            return  # already failed and closing
        logger.error("The archive cannot be written, the run fails: %s", exc)
        self.run.fail(f"writing articles failed: {exc}")
        self.run.stop_crawl(WRITE_FAILED)

    def finish(self) -> None:
        """Finish every file and hand them to the run, before the quarantine's commit."""
        if not self._wrote:
            return
        try:
            files = self.writer.finish(ARTICLES)
        except WriteFailed as exc:
            self.write_failed(exc)
            return
        self.run.stage(ARTICLES, files)
