"""What every archiving spider shares: its run, and how a failure becomes a quarantine row.

A spider subclass sets ``source``, reads its settings in ``from_crawler`` (raising
``NotConfigured`` when it cannot run) and yields ``Article`` items; failed lists and
requests go through the helpers below so every source names faults the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from newsarchive.failures import classify
from newsarchive.items import quarantine
from newsarchive.run import Run


class ArchiveSpider(scrapy.Spider):
    source: str
    run: Run

    def list_unusable(self, url: str, reason: str, detail: str, status: int | None, raw: Any = None) -> Iterator[Any]:
        """A list that cannot be read makes the run partial, loudly, and is quarantined."""
        self.crawler.stats.inc_value("newsarchive/lists/failed")
        self.run.problems.append(f"list {url}: {reason} ({detail})")
        self.logger.error("List %s unusable: %s (%s)", url, reason, detail)
        yield quarantine(self.source, "list", reason, detail, url=url, raw=raw, http_status=status)

    def fetch_failed(self, failure: Failure, source_id: str | None, stage: str = "text") -> Any:
        """A request that failed for good (after retries), named by its fault."""
        reason, detail, status = classify(failure)
        return quarantine(
            self.source, stage, reason, detail, info_code_raw=source_id, url=failure.request.url, http_status=status
        )


def excerpt(response: Response, limit: int = 2000) -> str | None:
    """The start of a bad response's body, kept in the quarantine as evidence."""
    return response.body[:limit].decode("utf-8", "replace") if response.body else None


def content_type(response: Response) -> str:
    return response.headers.get(b"Content-Type", b"").decode("latin-1") or "none"
