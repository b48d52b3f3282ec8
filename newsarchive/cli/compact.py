"""Maintain the tables: compact small files, expire old snapshots, remove orphan files.

With no option, every partition of every table (articles, quarantine, runs) of the
configured catalog and namespace; --table and --source narrow it. Prints one JSON line per
table (files, rows and bytes before and after, or "nothing_to_do" with the reason). Each
table's compaction is one atomic commit: readers see the table before or after it.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING

from newsarchive.cli import EXIT_FAILED, EXIT_OK
from newsarchive.cli.catalogopts import add_catalog_arguments, open_catalog
from newsarchive.cli.console import Meter, say, seconds
from newsarchive.tables.definitions import TABLES

if TYPE_CHECKING:
    from newsarchive.tables.maintain import TableReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_catalog_arguments(parser)
    parser.add_argument("--table", action="append", choices=sorted(TABLES), help="only this table (repeatable)")
    parser.add_argument("--source", action="append", help="only this source's partitions (repeatable)")


def run(args: argparse.Namespace) -> int:
    from pyiceberg.exceptions import NoSuchTableError

    from newsarchive.config import setting
    from newsarchive.tables.commit import CommitError
    from newsarchive.tables.maintain import Options, maintain

    started = time.monotonic()
    catalog, spec = open_catalog(args)
    names = args.table or list(TABLES)
    reports: list[TableReport] = []
    options = Options.from_settings(setting)
    try:
        with Meter("compact", total=len(names)) as meter:
            for name in names:  # one table at a time: the progress line names it
                meter.update(detail=name)
                reports += maintain(catalog, spec.namespace, tables=[name], sources=args.source, options=options)
                meter.advance()
    except (CommitError, NoSuchTableError, OSError) as exc:
        say(f"compact: failed: {exc}")
        print(json.dumps({"status": "failed", "catalog": spec.describe(), "error": str(exc)}, ensure_ascii=False))
        return EXIT_FAILED
    say(summary_line(reports, time.monotonic() - started))
    for report in reports:
        print(json.dumps({"status": "complete", **report.to_json()}, ensure_ascii=False))
    return EXIT_OK


def summary_line(reports: list[TableReport], elapsed: float) -> str:
    """What the pass did in one line, or why it had nothing to do (each table's reason)."""
    done = [r for r in reports if not r.nothing_to_do]
    tidy = sum(r.snapshots_expired for r in reports), sum(len(r.orphans_removed) for r in reports)
    extra = f"; {tidy[0]} snapshots expired, {tidy[1]} orphan files removed" if any(tidy) else ""
    if not done:
        reasons = "; ".join(f"{r.table}: {r.nothing_to_do}" for r in reports)
        return f"compact: nothing to compact ({reasons}){extra}, {seconds(elapsed)}"
    parts = [
        f"{r.table} {r.partitions} partitions, {r.files_before} → {r.files_after} files, {r.rows} rows" for r in done
    ]
    return f"compact: {'; '.join(parts)}{extra}, {seconds(elapsed)}"
