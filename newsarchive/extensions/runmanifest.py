"""Write ``runs/<run_id>.json`` when the spider closes, after the pipelines published.

The manifest is the run's commit record: it names every file the run wrote (with SHA-256),
says how the run went (``complete``, ``partial``, ``failed``), carries the counts from the
crawl stats and the settings that shaped the run, secrets redacted.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.settings import SETTINGS_PRIORITIES

from newsarchive import settings as project_settings
from newsarchive.archive.manifest import write_manifest
from newsarchive.config import redacted
from newsarchive.run import Run
from newsarchive.schema import SCHEMA_VERSION
from newsarchive.timeparse import utcnow

logger = logging.getLogger(__name__)
STATUS_STAT = "newsarchive/status"


def run_status(reason: str, problems: list[str], stats: dict[str, Any]) -> str:
    """``complete`` only when the crawl finished normally and nothing went wrong."""
    lists_ok = stats.get("newsarchive/lists/ok", 0)
    lists_failed = stats.get("newsarchive/lists/failed", 0)
    if lists_failed and not lists_ok:
        return "failed"
    if reason != "finished":
        return "partial" if stats.get("newsarchive/articles_written") else "failed"
    return "partial" if problems else "complete"


def shaping_settings(crawler: Crawler) -> dict[str, Any]:
    """Every setting newsarchive declares, plus any other set above Scrapy's defaults."""
    settings = crawler.settings
    declared = set(getattr(project_settings, "_defaults", {}))
    default_priority = SETTINGS_PRIORITIES["default"]
    names = {n for n in settings if n in declared or (settings.getpriority(n) or 0) > default_priority}
    return redacted({n: settings[n] for n in names})


def counts(stats: dict[str, Any]) -> dict[str, Any]:
    prefix = "newsarchive/"
    out: dict[str, Any] = {"requests_by_kind": {}, "quarantined_by_reason": {}}
    for key, value in sorted(stats.items()):
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if name.startswith("requests/"):
            out["requests_by_kind"][name.split("/", 1)[1]] = value
        elif name.startswith("quarantined/"):
            out["quarantined_by_reason"][name.split("/", 1)[1]] = value
        elif name != "status":
            out[name.replace("/", "_")] = value
    out.setdefault("articles_written", 0)
    out.setdefault("quarantined", 0)
    out["responses_by_status"] = {
        k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("downloader/response_status_count/")
    }
    return out


class RunManifest:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run = Run.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunManifest:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        return ext

    def spider_error(self, failure: Any, response: Any, spider: Spider) -> None:
        self.run.problems.append(f"spider error on {response.url}: {failure.getErrorMessage()}")

    def item_error(self, item: Any, response: Any, spider: Spider, failure: Any) -> None:
        self.run.problems.append(f"pipeline error: {failure.getErrorMessage()}")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        assert stats is not None
        values = stats.get_stats()
        # a run that could not write its good rows failed, whatever it fetched
        status = "failed" if self.run.failures else run_status(reason, self.run.problems, values)
        stats.set_value(STATUS_STAT, status)
        run_counts = counts(values)
        manifest: dict[str, Any] = {
            "run_id": self.run.run_id,
            "dag_run_id": self.run.dag_run_id,
            "spider": spider.name,
            "source": getattr(spider, "source", spider.name),
            "status": status,
            "finish_reason": reason,
            "problems": [self.run.redact(p) for p in self.run.problems],
            "archive_problems": [self.run.redact(p) for p in self.run.archive_problems],
            "started_at": self.run.started_at.isoformat(),
            "finished_at": utcnow().isoformat(),
            "counts": run_counts,
            "files": [f.to_json() for f in self.run.files],
            "schema_version": SCHEMA_VERSION,
            "pipeline_version": self.run.pipeline_version,
            "settings": shaping_settings(self.crawler),
        }
        path = write_manifest(self.run.layout, manifest)
        self.run.release()
        log = logger.info if status == "complete" else logger.error
        log(
            "Run %s %s: %d articles, %d quarantined, %d files; manifest %s",
            self.run.run_id,
            status,
            run_counts["articles_written"],
            run_counts["quarantined"],
            len(self.run.files),
            path,
        )
