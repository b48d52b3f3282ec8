"""The thepaper.cn lists, as pure functions (used by the spider, its tests and ``reparse``).

============== ==========================================================================
answer         shape
============== ==========================================================================
channel list   ``POST {API}/contentapi/nodeCont/getByChannelId`` →
               ``{code: 200, data: {list: [entry], hasNext, startTime}}``, in the
               editors' order; the next page sends back ``startTime`` (epoch ms)
hot list       ``GET {CACHE}/contentapi/wwwIndex/rightSidebar`` →
               ``{resultCode: 1, resultMsg, data: {hotNews: [entry], morningEveningNews: ...}}``
               (the list shape ``{code: 200, data: {list: [entry]}}`` is accepted too)
============== ==========================================================================

An entry is ``{contId, name, pubTimeLong, nodeInfo: {name}, link, authorInfo: {sname}, ...}``;
its ``pubTime`` is relative ("17小时前") and never used. Error answers look like
``{code: 99998, desc}``. Article pages are read by ``spiders.thepaper_articles``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from newsarchive.bodies import LIMITS, FeedError, JsonLimits, load_json
from spiders.fields import text_value
from spiders.thepaper_fields import EPOCH_MS, dig, keys_of, person, valid_cont_id, when


def check_status(data: Any) -> dict[str, Any]:
    """The answer as an object, or FeedError when it carries an error code."""
    if not isinstance(data, dict):
        raise FeedError("bad_feed", f"top-level JSON is a {type(data).__name__}, not an object")
    message = next((data[k] for k in ("desc", "msg", "message", "resultMsg") if data.get(k)), "")
    if "code" in data and str(data["code"]) != "200":
        raise FeedError("api_error", f"code {data['code']!r} {message}".rstrip())
    if "resultCode" in data and str(data["resultCode"]) != "1":
        raise FeedError("api_error", f"resultCode {data['resultCode']!r} {message}".rstrip())
    return data


@dataclass
class ListPage:
    """One page of a channel list."""

    entries: list[Any]
    #: ``data.hasNext``: False ends the paging; None when the answer does not say.
    has_next: bool | None
    #: The cursor the next page sends back (``data.startTime``, epoch ms), as given; None
    #: when it is missing, empty, zero or not a number.
    start_time: int | str | None


def _cursor(value: Any) -> int | str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and EPOCH_MS.fullmatch(value.strip()) and int(value) > 0:
        return value.strip()
    return None


def _flag(value: Any) -> bool | None:
    if value in (True, 1, "true", "True", "1"):
        return True
    if value in (False, 0, "false", "False", "0"):
        return False
    return None


def parse_channel_page(body: bytes, content_type: str | bytes | None = None, limits: JsonLimits = LIMITS) -> ListPage:
    """A channel-list answer: its entries, ``hasNext`` and the ``startTime`` cursor."""
    data = check_status(load_json(body, content_type, limits))
    inner = data.get("data")
    has_next = _flag(inner.get("hasNext")) if isinstance(inner, dict) else None
    if isinstance(inner, dict) and inner.get("list") is None and has_next is False:
        # The end of a channel, said with a null list: nothing more to read, not a bad answer.
        return ListPage([], False, None)
    if not isinstance(inner, dict) or not isinstance(inner.get("list"), list):
        what = keys_of(inner) if isinstance(inner, dict) else type(inner).__name__
        raise FeedError("bad_feed", f"no data.list in the channel answer (data: {what})")
    return ListPage(inner["list"], has_next, _cursor(inner.get("startTime")))


def parse_hot(
    body: bytes, keys: Sequence[str], content_type: str | bytes | None = None, limits: JsonLimits = LIMITS
) -> list[tuple[str, Any]]:
    """(list key, raw entry) of a hot-list answer, in the order of ``keys``."""
    data = check_status(load_json(body, content_type, limits))
    inner = data.get("data")
    if isinstance(inner, list):
        return [("list", raw) for raw in inner]
    if not isinstance(inner, dict):
        raise FeedError("bad_feed", f"`data` is a {type(inner).__name__}, not an object")
    if isinstance(inner.get("list"), list):
        return [("list", raw) for raw in inner["list"]]
    found = [k for k in keys if isinstance(inner.get(k), list)]
    if not found:
        raise FeedError("bad_feed", f"none of {', '.join(keys)} is a list under data (keys: {keys_of(inner)})")
    return [(key, raw) for key in found for raw in inner[key]]


@dataclass
class ListEntry:
    """One list entry with its fields read."""

    raw: Any
    feed: str
    list_url: str
    #: (list order, page, position): when several lists carry a contId, the lowest wins.
    rank: tuple[int, int, int]
    cont_id_raw: Any = None
    cont_id: str | None = None
    title: str | None = None
    #: ``pubTimeLong`` (else ``publishTime``, else ``trackPublishTime``) as listed: epoch
    #: ms as a number or digits, or a Beijing time string; an out-of-range number gets the
    #: entry quarantined.
    time_raw: Any = None
    published_at: datetime | None = None
    channel: str | None = None
    link: str | None = None
    #: The card's ``author`` (string or ``{name}``), else ``authorInfo.sname`` (the 澎湃号
    #: account): the row's author when the page names none.
    author: str | None = None


def read_entry(raw: Any, feed: str, list_url: str, rank: tuple[int, int, int]) -> ListEntry | None:
    """The entry's fields; None when it is not a JSON object."""
    if not isinstance(raw, dict):
        return None
    entry = ListEntry(raw=raw, feed=feed, list_url=list_url, rank=rank)
    entry.cont_id_raw = raw.get("contId")
    entry.cont_id = valid_cont_id(entry.cont_id_raw)
    entry.title = text_value(raw.get("name"))
    entry.time_raw = next(
        (raw[k] for k in ("pubTimeLong", "publishTime", "trackPublishTime") if raw.get(k) not in (None, "")), None
    )
    entry.published_at = when(entry.time_raw)
    entry.channel = text_value(dig(raw, "nodeInfo", "name"))
    entry.link = text_value(raw.get("link"))
    entry.author = person(raw.get("author")) or person(raw.get("authorInfo"))
    return entry


def is_offsite(link: str | None, allowed_hosts: set[str]) -> bool:
    """Whether a list entry's ``link`` leads away from the configured hosts."""
    if not link:
        return False
    parts = urlsplit(link)
    if parts.scheme not in ("", "http", "https"):
        return True
    host = parts.hostname
    return bool(host) and host not in allowed_hosts


def stop_paging(
    page: ListPage,
    entries: Sequence[ListEntry | None],
    page_num: int,
    max_pages: int,
    since: datetime | None,
    archived: Callable[[str], bool],
    cursors: Sequence[Any] = (),
) -> str | None:
    """Why paging a channel stops after this page, or None to ask for the next one.

    Channel lists come in the editors' order, not newest first (pinned entries on top, old
    ones anywhere), so no single entry's place says the rest is older: paging stops after a
    page whose *newest* entry is older than ``since``, or whose every entry is archived
    already. The site pages by the ``startTime`` it hands back (``pageNum`` does nothing),
    so a missing cursor, or one handed out before (``cursors``), ends the channel too.
    """
    if page.has_next is False:
        return "last_page"
    if page_num >= max_pages:
        return "max_pages"
    if page.start_time is None:
        return "no_cursor"
    if str(page.start_time) in {str(c) for c in cursors}:
        return "cursor_repeat"
    valid = [e for e in entries if e is not None and e.cont_id]
    if not valid:
        return "empty_page"
    dated = [e.published_at for e in valid if e.published_at is not None]
    if since is not None and dated and max(dated) < since:
        return "since"
    if all(archived(e.cont_id) for e in valid if e.cont_id is not None):
        return "archived"
    return None
