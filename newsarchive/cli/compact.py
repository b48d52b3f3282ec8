"""Compact an archive (local or s3://): one file per partition, one row per article version.

By default the partitions of the previous --days Beijing days; --since/--until or --all to
choose. Writes the compacted files, then compactions/<id>.json naming what they replace,
then deletes the replaced parts.
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import date, timedelta

from newsarchive.cli import EXIT_FAILED, EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--archive", required=True, metavar="DIR|s3://BUCKET/PREFIX")
    parser.add_argument("--days", type=int, default=2, help="previous Beijing days to compact (default 2)")
    parser.add_argument("--since", type=date.fromisoformat, help="first partition date (YYYY-MM-DD)")
    parser.add_argument("--until", type=date.fromisoformat, help="last partition date (YYYY-MM-DD)")
    parser.add_argument("--all", action="store_true", help="every partition")
    parser.add_argument("--source", action="append", help="only these sources (repeatable)")


def run(args: argparse.Namespace) -> int:
    from newsarchive.archive.compact import CompactionCheckError, compact
    from newsarchive.storage.store import StoreError, open_store
    from newsarchive.timeparse import beijing_date, utcnow

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from newsarchive import logredact

    logredact.install()
    since, until = args.since, args.until
    if not args.all and since is None and until is None:
        today = beijing_date(utcnow())
        since, until = today - timedelta(days=args.days), today - timedelta(days=1)
    try:
        report = compact(
            open_store(args.archive),
            since=None if args.all else since,
            until=None if args.all else until,
            sources=args.source,
        )
    except (StoreError, CompactionCheckError) as exc:
        print(json.dumps({"status": "failed", "error": str(exc)}))
        return EXIT_FAILED
    out = report.to_json()
    out["files_written"] = len(report.files_written)
    out["replaces"] = len(report.replaces)
    print(json.dumps({"status": "complete", **out}))
    return EXIT_OK
