"""Source times are Beijing time (UTC+8) without a zone; the archive stores UTC.

Every rule for reading a source's time lives here: absolute times (:func:`parse_beijing`),
relative ones a list or page gives ("5分钟前", "昨天 12:00": :func:`resolve_time`), the
SINCE/UNTIL bounds (:func:`parse_bound`) and the fault a refused time is quarantined with.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta, timezone

from newsarchive.bodies import OutOfRange

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

_LOCAL = re.compile(
    r"(?P<y>\d{4})[-/.](?P<mo>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?"
)

#: The clock and day forms of relative times ("今天 16:25", "11-27 16:25", "5分钟前").
_CLOCK = r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?"
_DAY_WORD = re.compile(rf"(?P<word>今天|昨天|前天)\s*{_CLOCK}")
_CLOCK_ONLY = re.compile(_CLOCK)
_MONTH_DAY = re.compile(rf"(?P<mo>\d{{1,2}})[-/月](?P<d>\d{{1,2}})日?\s+{_CLOCK}")
_AGO = re.compile(r"(?P<n>\d+)\s*(?P<unit>秒|分钟|小时|天)前")
#: ``YYYY年MM月DD日 HH:MM``, as page bylines write it.
CN_DATE = re.compile(rf"(?P<y>\d{{4}})年(?P<mo>\d{{1,2}})月(?P<d>\d{{1,2}})日\s*{_CLOCK}")
#: Epoch seconds or milliseconds written as digits.
_EPOCH_DIGITS = re.compile(r"[0-9]{9,13}")
_AGO_UNITS = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days"}
_DAY_OFFSET = {"今天": 0, "昨天": 1, "前天": 2}


#: Epoch values above this are milliseconds (1973 in ms; year 5138 in seconds).
_MS_FROM = 10**11
#: No plausible epoch (seconds or milliseconds) is this large: year 33658 in milliseconds.
_EPOCH_MAX = 10**15


def parse_beijing(value: object) -> datetime | None:
    """Parse a source time to an aware UTC datetime, or None if it is not usable; never raises.

    Accepts ``YYYY-MM-DD HH:MM[:SS[.ffffff]]`` (also ``/`` or ``.`` separators and a ``T``),
    read as Beijing time unless an explicit offset is given, and epoch seconds or
    milliseconds (a number). Dates before 1990 or more than two days in the future are
    refused as implausible; :func:`time_fault` says which of these a refused value was.
    """
    dt = _read(value)
    if dt is None or not plausible(dt):
        return None
    return dt


def plausible(dt: datetime) -> bool:
    """Not before 1990, not more than two days ahead."""
    return dt.year >= 1990 and dt <= datetime.now(UTC) + timedelta(days=2)


def _read(value: object) -> datetime | None:
    """The time ``value`` names, plausible or not; None when it names none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        # Compare before dividing: an integer of hundreds of digits overflows a float.
        if not (isinstance(value, int) or math.isfinite(value)) or abs(value) > _EPOCH_MAX:
            return None
        seconds = value / 1000 if value > _MS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        m = _LOCAL.fullmatch(value.strip())
        if not m:
            return None
        try:
            tz = BEIJING
            if m["tz"]:
                tz = UTC if m["tz"] == "Z" else _offset(m["tz"])
            return datetime(
                int(m["y"]),
                int(m["mo"]),
                int(m["d"]),
                int(m["h"] or 0),
                int(m["mi"] or 0),
                int(m["s"] or 0),
                int((m["f"] or "0").ljust(6, "0")),
                tzinfo=tz,
            ).astimezone(UTC)
        except (ValueError, OverflowError):
            return None
    return None


def time_fault(value: object, field: str = "time") -> tuple[str, str]:
    """(quarantine reason, detail) for a time :func:`parse_beijing` refused.

    ``number_out_of_range``: a number (or a number too large to parse, see
    ``newsarchive.bodies.OutOfRange``) or a well-formed date that is no plausible time
    (before 1990, more than two days ahead); ``missing_time``: absent,
    empty, or not a time at all (``2022-13-45``, ``soon``)."""
    shown = repr(value) if not isinstance(value, str) or len(value) <= 40 else repr(value[:40] + "…")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, int) and abs(value) > 10**40:
            shown = f"a {int(value.bit_length() * math.log10(2)) + 1}-digit integer"  # no str(): digit limit
        return "number_out_of_range", f"{field} {shown} is no plausible epoch time"
    if isinstance(value, OutOfRange):
        return "number_out_of_range", f"{field} {shown} is no plausible epoch time"
    dt = _read(value)
    if dt is not None:
        return "number_out_of_range", f"{field} {shown} is outside 1990 .. two days from now"
    if isinstance(value, str) and _LOCAL.fullmatch(value.strip()):
        return "missing_time", f"{field} {shown} is no calendar date"
    return "missing_time", f"no usable publication time (got {shown})"


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


# --- relative times (read against the fetch time) -------------------------------------


def resolve_time(value: object, fetched_at: datetime) -> datetime | None:
    """A list or page time in UTC, relative forms read against ``fetched_at`` in Beijing time.

    Accepts ``YYYY-MM-DD HH:MM[:SS]``, ``YYYY年MM月DD日 HH:MM``, epoch seconds or
    milliseconds, ``今天/昨天/前天 HH:MM``, a bare ``HH:MM`` (today), ``MM-DD HH:MM`` (this
    year, or last year when that would be more than a day ahead), ``N秒/分钟/小时/天前`` and
    ``刚刚``. None when the value is none of these.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return parse_beijing(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _EPOCH_DIGITS.fullmatch(text):
        return parse_beijing(int(text))
    absolute = parse_beijing(text)
    if absolute is not None:
        return absolute
    now = fetched_at.astimezone(BEIJING)
    if text == "刚刚":
        return fetched_at.astimezone(UTC)
    if m := CN_DATE.fullmatch(text):
        return _at(now.replace(year=int(m["y"]), month=1, day=1), m, month=int(m["mo"]), dom=int(m["d"]))
    if m := _DAY_WORD.fullmatch(text):
        return _at(now - timedelta(days=_DAY_OFFSET[m["word"]]), m)
    if m := _CLOCK_ONLY.fullmatch(text):
        return _at(now, m)
    if m := _MONTH_DAY.fullmatch(text):
        found = _at(now, m, month=int(m["mo"]), dom=int(m["d"]))
        if found is not None and found > fetched_at + timedelta(days=1):
            found = _at(now.replace(year=now.year - 1, month=1, day=1), m, month=int(m["mo"]), dom=int(m["d"]))
        return found
    if m := _AGO.fullmatch(text):
        return (fetched_at - timedelta(**{_AGO_UNITS[m["unit"]]: int(m["n"])})).astimezone(UTC)
    return None


def is_relative(value: object) -> bool:
    """Whether a time is one :func:`resolve_time` reads against the fetch time."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    return text == "刚刚" or any(p.fullmatch(text) for p in (_DAY_WORD, _CLOCK_ONLY, _MONTH_DAY, _AGO))


def _at(day: datetime, m: re.Match[str], *, month: int | None = None, dom: int | None = None) -> datetime | None:
    """``day`` (Beijing) at the clock time of ``m``, optionally on another month and day."""
    try:
        local = day.replace(
            month=day.month if month is None else month,
            day=day.day if dom is None else dom,
            hour=int(m["h"]),
            minute=int(m["mi"]),
            second=int(m["s"] or 0),
            microsecond=0,
        )
    except ValueError:
        return None
    return local.astimezone(UTC)
