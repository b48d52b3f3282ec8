"""Write the archive's health report: one self-contained HTML page with charts.

Each source's freshness (stale sources first, in red: REPORT_STALE_AFTER, --stale-after),
articles per media per day and hours without any article per feed, each source in its own
window, silent feeds, quarantine reasons over time, run durations and requests by spider,
and the newest articles with their provenance. The page has no script and fetches nothing:
it opens offline. Reads the tables of the configured catalog (--catalog, --namespace), or
the embedded catalog in --archive when none is configured.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.cli.catalogopts import add_catalog_arguments, reader_spec
from newsarchive.config import setting

if TYPE_CHECKING:
    from newsarchive.analytics.report.freshness import StalePolicy


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_catalog_arguments(parser)
    parser.add_argument("--out", type=Path, default=Path("report.html"), help="HTML file to write (report.html)")
    parser.add_argument(
        "--days",
        type=int,
        default=None,
        help="days each chart spans, ending at its source's newest article, or at the newest run (0: all; REPORT_DAYS)",
    )
    parser.add_argument(
        "--stale-after",
        action="append",
        default=[],
        metavar="[SOURCE=]LIMIT",
        help="age of the newest article past which a source is stale, as 6h, 2d or off; without SOURCE= the "
        "default; repeatable; overrides REPORT_STALE_AFTER",
    )
    parser.add_argument(
        "--now",
        default=None,
        metavar="TIME",
        help="judge freshness at this ISO 8601 time with its offset (2026-01-05T08:00+08:00) instead of now",
    )
    parser.add_argument(
        "--link-base",
        default=None,
        metavar="URL",
        help="prefix of links to WARC files (default: the WARC files under --archive)",
    )


def run(args: argparse.Namespace) -> int:
    from newsarchive.analytics.report import build_report
    from newsarchive.tables import read
    from newsarchive.tables.catalog import local_root

    days = int(setting("REPORT_DAYS")) if args.days is None else args.days
    if days < 0:
        raise UsageError("--days must be 0 (everything) or more")
    policy = stale_policy(args.stale_after)
    now = report_time(args.now)
    try:
        spec = reader_spec(args)
        warc_root = str(local_root(args.archive or str(setting("ARCHIVE_URI"))))
        html = build_report(spec, days=days, link_base=args.link_base, warc_root=warc_root, now=now, policy=policy)
    except read.TablesNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except (OSError, read.TablesUnreadableError) as exc:
        print(f"newsarchive report: {exc}", file=sys.stderr)
        return EXIT_FAILED
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    print(f"Report written to {out} ({len(html.encode('utf-8')):,} bytes)")
    return EXIT_OK


def stale_policy(overrides: list[str]) -> StalePolicy:
    """REPORT_STALE_AFTER with the ``--stale-after`` values over it; a bad value is a usage error."""
    from newsarchive.analytics.report.freshness import StaleAfterError, StalePolicy
    from newsarchive.envvars import SettingError

    try:
        return StalePolicy.parse(setting("REPORT_STALE_AFTER"), overrides)
    except (SettingError, StaleAfterError) as exc:
        raise UsageError(str(exc)) from exc


def report_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--now {text!r} is not an ISO 8601 time: {exc}") from exc
    if when.tzinfo is None:
        raise UsageError(f"--now {text!r} has no offset: add +08:00 (Beijing) or Z (UTC)")
    return when
