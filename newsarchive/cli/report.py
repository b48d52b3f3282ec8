"""Write the archive's health report: one self-contained HTML page with charts.

Articles per media per day, hours without any article per feed (outages), quarantine reasons
over time, run durations and requests, and the newest articles with their provenance. The
page has no script and fetches nothing: it opens offline. Reads the tables of the configured
catalog (--catalog, --namespace), or the embedded catalog in --archive when none is configured.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.config import setting


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from newsarchive.tables import read

    read.add_arguments(parser)
    parser.add_argument("--out", type=Path, default=Path("report.html"), help="HTML file to write (report.html)")
    parser.add_argument(
        "--days", type=int, default=None, help="days each chart spans, ending at the newest data (0: all; REPORT_DAYS)"
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
    try:
        spec = read.spec_from_args(args)
        warc_root = str(local_root(args.archive or str(setting("ARCHIVE_URI"))))
        html = build_report(spec, days=days, link_base=args.link_base, warc_root=warc_root)
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
