"""The report as one self-contained HTML page: inline CSS, inline SVG, no script, no font
or image to fetch (it must open offline, straight from a bucket)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

from newsarchive import links
from newsarchive.analytics.report import svg
from newsarchive.analytics.report.data import ReportData
from newsarchive.analytics.report.windows import Window
from newsarchive.timeparse import BEIJING

STATUS_COLOUR = {"complete": "#59a14f", "partial": "#f28e2b", "failed": "#e15759", "recovered": "#b07aa1"}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","WenQuanYi Micro Hei","PingFang SC",
"Microsoft YaHei",sans-serif;margin:0;color:#222;background:#f6f7f9}
main{max-width:1000px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:4px 0 6px}h3{font-size:14px;margin:14px 0 4px}
section{background:#fff;border:1px solid #e3e5e8;border-radius:6px;padding:10px 14px;margin-top:14px}
.meta,.note{color:#666;font-size:13px}.empty{color:#888;font-style:italic}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:12px}
.card{background:#fff;border:1px solid #e3e5e8;border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:20px}.card span{color:#666;font-size:12px}
svg{width:100%;height:auto;display:block;font-size:11px}
svg .grid{stroke:#e6e6e6}svg .tick{fill:#666}svg .unit{fill:#666;font-size:11px}
svg .silent{fill:#fbe3e3}svg .rowlabel{fill:#333;font-size:12px}
.legend{list-style:none;padding:0;margin:4px 0 0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}
.legend span{display:inline-block;width:10px;height:10px;margin-right:5px;border-radius:2px}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;vertical-align:top}
th{color:#555;font-weight:600}td.num{text-align:right;white-space:nowrap}td.nw{white-space:nowrap}
.bad{color:#c0392b;font-weight:600}.ok{color:#2e7d32;font-weight:600}code{font-size:11.5px;color:#555}
"""


def render(data: ReportData, archive: str, generated: datetime, link_base: str | None, warc_root: str | None) -> str:
    """``archive``: what the tables are (the catalog, without credentials); ``warc_root``: the
    directory WARC files are under (the crawl's ARCHIVE_URI) unless ``link_base`` is given."""
    parts = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>newsarchive report · {escape(archive)}</title><style>{CSS}</style></head><body><main>",
        "<h1>newsarchive: the archive at a glance</h1>",
        f'<p class="meta">Archive <code>{escape(archive)}</code> · generated {_bj(generated)} Beijing time '
        f"({generated.astimezone(UTC):%Y-%m-%d %H:%M} UTC)</p>",
        _cards(data, generated),
        _health(data, generated),
        _media_chart(data),
        _feed_chart(data),
        _reason_chart(data),
        _run_charts(data),
        _newest(data, link_base, warc_root),
        '<p class="note">Made by <code>newsarchive report</code>. Times are Beijing time (UTC+8); the '
        "article charts follow publication time, the run and quarantine charts the time the pipeline ran. "
        "Columns: docs/schema.md.</p>",
        "</main></body></html>",
    ]
    return "\n".join(parts)


def _bj(t: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return t.astimezone(BEIJING).strftime(fmt) if t else "—"


def _age(t: datetime, now: datetime) -> str:
    seconds = (now - t).total_seconds()
    if seconds < 3600:
        return f"{max(0, int(seconds // 60))} min ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:,.0f} days ago"


def _cards(data: ReportData, now: datetime) -> str:
    t = data.totals
    failed = t.runs_by_status.get("failed", 0) + t.runs_by_status.get("partial", 0)
    cards = [
        (f"{t.articles:,}", f"articles ({t.versions:,} versions)"),
        (str(len(t.sources)), "sources: " + (", ".join(t.sources) or "none")),
        (f"{t.media:,}", "media"),
        (f"{t.quarantined:,}", "quarantined records"),
        (f"{t.runs:,}", f"runs ({failed} partial or failed)"),
    ]
    return (
        '<div class="cards">'
        + "".join(f"<div class=card><b>{v}</b><span>{escape(k)}</span></div>" for v, k in cards)
        + "</div>"
    )


def _health(data: ReportData, now: datetime) -> str:
    t = data.totals
    sources = sorted(set(t.sources) | set(t.last_run_by_source))
    if not sources:
        return '<section><h2>Health</h2><p class="empty">The archive is empty: no article and no run yet.</p></section>'
    rows = []
    for source in sources:
        newest = t.newest_by_source.get(source)
        last = t.last_run_by_source.get(source)
        status = last[1] if last else "—"
        cls = "ok" if status == "complete" else "bad"
        rows.append(
            f"<tr><td>{escape(source)}</td><td>{_bj(newest)}</td><td>{_age(newest, now) if newest else '—'}</td>"
            f"<td>{_bj(last[0]) if last else '—'}</td><td class={cls}>{escape(status)}</td></tr>"
        )
    return (
        "<section><h2>Health</h2><table><tr><th>source</th><th>newest article</th><th>age</th>"
        "<th>last run</th><th>its status</th></tr>" + "".join(rows) + "</table></section>"
    )


def _section(title: str, note: str, body: str) -> str:
    return f'<section><h2>{escape(title)}</h2><p class="note">{note}</p>{body}</section>'


def _bucket_chart(
    chart_id: str,
    what: str,
    w: Window | None,
    counts: dict[str, dict[date, int]],
    colour: Callable[[int, str], str],
    unit: str,
    note: str,
    empty: str,
) -> str:
    """Stacked bars of ``counts`` (series → bucket → n) over the window's buckets, with a legend."""
    title = f"{what} per {w.unit if w else 'day'}"
    if not w or not counts:
        return _section(title, "", svg.empty(chart_id, empty))
    buckets = w.buckets()
    series = [(name, colour(n, name), [counts[name].get(b, 0) for b in buckets]) for n, name in enumerate(counts)]
    chart = svg.stacked_bars(chart_id, title, [w.label(b) for b in buckets], series, unit=unit)
    return _section(title, note.format(window=escape(str(w))), chart + svg.legend([(s[0], s[1]) for s in series]))


def _media_chart(data: ReportData) -> str:
    return _bucket_chart(
        "articles-per-media",
        "Articles per media",
        data.published,
        data.per_media,
        lambda n, name: svg.OTHER_COLOUR if name.startswith("(") else svg.colour(n),
        "articles",
        "By publication time, {window}; media with the most articles first.",
        "No article in the archive yet.",
    )


def _feed_chart(data: ReportData) -> str:
    title = "Hours without any article, per feed"
    w = data.published
    if not w or not data.feeds:
        return _section(title, "", svg.empty("feed-gaps", "No article in the window."))
    rows = []
    for feed in data.feeds:
        gap = f"longest gap {feed.longest_gap[1]:,} h from {_bj(feed.longest_gap[0])}" if feed.longest_gap else "no gap"
        note = f"{feed.silent_hours:,} of {feed.total_hours:,} hours silent; {gap}"
        spans = [(s, e, f"{_bj(s)} – {_bj(e)}: articles in {n} hour(s)") for s, e, n in feed.spans]
        rows.append((feed.name, spans, note))
    chart = svg.strips("feed-gaps", title, rows, w.start, w.end, w.time_format)
    table = "<table><tr><th>feed</th><th>silent hours</th><th>longest gap</th><th>from</th></tr>"
    for feed in sorted(data.feeds, key=lambda f: -f.silent_hours):
        lg = feed.longest_gap
        table += (
            f"<tr><td>{escape(feed.name)}</td><td class=num>{feed.silent_hours:,} / {feed.total_hours:,}</td>"
            f"<td class=num>{f'{lg[1]:,} h' if lg else '—'}</td><td>{_bj(lg[0]) if lg else '—'}</td></tr>"
        )
    table += "</table>"
    quiet = ""
    if data.quiet_feeds:
        quiet = (
            '<p class="note bad">Silent for the whole window (last article): '
            + ", ".join(f"{escape(name)} ({_bj(last)})" for name, last in data.quiet_feeds)
            + "</p>"
        )
    note = (
        f"Each strip is {escape(str(w))}; coloured where an hour has at least one article, pale red where it has "
        "none. A feed that goes quiet while others publish is an outage at the source."
    )
    return _section(title, note, chart + quiet + table)


def _reason_chart(data: ReportData) -> str:
    return _bucket_chart(
        "quarantine-reasons",
        "Quarantined records per reason",
        data.operations,
        data.reasons,
        lambda n, _: svg.colour(n + 3),
        "records",
        "By the time the pipeline saw them, {window}. Reasons: docs/schema.md.",
        "Nothing quarantined in the window.",
    )


def _run_charts(data: ReportData) -> str:
    w = data.operations
    if not w or not data.runs:
        return _section("Runs", "", svg.empty("run-durations", "No run in the window.") + svg.empty("run-requests", ""))
    sources = sorted({str(r["source"]) for r in data.runs})
    colours = {s: svg.colour(n) for n, s in enumerate(sources)}
    points = [
        (
            r["started_at"].astimezone(BEIJING),
            float(r["duration_s"] or 0),
            colours[str(r["source"])],
            r["status"] != "complete",
            f"{r['run_id']} ({r['source']}, {r['status']}): {float(r['duration_s'] or 0):,.1f} s, "
            f"{r['requests'] or 0} requests, {r['articles_written'] or 0} articles",
        )
        for r in data.runs
    ]
    durations = svg.time_scatter("run-durations", "Run durations", points, w.start, w.end, "seconds", w.time_format)
    kinds = sorted({k for r in data.runs for k, _ in r["by_kind"] or []})
    if len(data.runs) <= 60:  # few runs: one bar each
        labels = [_bj(r["started_at"], "%m-%d %H:%M") for r in data.runs]
        per = [dict(r["by_kind"] or []) for r in data.runs]
        unit = "run"
    else:
        buckets = w.buckets()
        index = {b: n for n, b in enumerate(buckets)}
        per = [dict.fromkeys(kinds, 0) for _ in buckets]
        for r in data.runs:
            slot = per[index[w.bucket(r["started_at"])]]
            for k, n in r["by_kind"] or []:
                slot[k] += n
        labels, unit = [w.label(b) for b in buckets], w.unit
    series = [(k, svg.colour(n + 5), [p.get(k, 0) for p in per]) for n, k in enumerate(kinds)]
    requests = svg.stacked_bars("run-requests", "Requests per run", labels, series, unit="requests")
    note = (
        f"{len(data.runs)} runs, {escape(str(w))}. Hollow dots: runs that were not complete "
        f"(partial, failed, recovered). Requests are stacked by kind, per {unit}."
    )
    body = (
        "<h3>Duration of each run</h3>"
        + durations
        + svg.legend([(s, colours[s]) for s in sources])
        + f"<h3>Requests per {unit}</h3>"
        + requests
        + svg.legend([(s[0], s[1]) for s in series])
        + _run_table(data.runs[-10:])
    )
    return _section("Runs: durations and requests", note, body)


def _run_table(runs: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(str(r['run_id']))}</code></td>"
        f"<td>{escape(str(r['source']))}</td>"
        f"<td class={'ok' if r['status'] == 'complete' else 'bad'}>{escape(str(r['status']))}</td>"
        f"<td>{_bj(r['started_at'])}</td><td class=num>{float(r['duration_s'] or 0):,.1f} s</td>"
        f"<td class=num>{r['requests'] or 0:,}</td><td class=num>{r['articles_written'] or 0:,}</td>"
        f"<td class=num>{r['quarantined'] or 0:,}</td></tr>"
        for r in reversed(runs)
    )
    return (
        "<h3>Latest runs</h3><table><tr><th>run</th><th>source</th><th>status</th><th>started</th>"
        "<th>duration</th><th>requests</th><th>articles</th><th>quarantined</th></tr>" + rows + "</table>"
    )


def _link(url: str | None, text: str) -> str:
    """A link to a URL the archive holds (data: ``article_url``, ``source_url``...): only an
    http(s) URL becomes a link; anything else (``javascript:``, ``data:``, ``file:``) is shown
    as text, escaped, so that nothing an archive holds can run in the reader's browser."""
    if not url:
        return "—"
    href = links.link_url(url)
    if href is None:
        return f'{escape(text)} <code title="not a http(s) link">{escape(url)}</code>'
    return f'<a href="{escape(href)}" rel="noopener noreferrer">{escape(text)}</a>'


def _archive_link(url: str | None, text: str) -> str:
    """A link we build to a file of the archive (manifest, WARC): http(s), ``file:`` or a
    relative key; anything else (a hostile key in an old archive) is shown as text."""
    if not url:
        return "—"
    href = links.local_href(url)
    if href is None:
        return f'{escape(text)} <code title="not a link">{escape(url)}</code>'
    if links.link_url(href) is not None:
        return f'<a href="{escape(href)}" rel="noopener noreferrer">{escape(text)}</a>'
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def archive_link(link_base: str | None, archive_root: str | None, key: str) -> str:
    """Where a key of the archive is, seen from the report: under ``link_base`` when given
    (the report uploaded beside the data uses ``""``: relative keys), else the archive's own
    location (a local path as a file:// URL). A key a browser would read with a scheme of its
    own (``javascript:`` in a hostile row) is returned as it is, for :func:`_archive_link` to
    show as text."""
    if links.scheme(key) is not None:
        return key
    if link_base is not None:
        return f"{link_base.rstrip('/')}/{key}" if link_base else key
    if archive_root and not archive_root.startswith("s3://"):
        return Path(archive_root, key).as_uri()
    return f"{archive_root}/{key}" if archive_root else key


def _newest(data: ReportData, link_base: str | None, warc_root: str | None) -> str:
    title = "Newest articles and their provenance"
    if not data.newest:
        return _section(title, "", '<p class="empty">No article yet.</p>')
    rows = []
    for a in data.newest:
        warc = (
            _archive_link(archive_link(link_base, warc_root, a["warc_filename"]), "WARC")
            + f" <code>@{a['warc_record_offset']}</code>"
            if a.get("warc_filename")
            else "—"
        )
        rows.append(
            f"<tr><td class=nw>{_bj(a['published_at'])}</td><td>{escape(str(a['source']))}</td>"
            f"<td class=nw>{escape(a['media_name'] or '—')}</td>"
            f"<td>{_link(a['article_url'], a['title'] or '(untitled)')}</td>"
            f"<td>{_link(a['source_url'], 'fetched')} · {_link(a['list_url'], str(a['feed'] or 'list'))} · "
            f"run <code>{escape(str(a['run_id'] or '—'))}</code> · {warc}"
            f"<br><code>sha256 {escape((a['content_sha256'] or '')[:12])}… · "
            f"fetched {_bj(a['fetched_at'])}</code></td></tr>"
        )
    note = (
        "The current version of each article (the <code>articles</code> view). Provenance: the response it "
        "was parsed from, the list that named it, the run that committed it (a row of <code>runs</code>) and "
        "its WARC record."
    )
    return _section(
        title,
        note,
        "<table><tr><th>published</th><th>source</th><th>media</th><th>title</th><th>provenance</th></tr>"
        + "".join(rows)
        + "</table>",
    )
