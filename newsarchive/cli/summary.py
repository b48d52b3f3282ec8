"""Summarise one committed run (the latest by default): its runs row, and what it committed.

Reads the tables of the configured catalog (--catalog, --namespace), or the embedded catalog in
--archive when none is configured. Articles are counted per media and Beijing publication day,
quarantined records per stage and reason, from the rows carrying the run's id.
Exit codes: 0 done; 1 the tables could not be read; 2 no catalog, no tables or no such run.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from typing import TYPE_CHECKING, Any

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.cli.catalogopts import add_catalog_arguments, reader_spec

if TYPE_CHECKING:
    import duckdb

ARTICLES_BY_DAY = """
    SELECT CAST(timezone('Asia/Shanghai', published_at) AS DATE) AS day,
           coalesce(media_name, '(unknown)') AS media, count(*) AS n
    FROM articles_all WHERE run_id = $run
    GROUP BY ALL ORDER BY day, media"""
QUARANTINE_BY_REASON = """
    SELECT stage, reason, count(*) AS n, any_value(detail) AS example
    FROM quarantine WHERE run_id = $run
    GROUP BY ALL ORDER BY n DESC, reason"""
RUN = """
    SELECT run_id, spider, status, finish_reason, started_at, duration_s, requests,
           articles_written, quarantined, duplicates, problems, warc_files
    FROM runs WHERE $run IS NULL OR run_id = $run
    ORDER BY started_at DESC, run_id DESC LIMIT 1"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_catalog_arguments(parser)
    parser.add_argument("--run", metavar="RUN_ID", help="this run (default: the latest in the runs table)")


def pad(text: str, width: int) -> str:
    """Left-justify counting East Asian wide characters as two columns."""
    cells = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - cells)


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, run: str | None) -> list[dict[str, Any]]:
    cur = con.execute(sql, {"run": run})
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def run(args: argparse.Namespace) -> int:
    from newsarchive.analytics.views import connect
    from newsarchive.tables import read

    try:
        spec = reader_spec(args)
        con = connect(spec)
        print(f"Tables: {spec.describe()}")
        found = _dicts(con, RUN, args.run)
        if not found:
            if args.run:
                raise UsageError(f"no run {args.run!r} in {spec.namespace}.runs")
            print("\nNo run committed yet.")
            return EXIT_OK
        r = found[0]
        articles = _dicts(con, ARTICLES_BY_DAY, r["run_id"])
        quarantine = _dicts(con, QUARANTINE_BY_REASON, r["run_id"])
    except read.TablesNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except (OSError, read.TablesUnreadableError) as exc:
        print(f"newsarchive summary: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"\nRun {r['run_id']} ({r['spider']})  {r['status']} ({r['finish_reason']})"
        f"  started {r['started_at']:%Y-%m-%d %H:%M:%S} UTC"
        f"  {float(r['duration_s'] or 0):.1f} s  {r['requests'] or 0} requests"
    )
    print(
        f"  committed: articles {r['articles_written'] or 0}, quarantined {r['quarantined'] or 0}"
        f"  (already archived, skipped: {r['duplicates'] or 0})"
    )
    for problem in r["problems"] or []:
        print(f"  problem: {problem}")
    print(f"\nArticles per media and Beijing day ({sum(a['n'] for a in articles)} rows):")
    for a in articles:
        print(f"  {a['day']}  {pad(a['media'], 24)} {a['n']:>5}")
    print(f"\nQuarantined records ({sum(q['n'] for q in quarantine)}):")
    for q in quarantine:
        print(f"  {q['stage']:<9} {q['reason']:<18} {q['n']:>4}  e.g. {q['example']}")
    warc = r["warc_files"] or []
    print(f"\nWARC files ({len(warc)}):")
    for f in warc:
        print(f"  {f['path']}  ({f['records']} records, {f['bytes']} bytes)")
    return EXIT_OK
