"""Run SQL over the archive's Iceberg tables with DuckDB: views articles, articles_all, quarantine, runs.

  articles      one row per article (source, source_id): its latest fetch, newest parser
  articles_all  every version of every article, as committed
  quarantine    every record that failed, with its reason
  runs          one row per committed run: status, duration, requests, counts, WARC files

The tables are those of the catalog ICEBERG_CATALOG (--catalog) in namespace ICEBERG_NAMESPACE
(--namespace), configured the pyiceberg way (PYICEBERG_CATALOG__<NAME>__URI, ... or
.pyiceberg.yaml); with no such configuration, the embedded catalog in --archive (ARCHIVE_URI,
./archive: catalog.db). Timestamps print in UTC. With --engine duckdb-iceberg (a REST catalog
only) DuckDB's own Iceberg reader attaches the catalog and reads the files itself instead of
pyiceberg (the packaged duckdb-extension-* of site-packages; nothing is downloaded). Columns: docs/schema.md; examples:
docs/analytics.md.

Exit codes: 0 the query ran; 1 the tables could not be read; 2 bad SQL or arguments (no catalog
or no tables where they were looked for).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.cli.catalogopts import add_catalog_arguments, reader_spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="SQL (DuckDB dialect); '-' reads it from standard input")
    add_catalog_arguments(parser)
    parser.add_argument(
        "--engine",
        choices=("pyiceberg", "duckdb-iceberg"),
        default="pyiceberg",
        help="who reads the tables: pyiceberg (any catalog) or DuckDB's Iceberg reader (a REST catalog)",
    )
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json", "jsonl"),
        default="table",
        help="how the result is printed on stdout (default: table)",
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the result to FILE (.parquet, .csv, .json)")
    parser.add_argument(
        "--max-width", type=int, default=60, metavar="N", help="cut table cells to N characters (default: 60)"
    )


def run(args: argparse.Namespace) -> int:
    import duckdb

    from newsarchive.analytics import duckdb_iceberg, output
    from newsarchive.analytics.views import connect, tables_in
    from newsarchive.tables import read

    sql = sys.stdin.read() if args.query == "-" else args.query
    if not sql.strip():
        raise UsageError("empty query")
    try:
        spec = reader_spec(args)
        if args.engine == "duckdb-iceberg" and (spec.embedded or spec.properties.get("type", "rest") != "rest"):
            raise UsageError(f"--engine duckdb-iceberg reads a REST catalog; this is the {spec.describe()}")
        con = duckdb_iceberg.connect(spec) if args.engine == "duckdb-iceberg" else connect(spec, only=tables_in(sql))
    except read.TablesNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except duckdb_iceberg.EngineUnavailableError as exc:  # credentials masked
        print(f"newsarchive sql: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (OSError, read.TablesUnreadableError) as exc:
        print(f"newsarchive sql: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        relation = con.sql(sql)
        table = relation.to_arrow_table() if relation is not None else None
    except duckdb.IOException as exc:
        print(f"newsarchive sql: cannot read {spec.describe()}: {exc}", file=sys.stderr)
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
