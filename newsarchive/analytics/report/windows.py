"""The report's time windows and buckets.

Two clocks: articles are placed by when they were *published*, runs and quarantine by when
the *pipeline* saw them. Each window ends at the newest thing on its clock (so an archive
that stopped growing still shows its last weeks, and the header says how stale it is) and
spans ``days`` days (0: everything). Buckets are Beijing days, weeks or months, whichever
keeps a chart under ~60 bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from newsarchive.timeparse import BEIJING


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @classmethod
    def ending(cls, newest: datetime | None, oldest: datetime | None, days: int) -> Window | None:
        if newest is None:
            return None
        oldest = oldest or newest
        start = max(newest - timedelta(days=days), oldest) if days > 0 else oldest
        if start >= newest:  # a single moment: give the charts an hour to draw it in
            start = newest - timedelta(hours=1)
        return cls(start.astimezone(BEIJING), newest.astimezone(BEIJING))

    @property
    def unit(self) -> str:
        days = (self.end - self.start).total_seconds() / 86400
        return "day" if days <= 62 else "week" if days <= 420 else "month"

    def bucket(self, t: datetime) -> date:
        """The Beijing day, week (its Monday) or month (its first day) of ``t``."""
        d = t.astimezone(BEIJING).date()
        if self.unit == "week":
            return d - timedelta(days=d.weekday())
        if self.unit == "month":
            return d.replace(day=1)
        return d

    def buckets(self) -> list[date]:
        """Every bucket of the window, empty ones included (a quiet day must show)."""
        out: list[date] = []
        d, last = self.bucket(self.start), self.bucket(self.end)
        while d <= last:
            out.append(d)
            if self.unit == "month":
                d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
            else:
                d += timedelta(days=7 if self.unit == "week" else 1)
        return out

    def label(self, d: date) -> str:
        return d.strftime("%Y-%m") if self.unit == "month" else d.isoformat()

    @property
    def time_format(self) -> str:
        """strftime for axis labels: hours matter in a short window, years in a long one."""
        days = (self.end - self.start).total_seconds() / 86400
        if days < 0.1:
            return "%H:%M:%S"
        return "%m-%d %H:%M" if days <= 3 else "%Y-%m-%d" if days > 62 else "%m-%d"

    def __str__(self) -> str:
        fmt = "%Y-%m-%d %H:%M"
        return f"{self.start.astimezone(BEIJING):{fmt}} – {self.end.astimezone(BEIJING):{fmt}} Beijing time"
