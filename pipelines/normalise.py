"""Derive the columns a source does not give: plain text, credit, slug, hashes, provenance.

The text columns (:mod:`newsarchive.derived`: an lxml parse of the body) are left to the
writer process when the run has one: nothing before the writer reads them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from scrapy.crawler import Crawler
from twisted.python.failure import Failure

from newsarchive import __version__, links, signals
from newsarchive.derived import fill_text_columns
from newsarchive.extensions.archiverun import ArchiveRun
from newsarchive.items import Article, quarantine
from newsarchive.schema import SCHEMA_VERSION
from newsarchive.writer.client import WriterClient
from pipelines.guard import contained

#: The article columns holding URLs, and the schemes each accepts. Links a source sends
#: (``article_url``, ``share_url``, ``image_urls``) must be http(s); the URLs we read from
#: (``source_url``, ``list_url``) may also be the importer's ``file:`` URIs.
URL_COLUMNS: dict[str, frozenset[str]] = {
    "article_url": links.HTTP,
    "share_url": links.HTTP,
    "image_urls": links.HTTP,
    "source_url": links.FETCHED,
    "list_url": links.FETCHED,
}
#: Longest part of an unsafe value kept in the quarantine ``detail``.
DETAIL_LIMIT = 300


def unsafe_links(item: Any, redact: Callable[[str], str] = str) -> list[tuple[str, str]]:
    """Make the URL columns of ``item`` safe in place: credentials masked with ``redact``, a
    value a browser would not read as a URL of the column's schemes removed (a scalar column
    becomes null, a list loses that entry). Returns the (column, value) pairs removed."""
    removed: list[tuple[str, str]] = []
    for name, schemes in URL_COLUMNS.items():
        value = item.get(name)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        kept = []
        for v in values:
            if not isinstance(v, str) or not v.strip():  # no link at all: nothing to check
                kept.append(v)
                continue
            if links.link_url(v, schemes) is None:
                removed.append((name, redact(str(v))))
            else:
                kept.append(redact(v))
        if kept != values:  # the common case, every link kept as it was, leaves the item alone
            item[name] = kept if isinstance(value, list) else (kept[0] if kept else None)
    return removed


def normalise(
    item: Any, run_id: str, dag_run_id: str | None, pipeline_version: str = __version__, text: bool = True
) -> Any:
    """Fill the derived columns of a valid article in place and return it; ``text=False``
    leaves the text columns to the writer process."""
    html: str = item["content_html"]
    if text:
        fill_text_columns(item)
    item["content_sha256"] = hashlib.sha256(html.encode("utf-8")).hexdigest()
    item["run_id"] = run_id
    item["dag_run_id"] = dag_run_id
    item["pipeline_version"] = pipeline_version
    item["schema_version"] = SCHEMA_VERSION
    return item


class NormalisePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run = ArchiveRun.of(crawler)
        #: The writer derives the text columns itself (in its own process).
        self.text = not WriterClient.of(crawler).remote

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(crawler)

    @contained("normalise")
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        for column, value in unsafe_links(item, self.run.redact):
            self.quarantine_link(item, column, value)
        # An exception here is contained by @contained: one internal_error row, stage normalise.
        return normalise(item, self.run.run_id, self.run.dag_run_id, self.run.pipeline_version, self.text)

    def quarantine_link(self, item: Any, column: str, value: str) -> None:
        """The article is archived without the link; one ``unsafe_url`` row says which column
        held what (``raw`` makes it a record: quarantined once, however many runs meet it)."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newsarchive/unsafe_links")
        shown = value if len(value) <= DETAIL_LIMIT else value[:DETAIL_LIMIT] + "…"
        row = quarantine(
            item["source"],
            "normalise",
            "unsafe_url",
            f"{column}: {shown!r} is not a {'/'.join(sorted(URL_COLUMNS[column]))} URL; archived without it",
            info_code_raw=item.get("source_id"),
            url=item.get("source_url"),
            raw={"source_id": item.get("source_id"), "column": column, "value": value},
            evidence=item,
        )
        for _, result in self.crawler.signals.send_catch_log(signals.quarantine_row, item=row):
            if isinstance(result, Failure):  # the row was not written: the article must not pass either
                result.raiseException()
