"""Write the archive as the original site's posts: one market-template post per infoCode.

Two passes over the ``articles`` table keep memory flat however large the archive: the first
reads only the columns that pick the row to publish for each infoCode, the second streams
the winners' bodies and writes one post each. The date range is a row filter on
``published_at``, so pyiceberg skips the months (partitions) and files outside it.

Which row wins for an infoCode: a ``finews`` row over any other source, other live sources
over ``jekyll`` (posts imported from an old site), and among ``jekyll`` rows the template
the export reproduces (``jekyll-market``) first; then the latest by
(``fetched_at``, ``pipeline_version``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsarchive.ids import valid_info_code
from newsarchive.jekyll import format as fmt
from newsarchive.jekyll import safety, yamltext
from newsarchive.jekyll.site import OLD_POSTS, POSTS, prepare_site, rotate, write_atomic
from newsarchive.slug import media_slug
from newsarchive.tables import read
from newsarchive.timeparse import BEIJING, beijing_date, beijing_str

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table

DEFAULT_BASE_URL = "//finews.withounder.com"
#: Columns that choose the row to publish (pass 1) and identify it (pass 2).
KEY_COLUMNS = ["source", "source_id", "info_code", "feed", "fetched_at", "pipeline_version", "content_sha256"]
POST_COLUMNS = [
    *KEY_COLUMNS,
    "title",
    "media_name",
    "media_slug",
    "published_at",
    "content_html",
    "share_url",
    "article_url",
]
#: Source preference (higher wins); sources not named rank between finews and jekyll.
SOURCE_RANK = {"finews": 3, "jekyll": 1}
OTHER_SOURCE_RANK = 2
#: Among imported rows, the template the export reproduces first.
TEMPLATE_RANK = {"jekyll-market": 4, "jekyll-market-early": 3, "jekyll-rolling": 2, "jekyll-rolling-early": 1}
_LIQUID = re.compile(r"\{[{%]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ExportOptions:
    out: Path
    base_url: str = DEFAULT_BASE_URL
    since: date | None = None
    until: date | None = None
    keep_days: int | None = None
    today: date | None = None
    #: Link used when a row has neither ``share_url`` nor ``article_url`` (``{info_code}``).
    share_url_template: str = ""


@dataclass
class ExportResult:
    rows: int = 0
    posts: int = 0
    written: int = 0
    unchanged: int = 0
    superseded: int = 0
    skipped_no_info_code: int = 0
    sanitised: int = 0
    yaml_escaped: int = 0
    liquid_marked: int = 0
    rotated: int = 0
    failed: int = 0
    liquid_off_in_config: bool = True
    actions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["status"] = "partial" if self.failed else "complete"
        return out


@dataclass(frozen=True)
class RenderedPost:
    name: str
    day: date
    text: str
    sanitised: tuple[str, ...]
    escaped: tuple[str, ...]
    liquid_marked: bool


def _version_key(version: str | None) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in re.split(r"[.+-]", version or ""))


def rank(row: dict[str, Any]) -> tuple[Any, ...]:
    """Sort key of a row among the rows of its infoCode: the highest is published."""
    source = str(row["source"])
    return (
        SOURCE_RANK.get(source, OTHER_SOURCE_RANK),
        TEMPLATE_RANK.get(row.get("feed") or "", 0) if source == "jekyll" else 0,
        row.get("fetched_at") or _EPOCH,
        _version_key(row.get("pipeline_version")),
        source,
        row.get("content_sha256") or "",
    )


def identity(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        str(row["source"]),
        row["source_id"],
        row.get("content_sha256"),
        row.get("fetched_at"),
        row.get("pipeline_version"),
    )


def time_filter(since: date | None, until: date | None) -> BooleanExpression | None:
    """Rows published on Beijing dates ``since``..``until`` (inclusive)."""
    from pyiceberg import expressions

    ex: Any = expressions  # its pydantic-generated signatures confuse mypy
    expr: BooleanExpression | None = None
    if since is not None:
        expr = ex.GreaterThanOrEqual("published_at", datetime.combine(since, time(0), BEIJING).astimezone(UTC))
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), time(0), BEIJING).astimezone(UTC)
        cond = ex.LessThan("published_at", end)
        expr = cond if expr is None else ex.And(expr, cond)
    return expr


def _rows(table: Table, columns: list[str], flt: BooleanExpression | None) -> Iterator[dict[str, Any]]:
    for batch in read.batches(table, flt, columns):
        yield from batch.to_pylist()


def render(row: dict[str, Any], opts: ExportOptions, *, mark_liquid: bool = False) -> RenderedPost:
    """The post for one archive row (``info_code`` already validated)."""
    code = row["info_code"]
    published: datetime = row["published_at"]
    sanitised: list[str] = []
    escaped: list[str] = []

    title = row.get("title") or ""
    shown = safety.safe_title(title)
    if shown != title:
        sanitised.append("title markup")
    if yamltext.fits_double_quotes(shown):
        title_yaml = f'"{shown}"'
    else:
        title_yaml = yamltext.double_quoted(shown)
        escaped.append("title")

    media = row.get("media_name") or ""
    slug = row.get("media_slug") or media_slug(media) or ""
    clean_media, clean_slug = safety.safe_title(media), safety.safe_slug(slug)
    if (clean_media, clean_slug) != (media, slug):
        sanitised.append("media name markup")
        media, slug = clean_media.strip(), clean_slug
    if not media or not slug:  # no medium named: the rolling-news category of the original
        media, slug = fmt.ROLLING_MEDIA, fmt.ROLLING_CATEGORY
    tags = media + "新闻"
    categories_yaml, tags_yaml = yamltext.scalar(slug), yamltext.scalar(tags)
    if categories_yaml != slug or tags_yaml != tags:
        escaped.append("categories/tags")
    label, slug_path = safety.safe_label(tags), safety.safe_path_segment(slug)
    if label != tags or slug_path != slug:
        sanitised.append("back-link")

    body, problems = safety.safe_body((row.get("content_html") or "").replace(fmt.INDENT, ""))
    sanitised.extend(f"body: {p}" for p in problems)

    raw_link = row.get("share_url") or row.get("article_url")
    if not raw_link and opts.share_url_template:
        raw_link = opts.share_url_template.format(info_code=code)
    link = safety.safe_url(raw_link) if raw_link else None
    if raw_link and link != raw_link:
        sanitised.append("link")

    marked = bool(mark_liquid and (_LIQUID.search(body) or _LIQUID.search(shown)))
    text = fmt.market_post(
        title=title_yaml,
        date=beijing_str(published),
        categories=categories_yaml,
        tags=tags_yaml,
        body=body,
        link=link,
        label=label,
        slug_path=slug_path,
        base_url=opts.base_url,
        extra_front="render_with_liquid: false\n" if marked else "",
    )
    day = beijing_date(published)
    return RenderedPost(f"{day.isoformat()}-{code}.md", day, text, tuple(sanitised), tuple(escaped), marked)


def export(table: Table, opts: ExportOptions) -> ExportResult:
    """Export every article of the ``articles`` table (in the date range) into ``opts.out``."""
    result = ExportResult()
    flt = time_filter(opts.since, opts.until)

    best: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
    for row in _rows(table, KEY_COLUMNS, flt):
        result.rows += 1
        code = valid_info_code(row.get("info_code"))
        if code is None:
            result.skipped_no_info_code += 1
            continue
        key = rank(row)
        if code not in best or key > best[code][0]:
            best[code] = (key, identity(row))
    winners = {code: ident for code, (_, ident) in best.items()}
    result.superseded = result.rows - result.skipped_no_info_code - len(winners)

    setup = prepare_site(opts.out)
    result.liquid_off_in_config = setup.liquid_off
    result.actions.extend(setup.actions)
    result.warnings.extend(setup.warnings)
    cutoff = None
    if opts.keep_days is not None and opts.today is not None:
        cutoff = opts.today - timedelta(days=opts.keep_days - 1)

    for row in _rows(table, POST_COLUMNS, flt):
        code = valid_info_code(row.get("info_code"))
        if code is None or winners.get(code) != identity(row):
            continue
        del winners[code]  # exact duplicates of the winning row are written once
        post = render(row, opts, mark_liquid=not setup.liquid_off)
        folder = OLD_POSTS if cutoff is not None and post.day < cutoff else POSTS
        path = opts.out / folder / post.name
        result.posts += 1
        result.sanitised += bool(post.sanitised)
        result.yaml_escaped += bool(post.escaped)
        result.liquid_marked += post.liquid_marked
        data = post.text.encode("utf-8")
        try:
            if path.is_file() and path.read_bytes() == data:
                result.unchanged += 1
                continue
            write_atomic(path, data)
            result.written += 1
        except OSError as exc:
            result.failed += 1
            if len(result.errors) < 20:
                result.errors.append(f"{path}: {exc}")

    if opts.keep_days is not None and opts.today is not None:
        result.rotated = len(rotate(opts.out, opts.keep_days, opts.today))
    return result
