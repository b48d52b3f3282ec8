"""One item's exception costs that item only: it becomes an ``internal_error`` quarantine row.

Scrapy logs an exception escaping ``process_item`` and drops the item, so a bug or an input
no stage foresaw would lose the article silently. :func:`contained` wraps a stage's
``process_item``: the item is replaced by a :class:`~newsarchive.items.Quarantined` row
naming the exception, which the next stages pass on to the quarantine writer. Two
exceptions keep their meaning: ``DropItem`` (a stage's decision, e.g. a duplicate) and
:class:`~newsarchive.tables.sink.WriteFailed` (the run's files cannot be written: the run
fails, and its good rows are never turned into quarantine rows).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from scrapy.exceptions import DropItem

from newsarchive.items import internal_error
from newsarchive.tables.sink import WriteFailed
from newsarchive.workdir import SOURCE_RE

logger = logging.getLogger(__name__)

#: Passed through: not an accident of one item.
PASSED_THROUGH: tuple[type[BaseException], ...] = (DropItem, WriteFailed)

P = TypeVar("P")


def contained(stage: str) -> Callable[[Callable[[P, Any], Any]], Callable[[P, Any], Any]]:
    """Decorate a pipeline's ``process_item(self, item)``; ``self.crawler`` counts the errors."""

    def wrap(method: Callable[[P, Any], Any]) -> Callable[[P, Any], Any]:
        @functools.wraps(method)
        def process_item(self: P, item: Any) -> Any:
            try:
                return method(self, item)
            except PASSED_THROUGH:
                raise
            except Exception as exc:
                return as_quarantine(self, item, stage, exc, f"{type(self).__name__}.process_item")

        return process_item

    return wrap


def as_quarantine(pipeline: Any, item: Any, stage: str, exc: Exception, where: str) -> Any:
    """The ``internal_error`` row that replaces ``item``, counted and logged with its traceback."""
    stats = pipeline.crawler.stats
    stats.inc_value("newsarchive/internal_errors")
    stats.inc_value(f"newsarchive/internal_errors/{stage}")
    get = item.get
    logger.error("%s failed for %s: %s", where, get("source_id") or get("url"), exc, exc_info=exc)
    raw = {k: v for k, v in dict(item).items() if k not in ("content_html", "content_text")}
    source = get("source")
    return internal_error(
        source if isinstance(source, str) and SOURCE_RE.fullmatch(source) else "unknown",
        stage,
        exc,
        where=where,
        url=get("source_url") or get("url"),
        info_code_raw=get("source_id") or get("info_code_raw"),
        raw=raw,
        http_status=get("http_status"),
        evidence=item,
    )
