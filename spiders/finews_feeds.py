"""The infoCode feed formats, as pure functions (used by the spider and by ``reparse``).

Three list families, recognised by their JSON, not their host:

======== ============ ====================================================================
family   list key     record fields
======== ============ ====================================================================
rolling  ``records``  infoCode, id, title, digest (``【title】…``), showtime, url_w
media    ``nodeList`` infocode (lower case), from, showtime, title, simtitle, simdigest
market   ``record``   infoCode, medianame, datetime, title
======== ============ ====================================================================

and the text endpoint, a JSON object with ``text`` (clean HTML) and/or ``content``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from newsarchive.bodies import LIMITS, FeedError, JsonLimits, load_json
from newsarchive.ids import INFO_CODE_DIGITS, valid_info_code
from newsarchive.timeparse import parse_beijing
from spiders.fields import text_value

FAMILIES = (("records", "rolling"), ("nodeList", "media"), ("record", "market"))
_DIGEST_TITLE = re.compile(r"^\s*【[^】]*】")


def feed_name(family: str, list_url: str) -> str:
    if family != "market":
        return family
    market = parse_qs(urlsplit(list_url).query).get("marketType", [""])[0]
    return f"market-{market}" if re.fullmatch(r"[0-9A-Za-z_]{1,16}", market) else "market"


def parse_list(
    body: bytes, list_url: str, content_type: str | bytes | None = None, limits: JsonLimits = LIMITS
) -> tuple[str, list[Any]]:
    """Return (feed name, raw records) of a list response (``content_type``: its header, so
    a replay decodes it as the crawl did)."""
    data = load_json(body, content_type, limits)
    if isinstance(data, dict):
        for key, family in FAMILIES:
            records = data.get(key)
            if isinstance(records, list):
                return feed_name(family, list_url), records
        keys = ", ".join(sorted(map(str, data))[:10])
        raise FeedError("bad_feed", f"no records/nodeList/record list (keys: {keys})")
    raise FeedError("bad_feed", f"top-level JSON is a {type(data).__name__}, not an object")


def _first(raw: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = raw.get(key)
        if value not in (None, ""):
            return value
    return None


@dataclass
class FeedRecord:
    """One list record with its field-name variants resolved."""

    raw: dict[str, Any]
    feed: str
    list_url: str
    position: int
    info_code_raw: Any = None
    info_code: str | None = None
    title: str | None = None
    digest: str | None = None
    media_name: str | None = None
    time_raw: Any = None
    published_at: datetime | None = None
    article_url: str | None = None
    others: list[FeedRecord] = field(default_factory=list)

    def richness(self) -> tuple[int, int, int]:
        """Sort key of the merge: a media name first, then filled fields, then feed order."""
        filled = sum(
            v is not None for v in (self.title, self.digest, self.media_name, self.published_at, self.article_url)
        )
        return (self.media_name is not None, filled, -self.position)


def read_record(raw: Any, feed: str, list_url: str, position: int) -> FeedRecord | None:
    """Resolve a raw record's variants; None when it is not a JSON object."""
    if not isinstance(raw, dict):
        return None
    rec = FeedRecord(raw=raw, feed=feed, list_url=list_url, position=position)
    rec.info_code_raw = _first(raw, "infoCode", "infocode", "InfoCode", "info_code")
    rec.info_code = valid_info_code(rec.info_code_raw)
    if rec.info_code_raw is None:
        news_id = raw.get("id")
        if isinstance(news_id, (str, int)) and INFO_CODE_DIGITS.fullmatch(str(news_id)):
            rec.info_code_raw = rec.info_code = f"NW{news_id}"
    rec.title = text_value(_first(raw, "title", "simtitle", "Title"), strip=False)
    digest = text_value(_first(raw, "digest", "simdigest"), strip=False)
    if digest is not None:
        digest = _DIGEST_TITLE.sub("", digest, count=1).strip() or None
    rec.digest = digest
    rec.media_name = text_value(_first(raw, "medianame", "from", "mediaName", "media_name"), strip=False)
    if rec.media_name is not None:
        rec.media_name = rec.media_name.strip()
    rec.time_raw = _first(raw, "showtime", "datetime", "showTime", "showDateTime", "pubtime")
    rec.published_at = parse_beijing(rec.time_raw)
    url = text_value(_first(raw, "url_w", "url"), strip=False)
    rec.article_url = url if url and url.startswith(("http://", "https://")) else None
    return rec


def merge(records: list[FeedRecord]) -> FeedRecord:
    """Merge the records of one infoCode: the richest wins, its gaps filled from the others."""
    ordered = sorted(records, key=FeedRecord.richness, reverse=True)
    winner, rest = ordered[0], ordered[1:]
    for attr in ("title", "digest", "media_name", "published_at", "article_url"):
        if getattr(winner, attr) is None:
            for other in rest:
                if getattr(other, attr) is not None:
                    setattr(winner, attr, getattr(other, attr))
                    break
    if winner.published_at is None:
        winner.time_raw = next((r.time_raw for r in rest if r.time_raw is not None), winner.time_raw)
    winner.others = rest
    return winner


def parse_text(body: bytes, content_type: str | bytes | None = None, limits: JsonLimits = LIMITS) -> str:
    """The article HTML of a text response: ``text`` (clean) else ``content``."""
    data = load_json(body, content_type, limits)
    nested = isinstance(data, dict) and isinstance(data.get("data"), dict)
    if nested and not any(k in data for k in ("text", "content")):
        data = data["data"]
    if not isinstance(data, dict):
        raise FeedError("bad_json", f"top-level JSON is a {type(data).__name__}, not an object")
    for key in ("text", "content"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value
    raise FeedError("empty_text", "no non-empty `text` or `content` in the response")
