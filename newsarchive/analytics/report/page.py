"""The report as one self-contained HTML page: inline CSS, inline SVG, no script, no font
or image to fetch (it must open offline, straight from a bucket).

The sources that need a look (:mod:`.freshness`: ``stale``, ``not-crawled``) come first
everywhere, in red: in the alert at the top, the Health table and the per-source charts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

from newsarchive import links
from newsarchive import settings as project_settings
from newsarchive.analytics.report import svg
from newsarchive.analytics.report.data import ReportData, SourceArticles
from newsarchive.analytics.report.freshness import (
    Freshness,
    StalePolicy,
    age_words,
    assess,
    limit_words,
)
from newsarchive.analytics.report.windows import Window
from newsarchive.timeparse import BEIJING

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","WenQuanYi Micro Hei","PingFang SC",
"Microsoft YaHei",sans-serif;margin:0;color:#222;background:#f6f7f9}
main{max-width:1000px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:4px 0 6px}h3{font-size:14px;margin:14px 0 4px}
section{background:#fff;border:1px solid #e3e5e8;border-radius:6px;padding:10px 14px;margin-top:14px}
.meta,.note{color:#666;font-size:13px}.empty{color:#888;font-style:italic}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:12px}
.card{background:#fff;border:1px solid #e3e5e8;border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:20px}.card span{color:#666;font-size:12px}.card.alarm{border-color:#c0392b}
.card.alarm b{color:#c0392b}
section.alert{border:2px solid #c0392b;background:#fdf0ef}section.alert h2{color:#c0392b}
section.alert ul{margin:4px 0;padding-left:20px;font-size:13.5px}
svg{width:100%;height:auto;display:block;font-size:11px}
svg .grid{stroke:#e6e6e6}svg .tick{fill:#666}svg .unit{fill:#666;font-size:11px}
svg .silent{fill:#fbe3e3}svg .rowlabel{fill:#333;font-size:12px}
.legend{list-style:none;padding:0;margin:4px 0 0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}
.legend span{display:inline-block;width:10px;height:10px;margin-right:5px;border-radius:2px}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;vertical-align:top}
th{color:#555;font-weight:600}td.num{text-align:right;white-space:nowrap}td.nw{white-space:nowrap}
tr.alarm td{background:#fdf0ef}tr.alarm td:first-child{border-left:4px solid #c0392b}
.bad{color:#c0392b;font-weight:600}.ok{color:#2e7d32;font-weight:600}.off{color:#777}code{font-size:11.5px;color:#555}
"""

#: REPORT_STALE_AFTER as shipped, before the environment.
SHIPPED_STALE_AFTER: dict[str, str] = project_settings._defaults["REPORT_STALE_AFTER"]
#: CSS class of each freshness state (red for the ones that need a look).
STATE_CLASS = {"fresh": "ok", "stale": "bad", "not-crawled": "bad", "off": "off"}


def render(
    data: ReportData,
    archive: str,
    generated: datetime,
    link_base: str | None,
    warc_root: str | None,
    policy: StalePolicy | None = None,
) -> str:
    """``archive``: what the tables are (the catalog, without credentials); ``warc_root``: the
    directory WARC files are under (the crawl's ARCHIVE_URI) unless ``link_base`` is given;
    ``generated``: the report's now, the moment ages and freshness are measured at;
    ``policy``: each source's limit (REPORT_STALE_AFTER; default: 6 hours, jekyll off)."""
    if policy is None:
        policy = StalePolicy.parse(SHIPPED_STALE_AFTER)
    t = data.totals
    sources = sorted(set(t.sources) | set(t.last_run_by_source))
    fresh = assess(sources, t.newest_by_source, t.last_complete_by_source, policy, generated)
    parts = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>newsarchive report · {escape(archive)}</title><style>{CSS}</style></head><body><main>",
        "<h1>newsarchive: the archive at a glance</h1>",
        f'<p class="meta">Archive <code>{escape(archive)}</code> · generated {_bj(generated)} Beijing time '
        f"({generated.astimezone(UTC):%Y-%m-%d %H:%M} UTC)</p>",
        _alert(fresh),
        _cards(data, fresh),
        _health(fresh, data, policy),
        _media_chart(data, fresh),
        _feed_chart(data, fresh, generated),
        _reason_chart(data),
        _run_charts(data),
        _newest(data, link_base, warc_root),
        '<p class="note">Made by <code>newsarchive report</code>. Times are Beijing time (UTC+8); the '
        "article charts follow publication time, each source in its own window ending at its newest article; "
        "the run and quarantine charts follow the time the pipeline ran. Columns: docs/schema.md.</p>",
        "</main></body></html>",
    ]
    return "\n".join(parts)


def _bj(t: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return t.astimezone(BEIJING).strftime(fmt) if t else "—"


def _alert(fresh: Sequence[Freshness]) -> str:
    """The sources that need a look, above everything else; nothing when there are none."""
    alarms = [f for f in fresh if f.alarm]
    if not alarms:
        return ""
    items = "".join(
        f'<li data-source="{escape(f.source)}" data-freshness="{f.state}"><b>{escape(f.source)}</b> '
        f"<span class=bad>{f.state}</span>: {escape(f.explain())}</li>"
        for f in alarms
    )
    what = "source needs" if len(alarms) == 1 else "sources need"
    return (
        f'<section class="alert" data-alert="freshness"><h2>{len(alarms)} {what} a look</h2><ul>{items}</ul></section>'
    )


def _cards(data: ReportData, fresh: Sequence[Freshness]) -> str:
    t = data.totals
    failed = t.runs_by_status.get("failed", 0) + t.runs_by_status.get("partial", 0)
    alarms = [f.source for f in fresh if f.alarm]
    cards = [
        (f"{t.articles:,}", f"articles ({t.versions:,} versions)", ""),
        (str(len(t.sources)), "sources: " + (", ".join(t.sources) or "none"), ""),
        (str(len(alarms)), "stale sources" + (": " + ", ".join(alarms) if alarms else ""), " alarm" if alarms else ""),
        (f"{t.media:,}", "media", ""),
        (f"{t.quarantined:,}", "quarantined records", ""),
        (f"{t.runs:,}", f"runs ({failed} partial or failed)", ""),
    ]
    return (
        '<div class="cards">'
        + "".join(f'<div class="card{c}"><b>{v}</b><span>{escape(k)}</span></div>' for v, k, c in cards)
        + "</div>"
    )


def _health(fresh: Sequence[Freshness], data: ReportData, policy: StalePolicy) -> str:
    t = data.totals
    if not fresh:
        return '<section><h2>Health</h2><p class="empty">The archive is empty: no article and no run yet.</p></section>'
    rows = []
    for f in fresh:
        last = t.last_run_by_source.get(f.source)
        status = last[1] if last else "—"
        rows.append(
            f'<tr data-source="{escape(f.source)}" data-freshness="{f.state}"{" class=alarm" if f.alarm else ""}>'
            f"<td>{escape(f.source)}</td><td class={STATE_CLASS[f.state]}>{f.state}</td>"
            f"<td class=nw>{_bj(f.newest)}</td><td class={'bad' if f.alarm else 'nw'}>{escape(age_words(f.age))}</td>"
            f"<td class=nw>{limit_words(f.limit)}</td><td class=nw>{_bj(last[0]) if last else '—'}</td>"
            f"<td class={'ok' if status == 'complete' else 'bad'}>{escape(status)}</td>"
            f"<td class=nw>{_bj(f.last_complete)}</td></tr>"
        )
    # a source the operator named that the archive lacks may be a typo; the shipped ones are not
    unknown = sorted(set(policy.per_source) - {f.source for f in fresh} - set(SHIPPED_STALE_AFTER))
    note = (
        "Freshness at the time the report was made: <b>fresh</b>, the newest article is within the source's "
        "limit (REPORT_STALE_AFTER); <b class=bad>stale</b>, it is older though a run completed within the "
        "limit (the source, or its parser, gives nothing new); <b class=bad>not-crawled</b>, it is older and "
        "no run completed within the limit either (the crawls do not run, or fail); <b>off</b>, not judged."
    )
    if unknown:
        note += (
            ' <span class="bad">REPORT_STALE_AFTER names sources this archive does not hold: '
            + ", ".join(f"<code>{escape(s)}</code>" for s in unknown)
            + ".</span>"
        )
    return _section(
        "Health",
        note,
        "<table><tr><th>source</th><th>freshness</th><th>newest article</th><th>its age</th><th>limit</th>"
        "<th>last run</th><th>its status</th><th>last complete run</th></tr>" + "".join(rows) + "</table>",
    )


def _section(title: str, note: str, body: str) -> str:
    return f'<section><h2>{escape(title)}</h2><p class="note">{note}</p>{body}</section>'


def _bucket_chart(
    chart_id: str,
    title: str,
    w: Window,
    counts: dict[str, dict[date, int]],
    colour: Callable[[int, str], str],
    unit: str,
    source: str | None = None,
) -> str:
    """Stacked bars of ``counts`` (series → bucket → n) over the window's buckets, with a legend."""
    buckets = w.buckets()
    series = [(name, colour(n, name), [counts[name].get(b, 0) for b in buckets]) for n, name in enumerate(counts)]
    chart = svg.stacked_bars(chart_id, title, [w.label(b) for b in buckets], series, unit=unit, source=source)
    return chart + svg.legend([(s[0], s[1]) for s in series])


def _source_heading(articles: SourceArticles, f: Freshness | None, what: str) -> str:
    state = f"<span class={STATE_CLASS[f.state]}>{f.state}</span> · " if f else ""
    return (
        f'<h3 data-source="{escape(articles.source)}">{escape(articles.source)}: {state}{escape(what)}, '
        f"{escape(str(articles.window))}</h3>"
    )


def _in_order(data: ReportData, fresh: Sequence[Freshness]) -> list[tuple[SourceArticles, Freshness | None]]:
    """The sources with articles, in the order of the Health table (the ones to look at first)."""
    by_source = {f.source: f for f in fresh}
    order = [f.source for f in fresh if f.source in data.sources]
    order += sorted(set(data.sources) - set(order))
    return [(data.sources[s], by_source.get(s)) for s in order]


def _media_chart(data: ReportData, fresh: Sequence[Freshness]) -> str:
    title = "Articles per media"
    if not data.sources:
        return _section(title, "", svg.empty("articles-per-media", "No article in the archive yet."))
    body = []
    for articles, f in _in_order(data, fresh):
        w = articles.window
        body.append(_source_heading(articles, f, f"per {w.unit}"))
        body.append(
            _bucket_chart(
                "articles-per-media",
                f"{articles.source}: articles per media per {w.unit}",
                w,
                articles.per_media,
                lambda n, name: svg.OTHER_COLOUR if name.startswith("(") else svg.colour(n),
                "articles",
                articles.source,
            )
        )
    note = (
        "By publication time, per source, each in its own window ending at the source's newest article "
        "(a source that stopped still shows its last weeks; the Health table says how old they are). "
        "Media with the most articles first."
    )
    return _section(title, note, "".join(body))


def _feed_chart(data: ReportData, fresh: Sequence[Freshness], now: datetime) -> str:
    title = "Hours without any article, per feed"
    if not data.sources:
        return _section(title, "", svg.empty("feed-gaps", "No article in the archive yet."))
    body = []
    table = (
        "<h3>Gaps per feed</h3><table><tr><th>feed</th><th>source</th><th>silent hours</th><th>longest gap</th>"
        "<th>from</th></tr>"
    )
    gaps = []
    for articles, f in _in_order(data, fresh):
        w = articles.window
        rows = []
        for feed in articles.feeds:
            lg = feed.longest_gap
            gap = f"longest gap {lg[1]:,} h from {_bj(lg[0])}" if lg else "no gap"
            note = f"{feed.silent_hours:,} of {feed.total_hours:,} hours silent; {gap}"
            spans = [(s, e, f"{_bj(s)} – {_bj(e)}: articles in {n} hour(s)") for s, e, n in feed.spans]
            rows.append((feed.name, spans, note))
            gaps.append((articles.source, feed))
        body.append(_source_heading(articles, f, "hours with articles"))
        body.append(
            svg.strips("feed-gaps", f"{articles.source}: {title}", rows, w.start, w.end, w.time_format, articles.source)
        )
    for source, feed in sorted(gaps, key=lambda g: (-g[1].silent_hours, g[0], g[1].name)):
        lg = feed.longest_gap
        table += (
            f"<tr><td>{escape(feed.name)}</td><td>{escape(source)}</td>"
            f"<td class=num>{feed.silent_hours:,} / {feed.total_hours:,}</td>"
            f"<td class=num>{f'{lg[1]:,} h' if lg else '—'}</td><td>{_bj(lg[0]) if lg else '—'}</td></tr>"
        )
    table += "</table>"
    note = (
        "Each strip spans its source's window; coloured where an hour has at least one article, pale red where "
        "it has none. A feed that goes quiet while the others of its source publish is an outage at the source."
    )
    return _section(title, note, "".join(body) + _silent_feeds(data, now) + table)


def _silent_feeds(data: ReportData, now: datetime) -> str:
    """The feeds with no article in their source's window, as a table."""
    head = "<h3>Silent feeds</h3>"
    if not data.silent_feeds:
        return head + '<p class="note" data-table="silent-feeds">Every feed has articles in its source\'s window.</p>'
    rows = "".join(
        f'<tr data-source="{escape(f.source)}"><td>{escape(f.feed)}</td><td>{escape(f.source)}</td>'
        f"<td class=nw>{_bj(f.last)}</td><td class=bad>{escape(age_words(now - f.last))}</td></tr>"
        for f in data.silent_feeds
    )
    return (
        head + '<p class="note">Feeds without any article in their source\'s window, longest silent first: they '
        "stopped while the rest of their source went on.</p>"
        + '<table data-table="silent-feeds"><tr><th>feed</th><th>source</th><th>last seen</th><th>age</th></tr>'
        + rows
        + "</table>"
    )


def _reason_chart(data: ReportData) -> str:
    w = data.operations
    title = f"Quarantined records per reason per {w.unit if w else 'day'}"
    if not w or not data.reasons:
        return _section(title, "", svg.empty("quarantine-reasons", "Nothing quarantined in the window."))
    chart = _bucket_chart("quarantine-reasons", title, w, data.reasons, lambda n, _: svg.colour(n + 3), "records")
    note = f"By the time the pipeline saw them, {escape(str(w))}. Reasons: docs/schema.md."
    return _section(title, note, chart)


def _run_charts(data: ReportData) -> str:
    w = data.operations
    if not w or not data.runs:
        return _section("Runs", "", svg.empty("run-durations", "No run in the window.") + svg.empty("run-requests", ""))
    spiders = sorted({_spider(r) for r in data.runs})
    colours = {s: svg.colour(n) for n, s in enumerate(spiders)}
    points = [
        (
            r["started_at"].astimezone(BEIJING),
            float(r["duration_s"] or 0),
            colours[_spider(r)],
            r["status"] != "complete",
            f"{r['run_id']} ({_spider(r)}, {r['status']}): {float(r['duration_s'] or 0):,.1f} s, "
            f"{r['requests'] or 0} requests, {r['articles_written'] or 0} articles",
        )
        for r in data.runs
    ]
    durations = svg.time_scatter("run-durations", "Run durations", points, w.start, w.end, "seconds", w.time_format)
    kinds = sorted({k for r in data.runs for k, _ in r["by_kind"] or []})
    if len(data.runs) <= 60:  # few runs: one bar each
        labels = [_bj(r["started_at"], "%m-%d %H:%M") for r in data.runs]
        bar_spiders = [_spider(r) for r in data.runs]
        names = [f"{label} · {s}" for label, s in zip(labels, bar_spiders, strict=True)]
        per = [dict(r["by_kind"] or []) for r in data.runs]
        unit = "run"
    else:  # one bar per spider and bucket
        slots: dict[tuple[date, str], dict[str, int]] = {}
        for r in data.runs:
            slot = slots.setdefault((w.bucket(r["started_at"]), _spider(r)), dict.fromkeys(kinds, 0))
            for k, n in r["by_kind"] or []:
                slot[k] += n
        keys = sorted(slots)
        labels = [w.label(b) for b, _ in keys]
        bar_spiders = [s for _, s in keys]
        names = [f"{w.label(b)} · {s}" for b, s in keys]
        per = [slots[k] for k in keys]
        unit = f"spider and {w.unit}"
    series = [(k, svg.colour(n + 5), [p.get(k, 0) for p in per]) for n, k in enumerate(kinds)]
    bands = [(colours[s], f"{name}: spider {s}", s) for s, name in zip(bar_spiders, names, strict=True)]
    requests = svg.stacked_bars(
        "run-requests", "Requests per run", labels, series, unit="requests", names=names, bands=bands
    )
    note = (
        f"{len(data.runs)} runs, {escape(str(w))}. Colour of a dot, and of the band under a bar: the spider "
        f"that ran. Hollow dots: runs that were not complete (partial, failed, recovered). Requests are "
        f"stacked by kind, per {unit}."
    )
    spider_legend = svg.legend([(f"spider {s}", colours[s]) for s in spiders])
    body = (
        "<h3>Duration of each run</h3>"
        + durations
        + spider_legend
        + f"<h3>Requests per {unit}</h3>"
        + requests
        + spider_legend
        + svg.legend([(s[0], s[1]) for s in series])
        + _run_table(data.runs[-10:])
    )
    return _section("Runs: durations and requests", note, body)


def _spider(run: dict[str, Any]) -> str:
    return str(run.get("spider") or run.get("source") or "?")


def _run_table(runs: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(str(r['run_id']))}</code></td>"
        f"<td>{escape(_spider(r))}</td><td>{escape(str(r['source']))}</td>"
        f"<td class={'ok' if r['status'] == 'complete' else 'bad'}>{escape(str(r['status']))}</td>"
        f"<td>{_bj(r['started_at'])}</td><td class=num>{float(r['duration_s'] or 0):,.1f} s</td>"
        f"<td class=num>{r['requests'] or 0:,}</td><td class=num>{r['articles_written'] or 0:,}</td>"
        f"<td class=num>{r['quarantined'] or 0:,}</td></tr>"
        for r in reversed(runs)
    )
    return (
        "<h3>Latest runs</h3><table><tr><th>run</th><th>spider</th><th>source</th><th>status</th><th>started</th>"
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
