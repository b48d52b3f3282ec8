"""Scrapy items, generated from :mod:`newsarchive.schema` so a column is declared once.

Every spider yields :class:`Article` for a fetched article and :class:`Quarantined` for
anything it could not take; pipelines turn an invalid ``Article`` into a ``Quarantined``
and never drop either silently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import scrapy

from newsarchive.errors import error_detail
from newsarchive.schema import ARTICLE_COLUMNS, QUARANTINE_COLUMNS, Column
from newsarchive.surrogates import escape


def _item_class(name: str, columns: tuple[Column, ...], doc: str) -> type[scrapy.Item]:
    fields: dict[str, Any] = {c.name: scrapy.Field(doc=c.doc) for c in columns}
    fields["__doc__"] = doc
    fields["__module__"] = __name__
    return type(name, (scrapy.Item,), fields)


Article = _item_class("Article", ARTICLE_COLUMNS, "One fetched article: a row of `articles/`.")
Quarantined = _item_class("Quarantined", QUARANTINE_COLUMNS, "A record or response that could not be archived.")

#: Columns that point to the raw evidence of a row (its WARC record), set by the WARC
#: middlewares (:mod:`newsarchive.warc`); a record that turns into a quarantine keeps them.
EVIDENCE_FIELDS = ("warc_filename", "warc_record_offset", "warc_record_length", "raw_sha256")

#: Longest ``raw`` kept in a quarantine row; the rest is cut (and says so).
RAW_LIMIT = 256 * 1024


def quarantine(
    source: str,
    stage: str,
    reason: str,
    detail: str,
    *,
    info_code_raw: Any = None,
    url: str | None = None,
    raw: Any = None,
    http_status: int | None = None,
    evidence: Mapping[str, Any] | None = None,
) -> scrapy.Item:
    """A :class:`Quarantined` item; ``raw`` (any JSON value, or bytes) is stored as JSON text.

    Its text is always storable: a lone surrogate (from a JSON escape in the bad input) is
    kept as its ``\\uXXXX`` escape, so the row that says why the input was bad is written.

    ``evidence``: an item (or mapping) whose WARC pointer (:data:`EVIDENCE_FIELDS`) to keep."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    raw_text = None if raw is None else json.dumps(raw, ensure_ascii=False, default=str)
    if raw_text is not None and len(raw_text) > RAW_LIMIT:
        raw_text = json.dumps({"truncated": True, "prefix": raw_text[:RAW_LIMIT]}, ensure_ascii=False)
    if raw_text is not None:
        raw_text = escape(raw_text)
    item = Quarantined(
        source=source,
        stage=stage,
        reason=reason,
        detail=escape(detail) if isinstance(detail, str) else detail,
        url=escape(url) if isinstance(url, str) else url,
        raw=raw_text,
    )
    if info_code_raw is not None:
        text = info_code_raw if isinstance(info_code_raw, str) else json.dumps(info_code_raw, default=str)
        item["info_code_raw"] = escape(text)
    if http_status is not None:
        item["http_status"] = http_status
    if evidence is not None:
        for name in EVIDENCE_FIELDS:
            if evidence.get(name) is not None:
                item[name] = evidence[name]
    return item


def internal_error(
    source: str,
    stage: str,
    exc: BaseException,
    *,
    where: str | None = None,
    url: str | None = None,
    info_code_raw: Any = None,
    raw: Any = None,
    http_status: int | None = None,
    evidence: Mapping[str, Any] | None = None,
) -> scrapy.Item:
    """The quarantine row of an exception that escaped our code for one item or response:
    ``internal_error``, naming the exception, where it happened and (in ``url``) what it read."""
    return quarantine(
        source,
        stage,
        "internal_error",
        error_detail(exc, where),
        info_code_raw=info_code_raw,
        url=url,
        raw=raw,
        http_status=http_status,
        evidence=evidence,
    )
