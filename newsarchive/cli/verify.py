"""Check the tables' current snapshots against the object store, and the runs' WARC files.

Every data file of the current snapshot of each table must be there with its recorded size
(--deep: and a readable footer with its recorded row count); every WARC file a `runs` row
lists must be under --warc (default: WARC_URI if set, else <ARCHIVE_URI>/warc) with its
size (--deep: and its SHA-256). Files in a table's location that no snapshot references are
named ("unreferenced: ..."), not counted as problems. One line per problem, then a JSON
summary. Exit 0 if all is well, 1 if something is missing or corrupt, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import time

from newsarchive.cli import EXIT_FAILED, EXIT_OK
from newsarchive.cli.catalogopts import add_catalog_arguments, open_catalog
from newsarchive.cli.console import Meter, say, seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_catalog_arguments(parser)
    parser.add_argument("--deep", action="store_true", help="read every footer and hash every WARC file")
    parser.add_argument("--warc", metavar="DIR|s3://BUCKET/PREFIX", help="where the WARC files are")
    parser.add_argument("--no-warc", action="store_true", help="do not check WARC files")


def warc_location(args: argparse.Namespace) -> str | None:
    from newsarchive.cli import UsageError
    from newsarchive.config import setting
    from newsarchive.tables.catalog import local_root

    if args.no_warc:
        return None
    if args.warc:
        return str(args.warc)
    if setting("WARC_URI"):
        return str(setting("WARC_URI"))
    try:
        return str(local_root(args.archive or str(setting("ARCHIVE_URI"))) / "warc")
    except ValueError as exc:  # --archive is the local working directory, never a bucket
        raise UsageError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    from newsarchive.storage.s3 import parse_s3_uri
    from newsarchive.tables.verify import verify

    warc = warc_location(args)
    if warc and warc.startswith("s3://"):
        parse_s3_uri(warc)  # an invalid URI is bad usage (exit 2), before any request
    started = time.monotonic()
    catalog, spec = open_catalog(args)
    checked = 0

    def on_file(uri: str) -> None:
        nonlocal checked
        checked += 1
        meter.update(detail=f"{checked} files checked")

    try:
        with Meter("verify --deep" if args.deep else "verify") as meter:
            report = verify(catalog, spec.namespace, warc=warc, deep=args.deep, on_file=on_file)
    except OSError as exc:
        say(f"verify: failed: {exc}")
        print(json.dumps({"status": "failed", "catalog": spec.describe(), "error": str(exc)}, ensure_ascii=False))
        return EXIT_FAILED
    for problem in report.problems:
        print(problem)
    for uri in report.unreferenced:
        print(f"unreferenced: {uri}")
    data_files = sum(int(t.get("data_files", 0)) for t in report.tables.values())
    say(
        f"verify{' --deep' if args.deep else ''}: {'ok' if report.ok else 'FAILED'}, {data_files} data files and "
        f"{report.warc_files} WARC files checked, {len(report.problems)} problems, "
        f"{len(report.unreferenced)} unreferenced files, {seconds(time.monotonic() - started)}"
    )
    print(json.dumps({**report.summary(), "catalog": spec.describe(), "warc": warc}, ensure_ascii=False))
    return EXIT_OK if report.ok else EXIT_FAILED
