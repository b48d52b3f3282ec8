"""Is each source up to date? Its freshness state, judged when the report is made.

A source is judged by the age of its newest article (``published_at``) at the report's
"now", against the limit ``REPORT_STALE_AFTER`` gives it, and by the age of its last
``complete`` run, which tells two causes apart:

* ``fresh``: its newest article is younger than the limit;
* ``stale``: its newest article is older than the limit (or it has none) although a run
  completed within the limit: the crawls run, the source (or its parser) gives nothing new;
* ``not-crawled``: its newest article is older than the limit and no run completed within
  the limit either: the crawls do not run, or every one fails;
* ``off``: its limit is ``off`` (imported posts); its age is shown, not judged.

``stale`` and ``not-crawled`` are the states that need a look: the report lists them first,
in red.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

FRESH, STALE, NOT_CRAWLED, OFF = "fresh", "stale", "not-crawled", "off"
#: The states that need a look.
ALARMS = frozenset({STALE, NOT_CRAWLED})
#: The key of ``REPORT_STALE_AFTER`` for the sources it does not name.
DEFAULT = "default"
#: The limit of a source when ``REPORT_STALE_AFTER`` has no ``default``.
BUILTIN_DEFAULT = "6h"
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_UNIT_WORDS = {"m": "minute", "h": "hour", "d": "day", "w": "week"}
_DURATION = re.compile(r"(?P<n>[0-9]+)(?P<unit>[mhdw])")


class StaleAfterError(ValueError):
    """A value of ``REPORT_STALE_AFTER`` (or ``--stale-after``) that is not a limit."""


def parse_limit(value: Any, where: str = "REPORT_STALE_AFTER") -> timedelta | None:
    """``"90m"``, ``"6h"``, ``"2d"``, ``"1w"`` as a duration; ``"off"`` as None. Nothing else:
    a bare number would leave its unit to guessing, and zero would make every source stale."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text == OFF:
            return None
        match = _DURATION.fullmatch(text)
        if match and int(match["n"]) > 0:
            return timedelta(seconds=int(match["n"]) * _UNITS[match["unit"]])
    raise StaleAfterError(
        f"{where}: {value!r} is not a limit; give a whole number above 0 with a unit, "
        'm (minutes), h (hours), d (days) or w (weeks), as "6h" or "2d", or "off"'
    )


def limit_words(limit: timedelta | None) -> str:
    """``6 hours``, ``1 day``, ``off``: a limit as the settings would name it."""
    if limit is None:
        return OFF
    seconds = int(limit.total_seconds())
    for unit in ("w", "d", "h", "m"):
        n, rest = divmod(seconds, _UNITS[unit])
        if n and not rest:
            return f"{n:,} {_UNIT_WORDS[unit]}{'s' if n != 1 else ''}"
    return f"{seconds:,} seconds"


def age_words(age: timedelta | None) -> str:
    """An age as an operator reads it: ``35 minutes``, ``5 hours``, ``1,645 days (4.5 years)``."""
    if age is None:
        return "never"
    seconds = age.total_seconds()
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "under a minute"
    for limit, unit, word in ((3600, 60, "minute"), (2 * 86400, 3600, "hour")):
        if seconds < limit:
            n = int(seconds // unit)
            return f"{n} {word}{'s' if n != 1 else ''}"
    days = int(seconds // 86400)
    if days < 365:
        return f"{days:,} days"
    return f"{days:,} days ({days / 365.25:.1f} years)"


@dataclass(frozen=True)
class StalePolicy:
    """The limit of each source: its own, else ``default``."""

    default: timedelta | None
    per_source: Mapping[str, timedelta | None]

    @classmethod
    def parse(cls, value: Any, overrides: Iterable[str] = ()) -> StalePolicy:
        """``value``: the setting, a dict of source name (or ``default``) to limit;
        ``overrides``: ``--stale-after`` values, ``LIMIT`` (the default) or ``SOURCE=LIMIT``."""
        if not isinstance(value, Mapping):
            raise StaleAfterError(
                f'REPORT_STALE_AFTER: {value!r} is not a dict of limits, as {{"default": "6h", "jekyll": "off"}}'
            )
        limits: dict[str, timedelta | None] = {}
        for key, raw in value.items():
            if not isinstance(key, str) or not key.strip():
                raise StaleAfterError(f"REPORT_STALE_AFTER: {key!r} is not a source name")
            limits[key.strip()] = parse_limit(raw, f"REPORT_STALE_AFTER[{key!r}]")
        for item in overrides:
            source, sep, raw = item.rpartition("=")
            if sep and not source.strip():
                raise StaleAfterError(f"--stale-after {item!r}: name the source before '='")
            limits[source.strip() if sep else DEFAULT] = parse_limit(raw, f"--stale-after {item!r}")
        default = limits.pop(DEFAULT) if DEFAULT in limits else parse_limit(BUILTIN_DEFAULT)
        return cls(default, limits)

    def limit(self, source: str) -> timedelta | None:
        return self.per_source.get(source, self.default)


@dataclass(frozen=True)
class Freshness:
    source: str
    state: str
    limit: timedelta | None
    newest: datetime | None  # its newest article
    age: timedelta | None  # of that article, at the report's now
    last_complete: datetime | None  # its last complete run

    @property
    def alarm(self) -> bool:
        return self.state in ALARMS

    def explain(self) -> str:
        """One line on why the source is in its state."""
        newest = f"newest article {age_words(self.age)} old" if self.newest else "no article yet"
        if self.state == OFF:
            return f"{newest}; not judged (limit off)"
        limit = limit_words(self.limit)
        if self.state == FRESH:
            return f"{newest}, within its limit of {limit}"
        if self.state == STALE:
            return f"{newest}, over its limit of {limit}, though a run completed within it"
        runs = "no complete run yet" if self.last_complete is None else "no run completed within it either"
        return f"{newest}, over its limit of {limit}; {runs}"


def assess(
    sources: Iterable[str],
    newest: Mapping[str, datetime],
    last_complete: Mapping[str, datetime],
    policy: StalePolicy,
    now: datetime,
) -> list[Freshness]:
    """Each source's state at ``now``, the ones that need a look first (oldest first), then
    the fresh ones and those not judged, by name."""
    out = []
    for source in sources:
        limit = policy.limit(source)
        top, complete = newest.get(source), last_complete.get(source)
        age = now - top if top is not None else None
        if limit is None:
            state = OFF
        elif age is not None and age <= limit:
            state = FRESH
        elif complete is not None and now - complete <= limit:
            state = STALE
        else:
            state = NOT_CRAWLED
        out.append(Freshness(source, state, limit, top, age, complete))

    def order(f: Freshness) -> tuple[int, float, str]:
        rank = 0 if f.alarm else 1 if f.state == FRESH else 2
        oldest_first = -(f.age.total_seconds() if f.age is not None else math.inf) if f.alarm else 0.0
        return rank, oldest_first, f.source

    return sorted(out, key=order)
