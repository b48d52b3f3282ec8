"""Source times are Beijing time (UTC+8) without a zone; the archive stores UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

_LOCAL = re.compile(
    r"(?P<y>\d{4})[-/.](?P<mo>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?"
)


def parse_beijing(value: object) -> datetime | None:
    """Parse a source time to an aware UTC datetime, or None if it is not usable.

    Accepts ``YYYY-MM-DD HH:MM[:SS[.ffffff]]`` (also ``/`` or ``.`` separators and a ``T``),
    read as Beijing time unless an explicit offset is given, and epoch milliseconds (int).
    Dates before 1990 or more than two days in the future are refused as implausible.
    """
    dt: datetime | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 10**11 else value
        try:
            dt = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str):
        m = _LOCAL.fullmatch(value.strip())
        if not m:
            return None
        try:
            tz = BEIJING
            if m["tz"]:
                tz = UTC if m["tz"] == "Z" else _offset(m["tz"])
            dt = datetime(
                int(m["y"]),
                int(m["mo"]),
                int(m["d"]),
                int(m["h"] or 0),
                int(m["mi"] or 0),
                int(m["s"] or 0),
                int((m["f"] or "0").ljust(6, "0")),
                tzinfo=tz,
            ).astimezone(UTC)
        except ValueError:
            return None
    if dt is None or dt.year < 1990 or dt > datetime.now(UTC) + timedelta(days=2):
        return None
    return dt


def _offset(text: str) -> timezone:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def beijing_date(dt: datetime) -> date:
    """The Beijing calendar date of an aware datetime (the archive's ``date`` partition)."""
    return dt.astimezone(BEIJING).date()


def beijing_str(dt: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in Beijing time, as the sources and the original posts write it."""
    return dt.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_bound(value: str, *, end: bool) -> datetime | None:
    """A ``<SPIDER>_SINCE``/``_UNTIL`` setting in UTC: ``YYYY-MM-DD`` (the start, or with ``end`` the
    end, of that Beijing day) or ``YYYY-MM-DD HH:MM[:SS]`` (Beijing unless an offset is
    given); empty → None. Raises ValueError with the offending value."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            dt = datetime.combine(day, time.max if end else time.min, BEIJING)
        else:
            dt = datetime.fromisoformat(text)
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not YYYY-MM-DD or YYYY-MM-DD HH:MM: {exc}") from exc
    return dt.astimezone(UTC)
