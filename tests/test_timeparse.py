"""The time rules of newsarchive/timeparse.py, in process and fast: relative times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from newsarchive.timeparse import BEIJING, is_relative, resolve_time

FETCHED = datetime(2026, 1, 1, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
UNITS = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days"}


@given(n=st.integers(0, 10_000), unit=st.sampled_from(sorted(UNITS)))
def test_ago_is_that_long_before_the_fetch(n: int, unit: str) -> None:
    text = f"{n}{unit}前"
    assert resolve_time(text, FETCHED) == FETCHED - timedelta(**{UNITS[unit]: n})
    assert is_relative(text)


@given(h=st.integers(0, 23), mi=st.integers(0, 59), back=st.sampled_from([("今天", 0), ("昨天", 1), ("前天", 2)]))
def test_day_words_are_beijing_days_before_the_fetch(h: int, mi: int, back: tuple[str, int]) -> None:
    word, days = back
    found = resolve_time(f"{word} {h:02d}:{mi:02d}", FETCHED)
    assert found is not None and found.tzinfo == UTC
    local = found.astimezone(BEIJING)
    assert (local.hour, local.minute) == (h, mi)
    assert local.date() == (FETCHED.astimezone(BEIJING) - timedelta(days=days)).date()


@given(st.text(max_size=30))
def test_never_raises_and_returns_utc_or_none(text: str) -> None:
    found = resolve_time(text, FETCHED)
    assert found is None or found.utcoffset() == timedelta(0)
    is_relative(text)


def test_absolute_times_are_not_relative() -> None:
    assert resolve_time("2025-11-27 16:25:01", FETCHED) == datetime(2025, 11, 27, 8, 25, 1, tzinfo=UTC)
    assert resolve_time("2025年11月27日 16:25", FETCHED) == datetime(2025, 11, 27, 8, 25, tzinfo=UTC)
    assert not is_relative("2025-11-27 16:25:01") and not is_relative(1764231901)
    assert resolve_time("刚刚", FETCHED) == FETCHED and is_relative("刚刚")


def test_month_day_ahead_of_the_fetch_is_last_year() -> None:
    assert resolve_time("12-31 23:00", FETCHED) == datetime(2025, 12, 31, 15, 0, tzinfo=UTC)
    assert resolve_time("02-30 10:00", FETCHED) is None
