"""Write quarantined records to ``quarantine/source=<s>/date=<run date>/part-<run>-<n>.parquet``.

A bad *record* (one with ``raw``) is written once: later runs that meet the same record
count it (``newsarchive/quarantine_repeats``) instead of writing it again. Fetch failures
are events and are written every time they happen, except in a reparse: replaying the same
WARC files gives the same outcome every time, so there every row is a fact about the recorded
evidence and is written once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from typing import Any

from scrapy.crawler import Crawler

from newsarchive import signals
from newsarchive.archive.index import load_fingerprints, write_index_part
from newsarchive.archive.layout import QUARANTINE, check_source, partition_key
from newsarchive.archive.sink import PartitionedSink, WriteFailed
from newsarchive.items import Quarantined
from newsarchive.run import Run
from newsarchive.schema import QUARANTINE_FIELDS, QUARANTINE_SCHEMA, SCHEMA_VERSION
from newsarchive.surrogates import escaped
from newsarchive.timeparse import beijing_date, utcnow
from pipelines.articles import sink_options
from pipelines.guard import as_quarantine

logger = logging.getLogger(__name__)


def fingerprint(source: str, reason: str, raw: str | None, about: str | None = None) -> str | None:
    """What makes a bad record the same one next run. ``about`` is the article a response was
    for (a text or page): two articles whose texts are the same bad body are two problems,
    each quarantined; a list entry carries its id in ``raw`` already."""
    if raw is None:
        return None
    subject = "" if about is None else f"{about}\x00"
    return hashlib.sha256(f"{source}\x00{reason}\x00{subject}{raw}".encode()).hexdigest()


class QuarantineWriterPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run = Run.of(crawler)
        self.sink = PartitionedSink(
            self.run.layout,
            QUARANTINE_SCHEMA,
            self.run.run_id,
            kind=QUARANTINE,
            on_reject=self.escape_row,
            **sink_options(crawler.settings),
        )
        self.day = beijing_date(self.run.started_at)
        self._known: dict[str, set[str]] = {}
        self.index_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.run.quarantine = self.process_item  # for rows found bad outside the item chain

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuarantineWriterPipeline:
        pipeline = cls(crawler)
        # rows of articles that were archived all the same (an unsafe link dropped)
        crawler.signals.connect(pipeline.quarantine_row, signal=signals.quarantine_row)
        return pipeline

    def quarantine_row(self, item: Any) -> None:
        self.process_item(item)

    def known(self, source: str) -> set[str]:
        """Fingerprints already in the quarantine (from its index, loaded once per run)."""
        if source not in self._known:
            self._known[source] = load_fingerprints(self.run.layout, source, self.run.archive_problems)
        return self._known[source]

    def process_item(self, item: Any) -> Any:
        """Write ``item``; if that raises (a bug, a source name no path may hold), write an
        ``internal_error`` row about it instead: the quarantine is the last stage, so there
        is no later one to hand it to."""
        if not isinstance(item, Quarantined):
            return item
        try:
            return self.write(item)
        except WriteFailed as exc:
            self.sink.abort()  # its temporary files only, at once: the manifest must still fit
            self.run.fail(f"writing quarantine failed: {exc}")
            logger.error("Quarantine not written: %s", exc)
            return item
        except Exception as exc:
            where = f"{type(self).__name__}.process_item"
            replacement = as_quarantine(self, item, "quarantine", exc, where)
            try:
                self.write(replacement)
            except Exception as again:
                self.run.problems.append(f"a quarantine row could not be written: {type(again).__name__}: {again}")
                logger.error("Quarantine row not written: %s", again, exc_info=again)
            return item

    @staticmethod
    def escape_row(row: dict[str, Any], exc: Exception) -> dict[str, Any]:
        """A row the sink cannot convert: its text escaped (lone surrogates as ``\\uXXXX``)."""
        logger.warning("Quarantine row of %s stored escaped: %s", row.get("url") or row.get("info_code_raw"), exc)
        return {k: escaped(v) for k, v in row.items()}

    def write(self, item: Any) -> Any:
        stats = self.crawler.stats
        assert stats is not None
        source = check_source(item.get("source") or "unknown")
        reason = item["reason"]
        raw = item.get("raw")
        if raw is None and self.run.replay:
            raw_id = {k: item.get(k) for k in ("stage", "url", "detail", "info_code_raw")}
            fp = fingerprint(source, reason, json.dumps(raw_id, ensure_ascii=False, sort_keys=True))
        else:
            about = item.get("info_code_raw") if item.get("stage") != "list" else None
            fp = fingerprint(source, reason, raw, about=str(about) if about is not None else None)
        if fp is not None:
            known = self.known(source)
            if fp in known:
                stats.inc_value("newsarchive/quarantine_repeats")
                return item
            known.add(fp)
        row = {name: item.get(name) for name in QUARANTINE_FIELDS}
        for name in ("url", "detail", "raw"):  # no credential from a setting ends up in the archive
            if row.get(name):
                row[name] = self.run.redact(row[name])
        row.update(
            source=source,
            fingerprint=fp,
            seen_at=row.get("seen_at") or utcnow(),
            run_id=self.run.run_id,
            dag_run_id=self.run.dag_run_id,
            spider=row.get("spider") or getattr(self.crawler.spider, "name", None),
            pipeline_version=self.run.pipeline_version,
            schema_version=SCHEMA_VERSION,
        )
        self.sink.write(partition_key(QUARANTINE, source, self.day), row)
        if fp is not None:
            self.index_rows[source].append({"source": source, "fingerprint": fp, "seen_at": row["seen_at"]})
        stats.inc_value("newsarchive/quarantined")
        stats.inc_value(f"newsarchive/quarantined/{reason}")
        self.crawler.spider.logger.warning(  # type: ignore[union-attr]
            "Quarantined %s record (%s, %s): %s",
            item["stage"],
            reason,
            item.get("info_code_raw") or item.get("url"),
            item.get("detail"),
        )
        return item

    def close_spider(self) -> None:
        for flush in self.run.before_quarantine_publish:  # their unstorable rows come here first
            flush()
        try:
            files = self.sink.publish()
            for source, rows in sorted(self.index_rows.items()):
                files.append(write_index_part(self.run.layout, source, self.run.run_id, rows, QUARANTINE))
        except Exception as exc:
            self.sink.abort()  # temporary files only: what was published stays
            self.run.add_files(self.sink.published)
            assert self.crawler.stats is not None  # count what is on disk, not what was meant to be
            self.crawler.stats.set_value("newsarchive/quarantined", sum(f.rows or 0 for f in self.sink.published))
            self.run.fail(f"writing quarantine failed: {type(exc).__name__}: {exc}")
            if not isinstance(exc, WriteFailed):
                raise
            logger.error("Writing quarantine failed: %s", exc)
            return
        self.run.add_files(files)
