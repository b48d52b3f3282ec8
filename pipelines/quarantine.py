"""Hand quarantined records to the run's writer, which streams them to the ``quarantine`` table.

A bad *record* (one with ``raw``) is written once: a run writes each fingerprint once, and
its commit leaves out the rows whose fingerprint the table already holds (counted as
``newsarchive/quarantine_repeats``), so later runs — on any worker — do not write it again. Fetch failures
are events and are written every time they happen, except in a reparse: replaying the same
WARC files gives the same outcome every time, so there every row is a fact about the recorded
evidence and is written once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from scrapy.crawler import Crawler

from newsarchive import signals
from newsarchive.extensions.archiverun import ArchiveRun
from newsarchive.items import Quarantined
from newsarchive.schema import QUARANTINE_FIELDS, SCHEMA_VERSION
from newsarchive.tables.definitions import QUARANTINE
from newsarchive.tables.sink import WriteFailed
from newsarchive.timeparse import utcnow
from newsarchive.workdir import check_source
from newsarchive.writer.client import WriterClient
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
        self.run = ArchiveRun.of(crawler)
        self.writer = WriterClient.of(crawler)
        self.writer.use(QUARANTINE)
        self._wrote = False
        self._failed = False
        #: Fingerprints this run wrote (the table's are checked at the commit).
        self._written: set[str] = set()
        self.run.quarantine = self.process_item  # for rows found bad outside the item chain
        self.run.before_commit(self.finish)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuarantineWriterPipeline:
        pipeline = cls(crawler)
        # rows of articles that were archived all the same (an unsafe link dropped)
        crawler.signals.connect(pipeline.quarantine_row, signal=signals.quarantine_row)
        return pipeline

    def quarantine_row(self, item: Any) -> None:
        self.process_item(item)

    def process_item(self, item: Any) -> Any:
        """Write ``item``; if that raises (a bug, a source name no path may hold), write an
        ``internal_error`` row about it instead: the quarantine is the last stage, so there
        is no later one to hand it to."""
        if not isinstance(item, Quarantined):
            return item
        try:
            return self.write(item)
        except WriteFailed as exc:  # the writer deleted its files at once: the runs row must still be committed
            if not self._failed:
                self._failed = True
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
            if fp in self._written:
                stats.inc_value("newsarchive/quarantine_repeats")
                return item
            self._written.add(fp)
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
        self.writer.quarantine(row)  # its text is escaped there if it cannot be stored as it is
        self._wrote = True
        stats.inc_value("newsarchive/quarantined")  # until the commit says how many it took
        self.crawler.spider.logger.warning(  # type: ignore[union-attr]
            "Quarantined %s record (%s, %s): %s",
            item["stage"],
            reason,
            item.get("info_code_raw") or item.get("url"),
            item.get("detail"),
        )
        return item

    def finish(self) -> None:
        """Finish every file and hand them to the run (the writers before it flushed into us)."""
        if not self._wrote:
            return
        try:
            files = self.writer.finish(QUARANTINE)
        except WriteFailed as exc:
            self.run.fail(f"writing quarantine failed: {exc}")
            logger.error("Writing quarantine failed: %s", exc)
            return
        self.run.stage(QUARANTINE, files)
