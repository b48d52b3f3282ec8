"""What the report shows, queried from the archive's views (:mod:`newsarchive.analytics.views`).

Only the columns a chart needs are read when the tables' files are local (DuckDB pushes the
projection down to the Parquet files); the ``runs`` view is the ``runs`` table, which also
lists the runs that archived nothing (a feed down), the pipeline's own outages.

The article charts are per source, each in a window ending at that source's own newest
article: one window ending at the newest article of any source would leave a source that
stopped years ago out of every chart. Nothing here depends on the time the report is made
(:mod:`.freshness` judges that).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsarchive.analytics.report.windows import Window

if TYPE_CHECKING:
    import duckdb

#: Media drawn in their own colour; the rest share one bar segment.
TOP_MEDIA = 8
NEWEST_ARTICLES = 25
UNKNOWN_MEDIA = "(unknown)"
OTHER_MEDIA = "(other media)"


@dataclass
class Totals:
    articles: int = 0
    versions: int = 0
    sources: list[str] = field(default_factory=list)
    media: int = 0
    quarantined: int = 0
    runs: int = 0
    runs_by_status: dict[str, int] = field(default_factory=dict)
    newest_by_source: dict[str, datetime] = field(default_factory=dict)
    oldest_by_source: dict[str, datetime] = field(default_factory=dict)
    last_run_by_source: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    last_complete_by_source: dict[str, datetime] = field(default_factory=dict)


@dataclass
class FeedActivity:
    """One feed's hours with articles in its source's window, merged into spans."""

    name: str
    spans: list[tuple[datetime, datetime, int]]
    silent_hours: int
    total_hours: int
    longest_gap: tuple[datetime, int] | None  # (start, hours)


@dataclass
class SourceArticles:
    """One source's articles in its own window, ending at its own newest article."""

    source: str
    window: Window
    media_names: list[str] = field(default_factory=list)
    per_media: dict[str, dict[date, int]] = field(default_factory=dict)
    feeds: list[FeedActivity] = field(default_factory=list)


@dataclass(frozen=True)
class SilentFeed:
    """A feed without any article in its source's window: it fell silent before it."""

    source: str
    feed: str
    last: datetime  # its newest article


@dataclass
class ReportData:
    totals: Totals
    operations: Window | None
    sources: dict[str, SourceArticles] = field(default_factory=dict)
    silent_feeds: list[SilentFeed] = field(default_factory=list)
    reasons: dict[str, dict[date, int]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    newest: list[dict[str, Any]] = field(default_factory=list)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> tuple[Any, ...]:
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else ()


def collect(con: duckdb.DuckDBPyConnection, days: int) -> ReportData:
    totals = _totals(con)
    op_newest, op_oldest = _one(
        con,
        """SELECT max(t), min(t) FROM (SELECT started_at AS t FROM runs
           UNION ALL SELECT seen_at FROM quarantine)""",
    )
    operations = Window.ending(op_newest, op_oldest, days)
    data = ReportData(totals, operations)
    for source, newest in totals.newest_by_source.items():
        window = Window.ending(newest, totals.oldest_by_source.get(source), days)
        if window is None:
            continue
        articles = data.sources[source] = SourceArticles(source, window)
        _per_media(con, articles)
        articles.feeds = _feeds(con, source, window)
    data.silent_feeds = _silent_feeds(con, data.sources)
    if operations:
        _reasons(con, data, operations)
        data.runs = _runs(con, operations)
    data.newest = _dicts(
        con,
        """SELECT published_at, source, media_name, title, article_url, source_url, list_url, feed,
                  run_id, warc_filename, warc_record_offset, content_sha256, fetched_at
           FROM articles ORDER BY published_at DESC NULLS LAST, source, source_id LIMIT ?""",
        [NEWEST_ARTICLES],
    )
    return data


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """The rows of a query as dicts by column name."""
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _totals(con: duckdb.DuckDBPyConnection) -> Totals:
    t = Totals()
    t.articles, t.media = _one(con, "SELECT count(*), count(DISTINCT media_name) FROM articles")
    (t.versions,) = _one(con, "SELECT count(*) FROM articles_all")
    (t.quarantined,) = _one(con, "SELECT count(*) FROM quarantine")
    for source, newest, oldest in con.execute(
        "SELECT source, max(published_at), min(published_at) FROM articles GROUP BY source ORDER BY source"
    ).fetchall():
        if newest is not None:
            t.newest_by_source[source] = newest
            t.oldest_by_source[source] = oldest
    t.sources = sorted(t.newest_by_source)
    for status, n in con.execute("SELECT status, count(*) FROM runs GROUP BY status ORDER BY status").fetchall():
        t.runs_by_status[str(status)] = n
        t.runs += n
    for source, started, status in con.execute(
        """SELECT source, started_at, status FROM runs
           QUALIFY row_number() OVER (PARTITION BY source ORDER BY started_at DESC) = 1 ORDER BY source"""
    ).fetchall():
        t.last_run_by_source[str(source)] = (started, str(status))
    for source, started in con.execute(
        "SELECT source, max(started_at) FROM runs WHERE status = 'complete' GROUP BY source ORDER BY source"
    ).fetchall():
        t.last_complete_by_source[str(source)] = started
    return t


def _per_media(con: duckdb.DuckDBPyConnection, data: SourceArticles) -> None:
    counts: dict[str, Counter[date]] = defaultdict(Counter)
    w = data.window
    for media, published in con.execute(
        """SELECT coalesce(media_name, ?), published_at FROM articles
           WHERE source = ? AND published_at BETWEEN ? AND ?""",
        [UNKNOWN_MEDIA, data.source, w.start, w.end],
    ).fetchall():
        counts[media][w.bucket(published)] += 1
    ranked = sorted(counts, key=lambda m: (-sum(counts[m].values()), m))
    keep, rest = ranked[:TOP_MEDIA], ranked[TOP_MEDIA:]
    data.per_media = {m: dict(counts[m]) for m in keep}
    if rest:
        other: Counter[date] = Counter()
        for m in rest:
            other.update(counts[m])
        data.per_media[OTHER_MEDIA] = dict(other)
    data.media_names = list(data.per_media)


def _feeds(con: duckdb.DuckDBPyConnection, source: str, w: Window) -> list[FeedActivity]:
    """Per feed of ``source``, the hours of its window with at least one article."""
    first_hour = w.start.replace(minute=0, second=0, microsecond=0)
    total = max(1, int((w.end - first_hour).total_seconds() // 3600) + 1)
    hours: dict[str, set[int]] = defaultdict(set)
    for feed, published in con.execute(
        """SELECT coalesce(feed, '?'), published_at FROM articles
           WHERE source = ? AND published_at BETWEEN ? AND ?""",
        [source, w.start, w.end],
    ).fetchall():
        hours[str(feed)].add(int((published - first_hour).total_seconds() // 3600))
    feeds = []
    for name in sorted(hours):
        active = sorted(hours[name])
        spans: list[tuple[datetime, datetime, int]] = []
        gaps: list[tuple[int, int]] = []  # (hours, first hour) of each silent stretch
        prev, run_start = -1, active[0]
        for h in [*active, total]:
            if h - prev > 1:
                gaps.append((h - prev - 1, prev + 1))
                if prev >= 0:
                    spans.append((_hour(first_hour, run_start), _hour(first_hour, prev + 1), prev + 1 - run_start))
                run_start = h
            prev = h
        if active[-1] == total - 1:  # the last stretch with articles reaches the window's end
            spans.append((_hour(first_hour, run_start), _hour(first_hour, total), total - run_start))
        longest = max(gaps, default=None)
        feeds.append(
            FeedActivity(
                name=name,
                spans=spans,
                silent_hours=total - len(active),
                total_hours=total,
                longest_gap=(_hour(first_hour, longest[1]), longest[0]) if longest else None,
            )
        )
    return feeds


def _silent_feeds(con: duckdb.DuckDBPyConnection, sources: dict[str, SourceArticles]) -> list[SilentFeed]:
    """The feeds whose newest article is older than their source's window, longest silent first."""
    silent = [
        SilentFeed(str(source), str(feed), last)
        for source, feed, last in con.execute(
            """SELECT source, coalesce(feed, '?'), max(published_at) FROM articles
               WHERE published_at IS NOT NULL GROUP BY ALL"""
        ).fetchall()
        if source in sources and last < sources[source].window.start
    ]
    return sorted(silent, key=lambda f: (f.last, f.source, f.feed))


def _hour(first: datetime, n: int) -> datetime:
    return first + timedelta(hours=n)


def _reasons(con: duckdb.DuckDBPyConnection, data: ReportData, w: Window) -> None:
    counts: dict[str, Counter[date]] = defaultdict(Counter)
    for reason, seen in con.execute(
        "SELECT reason, seen_at FROM quarantine WHERE seen_at BETWEEN ? AND ?", [w.start, w.end]
    ).fetchall():
        counts[str(reason)][w.bucket(seen)] += 1
    data.reasons = {r: dict(counts[r]) for r in sorted(counts, key=lambda r: (-sum(counts[r].values()), r))}


def _runs(con: duckdb.DuckDBPyConnection, w: Window) -> list[dict[str, Any]]:
    runs = _dicts(
        con,
        """SELECT run_id, spider, source, status, started_at, duration_s, requests,
                  map_entries(requests_by_kind) AS by_kind, articles_written, quarantined
           FROM runs WHERE started_at BETWEEN ? AND ? ORDER BY started_at""",
        [w.start, w.end],
    )
    for run in runs:  # map_entries: [{"key": kind, "value": n}, ...]
        run["by_kind"] = [(e["key"], int(e["value"])) for e in run["by_kind"] or []]
    return runs
