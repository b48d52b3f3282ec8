"""Charts as inline SVG, drawn here rather than by a script library: the report must open
offline, from a bucket or an e-mail attachment, with nothing to fetch and nothing to run.

Every chart is an ``<svg data-chart="…">`` (with ``data-source`` when it shows one source);
every drawn datum has class ``mark`` and a ``<title>`` (the browser's tooltip), which is
also what the browser test counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape

PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
OTHER_COLOUR = "#c7c7c7"
WIDTH, LEFT, RIGHT, TOP, BOTTOM = 960, 56, 24, 24, 44


def colour(n: int) -> str:
    return PALETTE[n % len(PALETTE)]


def nice_ticks(top: float, count: int = 4, integer: bool = True) -> list[float]:
    """Round tick values from 0 to at least ``top`` (whole numbers for counts)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    return [step * i for i in range(math.ceil(top / step) + 1)]


def _num(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _open(chart_id: str, height: int, label: str, source: str | None = None) -> list[str]:
    of = f' data-source="{escape(source)}"' if source is not None else ""
    return [
        f'<svg data-chart="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}"{of} role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
    ]


def _y_axis(parts: list[str], ticks: list[float], height: int, unit: str) -> None:
    plot_h = height - TOP - BOTTOM
    for t in ticks:
        y = TOP + plot_h - plot_h * t / ticks[-1]
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_num(t)}</text>')
    if unit:
        parts.append(f'<text class="unit" x="4" y="{TOP - 12}">{escape(unit)}</text>')


def _x_labels(
    parts: list[str], labels: Sequence[str], xs: Sequence[float], y: float, second: Sequence[str] | None = None
) -> None:
    """About twelve labels, each with its ``second`` line under it (whose bar it is); a label
    equal to the one before it (bars of one day) is not repeated."""
    step = max(1, math.ceil(len(labels) / 12))
    shown: tuple[str, str] | None = None
    for i in range(0, len(labels), step):
        under = second[i] if second else ""
        if (labels[i], under) == shown:
            continue
        if shown is None or labels[i] != shown[0]:
            parts.append(
                f'<text class="tick" x="{xs[i]:.1f}" y="{y:.1f}" text-anchor="middle">{escape(labels[i])}</text>'
            )
        if under:
            parts.append(
                f'<text class="tick" x="{xs[i]:.1f}" y="{y + 13:.1f}" text-anchor="middle">{escape(under)}</text>'
            )
        shown = (labels[i], under)


def stacked_bars(
    chart_id: str,
    label: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    unit: str = "",
    height: int = 260,
    *,
    source: str | None = None,
    names: Sequence[str] | None = None,
    bands: Sequence[tuple[str, str, str]] | None = None,
) -> str:
    """One bar per category, stacked by series (name, colour, one value per category).
    ``names``: each bar's name in its tooltips (default: its axis label); ``bands``: whose
    bar it is, (colour, tooltip, name): a coloured band under the bar, and the name under
    its axis label."""
    totals = [sum(s[2][i] for s in series) for i in range(len(categories))]
    ticks = nice_ticks(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / max(1, len(categories))
    bar = max(1.0, min(slot * 0.8, 48))
    parts = _open(chart_id, height, label, source)
    _y_axis(parts, ticks, height, unit)
    xs = [LEFT + slot * (i + 0.5) for i in range(len(categories))]
    for i, band in enumerate(bands or ()):
        fill, tip, _ = band
        parts.append(
            f'<rect class="mark band" x="{xs[i] - bar / 2:.1f}" y="{TOP + plot_h + 2}" width="{bar:.1f}" '
            f'height="6" fill="{fill}"><title>{escape(tip)}</title></rect>'
        )
    for i, cat in enumerate(names or categories):
        base = 0.0
        for name, fill, values in series:
            value = values[i]
            if not value:
                continue
            y0 = TOP + plot_h - plot_h * base / ticks[-1]
            h = plot_h * value / ticks[-1]
            parts.append(
                f'<rect class="mark" x="{xs[i] - bar / 2:.1f}" y="{y0 - h:.1f}" width="{bar:.1f}" '
                f'height="{max(h, 0.5):.1f}" fill="{fill}"><title>{escape(cat)} · {escape(name)}: '
                f"{_num(value)}</title></rect>"
            )
            base += value
    second = [b[2] for b in bands] if bands else None
    _x_labels(parts, categories, xs, height - BOTTOM + (20 if bands else 16), second)
    parts.append("</svg>")
    return "".join(parts)


def time_x(t: datetime, t0: datetime, t1: datetime, left: float = LEFT) -> float:
    span = (t1 - t0).total_seconds() or 1.0
    return left + (WIDTH - left - RIGHT) * (t - t0).total_seconds() / span


def time_labels(t0: datetime, t1: datetime, fmt: str, left: float = LEFT, count: int = 6) -> list[tuple[float, str]]:
    span = t1 - t0
    moments = [t0 + span * i / count for i in range(count + 1)]
    return [(time_x(t, t0, t1, left), t.strftime(fmt)) for t in moments]


def _time_ticks(parts: list[str], labels: Sequence[tuple[float, str]], height: int) -> None:
    """Labels under a time axis; the first and last are aligned inwards so none is cut."""
    for n, (x, text) in enumerate(labels):
        anchor = "start" if n == 0 else "end" if n == len(labels) - 1 else "middle"
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{height - BOTTOM + 16}" text-anchor="{anchor}">{escape(text)}</text>'
        )


def time_scatter(
    chart_id: str,
    label: str,
    points: Sequence[tuple[datetime, float, str, bool, str]],
    t0: datetime,
    t1: datetime,
    unit: str,
    fmt: str,
    height: int = 240,
) -> str:
    """Dots over time: (time, value, colour, hollow, tooltip); hollow dots mark trouble."""
    ticks = nice_ticks(max((p[1] for p in points), default=0), integer=False)
    margin = (t1 - t0) * 0.03  # keep the dots at either end inside the plot
    t0, t1 = t0 - margin, t1 + margin
    plot_h = height - TOP - BOTTOM
    parts = _open(chart_id, height, label)
    _y_axis(parts, ticks, height, unit)
    for t, value, fill, hollow, tip in points:
        x, y = time_x(t, t0, t1), TOP + plot_h - plot_h * value / ticks[-1]
        style = f'fill="#fff" stroke="{fill}" stroke-width="2.5"' if hollow else f'fill="{fill}"'
        parts.append(
            f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="5" {style}><title>{escape(tip)}</title></circle>'
        )
    _time_ticks(parts, time_labels(t0, t1, fmt), height)
    parts.append("</svg>")
    return "".join(parts)


def strips(
    chart_id: str,
    label: str,
    rows: Sequence[tuple[str, Sequence[tuple[datetime, datetime, str]], str]],
    t0: datetime,
    t1: datetime,
    fmt: str,
    source: str | None = None,
) -> str:
    """One timeline per row (label, [(start, end, tooltip)] of spans with articles, note):
    the light background between spans is time without any article."""
    row_h, left = 26, 230
    height = TOP + row_h * len(rows) + BOTTOM
    parts = _open(chart_id, height, label, source)
    x0, x1 = float(left), time_x(t1, t0, t1, left)
    for n, (name, spans, note) in enumerate(rows):
        y = TOP + n * row_h
        parts.append(
            f'<rect class="silent" x="{x0:.1f}" y="{y + 4}" width="{x1 - x0:.1f}" height="{row_h - 10}">'
            f"<title>{escape(name)}: {escape(note)}</title></rect>"
        )
        for start, end, tip in spans:
            # an hour with articles may begin before the window or end after it: draw its part inside
            sx, ex = max(x0, time_x(start, t0, t1, left)), min(x1, time_x(end, t0, t1, left))
            parts.append(
                f'<rect class="mark" x="{sx:.1f}" y="{y + 4}" width="{max(ex - sx, 1.5):.1f}" height="{row_h - 10}" '
                f'fill="{colour(n)}"><title>{escape(name)}: {escape(tip)}</title></rect>'
            )
        parts.append(f'<text class="rowlabel" x="4" y="{y + row_h - 9}">{escape(name)}</text>')
    _time_ticks(parts, time_labels(t0, t1, fmt, left), height)
    parts.append("</svg>")
    return "".join(parts)


def legend(items: Sequence[tuple[str, str]]) -> str:
    return (
        '<ul class="legend">'
        + "".join(f'<li><span style="background:{c}"></span>{escape(n)}</li>' for n, c in items)
        + "</ul>"
    )


def empty(chart_id: str, message: str) -> str:
    """A chart with nothing to draw says so (and the browser test sees ``data-empty``)."""
    return f'<p class="empty" data-chart="{escape(chart_id)}" data-empty="true">{escape(message)}</p>'
