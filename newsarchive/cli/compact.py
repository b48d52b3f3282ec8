"""Maintain the tables: compact small files, expire old snapshots, remove orphan files.

With no option, every partition of every table (articles, quarantine, runs) of the
configured catalog and namespace; --table and --source narrow it. Prints one JSON line per
table (files, rows and bytes before and after, or "nothing_to_do" with the reason). Each
table's compaction is one atomic commit: readers see the table before or after it.
"""

from __future__ import annotations

import argparse
import json
import logging

from newsarchive.cli import EXIT_FAILED, EXIT_OK
from newsarchive.tables.definitions import TABLES


def add_catalog_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that name the tables (the readers' own: ``--archive``, ``--catalog``, ``--namespace``)."""
    from newsarchive.tables.read import add_arguments as add_reader_arguments

    add_reader_arguments(parser)


def open_catalog(args: argparse.Namespace, *, create: bool = False):  # type: ignore[no-untyped-def]
    """(catalog, spec) named by the options, else by the settings. Only ``create`` (migrate)
    may make an embedded catalog where there is none; the others say none is there."""
    from newsarchive.cli import UsageError
    from newsarchive.config import setting
    from newsarchive.tables.catalog import resolve
    from newsarchive.tables.read import TablesNotFoundError, spec_from_args

    try:
        if create:
            spec = resolve(
                args.archive or str(setting("ARCHIVE_URI")),
                args.catalog or str(setting("ICEBERG_CATALOG")),
                args.namespace or str(setting("ICEBERG_NAMESPACE")),
            )
        else:
            spec = spec_from_args(args)
    except (ValueError, TablesNotFoundError) as exc:  # --archive is a local directory, never a bucket
        raise UsageError(str(exc)) from exc
    return spec.open(), spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_catalog_arguments(parser)
    parser.add_argument("--table", action="append", choices=sorted(TABLES), help="only this table (repeatable)")
    parser.add_argument("--source", action="append", help="only this source's partitions (repeatable)")


def run(args: argparse.Namespace) -> int:
    from pyiceberg.exceptions import NoSuchTableError

    from newsarchive import logredact
    from newsarchive.config import setting
    from newsarchive.tables.commit import CommitError
    from newsarchive.tables.maintain import Options, maintain

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logredact.install()
    catalog, spec = open_catalog(args)
    try:
        reports = maintain(
            catalog,
            spec.namespace,
            tables=args.table,
            sources=args.source,
            options=Options.from_settings(setting),
        )
    except (CommitError, NoSuchTableError, OSError) as exc:
        print(json.dumps({"status": "failed", "catalog": spec.describe(), "error": str(exc)}, ensure_ascii=False))
        return EXIT_FAILED
    for report in reports:
        print(json.dumps({"status": "complete", **report.to_json()}, ensure_ascii=False))
    return EXIT_OK
