"""Reading a spider's own settings: hosts, paths, publication bounds and politeness.

Shared by the spiders that page through a site's lists (``thepaper``, ``eastmoney``), so a
setting of one kind is checked, and refused with :class:`NotConfigured`, the same way in
every spider: ``newsarchive crawl`` then exits 2 with the message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured

from newsarchive.timeparse import parse_bound


def base_url(settings: Any, name: str) -> str:
    """An ``http(s)://host[:port][/prefix]`` setting, without its trailing slash."""
    value = (settings.get(name) or "").strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotConfigured(f"{name} must be an http(s) URL, got {value!r}")
    return value


def url_path(settings: Any, name: str, *, query: bool = True) -> str:
    """A path setting (``/…``); ``query=False`` refuses one that carries its own query."""
    value = (settings.get(name) or "").strip()
    if not value.startswith("/") or (not query and "?" in value):
        rule = "a path starting with '/'" + ("" if query else " (no query)")
        raise NotConfigured(f"{name} must be {rule}, got {value!r}")
    return value


def time_bounds(settings: Any, prefix: str) -> tuple[datetime | None, datetime | None]:
    """``<PREFIX>_SINCE`` and ``<PREFIX>_UNTIL`` in UTC (see :func:`parse_bound`)."""
    since_name, until_name = f"{prefix}_SINCE", f"{prefix}_UNTIL"
    try:
        since = parse_bound(settings.get(since_name) or "", end=False)
        until = parse_bound(settings.get(until_name) or "", end=True)
    except ValueError as exc:
        raise NotConfigured(f"{since_name}/{until_name}: {exc}") from exc
    if since and until and since > until:
        raise NotConfigured(f"{since_name} is after {until_name}")
    return since, until


def apply_download_delay(settings: Any, name: str) -> None:
    """Make a source's politeness delay this crawl's ``DOWNLOAD_DELAY`` (AutoThrottle's
    floor too), without jitter. Settings are not frozen yet in ``from_crawler``; a
    ``DOWNLOAD_DELAY`` given on the command line still wins (higher priority)."""
    delay = settings.getfloat(name)
    if delay > 0:
        settings.set("DOWNLOAD_DELAY", delay, priority="spider")
        settings.set("DOWNLOAD_DELAY_JITTER", 0.0, priority="spider")
