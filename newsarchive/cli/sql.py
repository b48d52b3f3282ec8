"""Run SQL over the archive (local or s3://) with DuckDB: views articles, articles_all, quarantine, runs.

  articles      one row per article (source, source_id): its latest fetch, newest parser
  articles_all  every version of every article, as written
  quarantine    every record that failed, with its reason
  runs          one row per run manifest: status, duration, requests, counts

The archive is a local archive directory, a directory of archives (the staging directory,
one per spider), or s3://BUCKET/PREFIX (endpoint and keys from AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). Timestamps print in UTC. Columns: docs/schema.md;
examples: docs/analytics.md.

Exit codes: 0 the query ran; 1 the archive could not be read; 2 bad SQL or arguments.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.config import setting


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="SQL (DuckDB dialect); '-' reads it from standard input")
    parser.add_argument(
        "--archive",
        default=None,
        metavar="DIR|s3://BUCKET/PREFIX",
        help="archive to query (default: ARCHIVE_URI, i.e. ./archive)",
    )
    parser.add_argument("--format", choices=("table", "csv", "json", "jsonl"), default="table")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the result to FILE (.parquet, .csv, .json)")
    parser.add_argument("--max-width", type=int, default=60, help="cut table cells to this many columns")


def uses_runs(sql: str) -> bool:
    """Manifests are read only when the query can need them (one GET each in a bucket)."""
    return re.search(r"\bruns\b", sql, re.IGNORECASE) is not None


def run(args: argparse.Namespace) -> int:
    import duckdb

    from newsarchive.analytics import output
    from newsarchive.analytics.roots import ArchiveNotFoundError
    from newsarchive.analytics.views import connect
    from newsarchive.storage.base import StoreError

    sql = sys.stdin.read() if args.query == "-" else args.query
    if not sql.strip():
        raise UsageError("empty query")
    archive = args.archive or str(setting("ARCHIVE_URI"))
    try:
        con = connect(archive, runs=uses_runs(sql))
    except ArchiveNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except (OSError, StoreError) as exc:
        print(f"newsarchive sql: cannot read {archive}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        relation = con.sql(sql)
        table = relation.to_arrow_table() if relation is not None else None
    except duckdb.IOException as exc:
        print(f"newsarchive sql: cannot read {archive}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except duckdb.Error as exc:  # parser, binder, catalog, conversion...: the query is wrong
        raise UsageError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    if table is None:
        return EXIT_OK
    if args.out:
        try:
            fmt = output.write_file(table, args.out)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        print(f"{table.num_rows} rows written to {args.out} ({fmt})", file=sys.stderr)
        return EXIT_OK
    output.write(table, args.format, sys.stdout, args.max_width)
    return EXIT_OK
