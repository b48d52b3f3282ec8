"""Export the archive as the original Jekyll site's posts (``_posts/<date>-<infoCode>.md``).

One post per infoCode in the original market-news format, byte-identical to what the
original wrote for articles crawled from the feeds; broken YAML is escaped and unsafe HTML
sanitised (docs/jekyll.md). Reads the articles table of the configured catalog (--catalog,
--namespace), or of the embedded catalog in --archive when none is configured. The last line on
stdout is a JSON summary.
Exit codes: 0 done, 1 some posts could not be written or the tables could not be read,
2 bad usage (no catalog or no tables where they were looked for).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date, datetime
from pathlib import Path

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.cli.catalogopts import add_catalog_arguments, reader_spec

_BAD_BASE = re.compile(r"[\s()<>\[\]\"'`\\]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_catalog_arguments(parser)
    parser.add_argument("--out", required=True, type=Path, metavar="SITE_DIR", help="Jekyll site directory")
    parser.add_argument(
        "--base-url",
        default=None,
        help="site base URL of the back-links (default: JEKYLL_BASE_URL, //finews.withounder.com)",
    )
    parser.add_argument("--since", metavar="YYYY-MM-DD", help="only articles published on or after (Beijing)")
    parser.add_argument("--until", metavar="YYYY-MM-DD", help="only articles published on or before (Beijing)")
    parser.add_argument(
        "--keep-days",
        type=int,
        metavar="N",
        help="keep the last N days (today included) in _posts/, move older article posts to old_post/",
    )
    parser.add_argument(
        "--today", metavar="YYYY-MM-DD", help="the day rotation counts from (default: today in Beijing)"
    )


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} must be YYYY-MM-DD, got {value!r}") from None


def run(args: argparse.Namespace) -> int:
    from newsarchive.config import setting
    from newsarchive.jekyll.export import ExportOptions, export
    from newsarchive.tables import read
    from newsarchive.tables.definitions import ARTICLES
    from newsarchive.timeparse import BEIJING

    base_url = (args.base_url if args.base_url is not None else setting("JEKYLL_BASE_URL")).rstrip("/")
    if _BAD_BASE.search(base_url):
        raise UsageError(f"--base-url must not contain spaces, quotes, brackets or parentheses: {base_url!r}")
    since, until = _day(args.since, "--since"), _day(args.until, "--until")
    if since and until and since > until:
        raise UsageError("--since is after --until")
    if args.keep_days is not None and args.keep_days < 1:
        raise UsageError("--keep-days must be at least 1")
    today = _day(args.today, "--today") or datetime.now(BEIJING).date()
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is not a directory")
    opts = ExportOptions(
        out=args.out,
        base_url=base_url,
        since=since,
        until=until,
        keep_days=args.keep_days,
        today=today,
        share_url_template=setting("FINEWS_SHARE_URL") or "",
    )
    try:
        (table,) = read.open_tables(reader_spec(args), (ARTICLES,)).values()
        result = export(table, opts)
    except read.TablesNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except (OSError, ValueError, read.TablesUnreadableError) as exc:  # unreadable tables or site
        print(f"newsarchive export-jekyll: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(json.dumps({"status": "failed", "error": str(exc)}, ensure_ascii=False))
        return EXIT_FAILED
    for line in result.actions:
        print(line, file=sys.stderr)
    for line in result.warnings + result.errors:
        print(f"warning: {line}", file=sys.stderr)
    summary = result.summary()
    summary["out"] = str(args.out)
    print(json.dumps(summary, ensure_ascii=False))
    return EXIT_OK if summary["status"] == "complete" else EXIT_FAILED
