"""Reject articles that must not reach the archive, with the reason why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler

from newsarchive.ids import NUMERIC_ID, valid_info_code
from newsarchive.items import Article, quarantine
from newsarchive.surrogates import SURROGATE, surrogate_field
from pipelines.guard import contained

#: Sources whose id is the article's infoCode.
INFO_CODE_SOURCES = frozenset(("finews", "eastmoney"))
#: Sources whose ids go into URLs, and the ids they accept.
SOURCE_IDS = {"thepaper": NUMERIC_ID}


def problem(item: Any) -> tuple[str, str] | None:
    """(reason, detail) of the first problem of an article, or None if it is fine."""
    item = dict(item)  # one pass over the set fields: get() on an Item raises for each unset one
    for name in ("source", "source_id"):
        if not isinstance(item.get(name), str) or not item.get(name):
            return "invalid", f"{name} is missing"
    code = item.get("info_code")
    if code is not None and valid_info_code(code) is None:
        return "invalid_info_code", f"info_code {code!r} is not NW/AN + 18 digits"
    if item.get("source") in INFO_CODE_SOURCES and item.get("source_id") != code:
        return "invalid_info_code", f"{item['source']} source_id must be its infoCode"
    pattern = SOURCE_IDS.get(item["source"])
    if pattern is not None and not pattern.fullmatch(item["source_id"]):
        return "invalid_id", f"{item['source']} source_id {item['source_id']!r} is not {pattern.pattern}"
    published = item.get("published_at")
    if not isinstance(published, datetime) or published.tzinfo is None:
        return "missing_time", f"published_at is {published!r}, not an aware datetime"
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        return "missing_title", "title is missing or blank"
    html = item.get("content_html")
    if not isinstance(html, str) or not html.strip():
        return "empty_text", "content_html is missing or blank"
    bad = surrogate_field(item)  # item is the dict copy: no second pass over the Item
    if bad is not None:
        return "invalid_text", f"{bad} holds a lone UTF-16 surrogate ({_surrogate_at(item[bad])})"
    return None


def _surrogate_at(value: Any) -> str:
    """Which lone surrogate and where (``U+D800 at character 3``), for the detail."""
    texts = list(value) if isinstance(value, (list, tuple)) else [value]
    for n, text in enumerate(texts):
        found = SURROGATE.search(text) if isinstance(text, str) else None
        if found is not None:
            where = f"character {found.start()}" + (f" of item {n}" if isinstance(value, (list, tuple)) else "")
            return f"U+{ord(found.group()):04X} at {where}"
    return "position unknown"


class ValidatePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    @contained("validate")
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        found = problem(item)
        if found is None:
            return item
        reason, detail = found
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newsarchive/invalid/{reason}")
        raw = {k: v for k, v in item.items() if k != "content_html"}
        return quarantine(
            item.get("source") or "unknown",
            "validate",
            reason,
            detail,
            info_code_raw=item.get("source_id"),
            url=item.get("source_url"),
            raw=raw,
            http_status=item.get("http_status"),
            evidence=item,
        )
