"""What arrived since a snapshot: the rows the runs committed after it, never a compaction's.

  newsarchive changes --since SNAPSHOT_ID            rows committed after that snapshot
  newsarchive changes --since-time 2026-12-01T00:00Z rows committed after that time
  newsarchive changes --since-run RUN_ID             rows committed after that run's commit
  newsarchive changes --all                          every run's rows, from the first snapshot

The rows go to standard output (--format jsonl, the default, or csv) or to --out FILE
(.parquet, .csv, .jsonl; --format parquet needs --out). One JSON line says what was read:
``{"table", "since", "until", "snapshots", "run_ids", "rows", "files"}``; ``until`` is the
table's current snapshot when the read was planned: store it and pass it as --since next time,
and every committed run's rows are handed out exactly once. That line goes to standard error,
or to standard output when the rows go to --out.

Exit codes: 0 read; 1 the tables could not be read, or the snapshot is no longer in the
table's history (expired by ``newsarchive compact``: read the table in full once, e.g. with
``newsarchive sql``, and store the current snapshot); 2 bad arguments or no tables there.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.cli.catalogopts import add_catalog_arguments, reader_spec
from newsarchive.tables.definitions import TABLES

FORMATS = ("jsonl", "csv", "parquet")
_BY_SUFFIX = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    since = parser.add_mutually_exclusive_group(required=True)
    since.add_argument("--since", type=int, metavar="SNAPSHOT_ID", help="rows committed after this snapshot")
    since.add_argument(
        "--since-time", metavar="TIME", help="rows committed after this time (ISO 8601; no zone means UTC)"
    )
    since.add_argument("--since-run", metavar="RUN_ID", help="rows committed after this run's commit to the table")
    since.add_argument("--all", action="store_true", help="every run's rows since the table's first snapshot")
    parser.add_argument("--table", choices=sorted(TABLES), default="articles", help="the table (default articles)")
    parser.add_argument("--columns", metavar="A,B", help="only these columns (comma-separated)")
    add_catalog_arguments(parser)
    parser.add_argument("--format", choices=FORMATS, default=None, help="jsonl (default), csv, parquet (with --out)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the rows to FILE")


def run(args: argparse.Namespace) -> int:
    from newsarchive.tables import incremental, read

    fmt = _format(args)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    try:
        spec = reader_spec(args)
        table = read.open_tables(spec, [args.table])[args.table]
    except read.TablesNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except (OSError, read.TablesUnreadableError) as exc:
        print(f"newsarchive changes: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.since_time:
            changes = incremental.since_time(table, _time(args.since_time))
        elif args.since_run:
            changes = incremental.since_run(table, args.since_run)
        else:
            changes = incremental.since_snapshot(table, None if args.all else args.since)
        rows = changes.read(columns)
    except incremental.SnapshotExpiredError as exc:
        print(json.dumps({"status": "snapshot_expired", "error": str(exc)}, ensure_ascii=False), file=sys.stderr)
        return EXIT_FAILED
    except ValueError as exc:  # an unknown column
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        print(f"newsarchive changes: cannot read {spec.describe()}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    summary = {
        "status": "complete",
        "table": f"{spec.namespace}.{args.table}",
        "since": changes.since,
        "until": changes.until,
        "snapshots": [s for s, _ in changes.snapshots],
        "run_ids": changes.run_ids,
        "rows": rows.num_rows,
        "files": len(changes.files),
    }
    if args.out:
        _write_file(rows, fmt, args.out)
        print(json.dumps(summary, ensure_ascii=False))
    else:
        from newsarchive.analytics import output

        output.write(rows, fmt, sys.stdout)
        sys.stdout.flush()
        print(json.dumps(summary, ensure_ascii=False), file=sys.stderr)
    return EXIT_OK


def _format(args: argparse.Namespace) -> str:
    if args.format:
        fmt = str(args.format)
    elif args.out:
        fmt = _BY_SUFFIX.get(args.out.suffix.lower(), "")
        if not fmt:
            raise UsageError(f"--out {args.out}: give --format, or a name ending {', '.join(_BY_SUFFIX)}")
    else:
        fmt = "jsonl"
    if fmt == "parquet" and not args.out:
        raise UsageError("--format parquet needs --out FILE")
    return fmt


def _time(text: str) -> datetime:
    from datetime import UTC

    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError as exc:
        raise UsageError(f"--since-time {text!r}: not an ISO 8601 time ({exc})") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _write_file(rows: object, fmt: str, path: Path) -> None:
    """``rows`` to ``path`` in ``fmt``, whole or not at all (a temporary name, then a rename)."""
    import pyarrow as pa

    from newsarchive.analytics import output

    assert isinstance(rows, pa.Table)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(rows, tmp, compression="zstd")
    else:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            output.write(rows, fmt, fh)
    tmp.replace(path)
