"""Download the archive index (small per-run id lists) from a bucket into a local archive.

Lets a worker that starts empty crawl incrementally: the spider skips every article the
bucket already holds.
"""

from __future__ import annotations

import argparse
import json

from newsarchive.cli import EXIT_FAILED, EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source_uri", required=True, metavar="s3://BUCKET/PREFIX")
    parser.add_argument("--archive", default="./archive", help="local archive directory")
    parser.add_argument("--source", action="append", help="only these sources (repeatable)")


def run(args: argparse.Namespace) -> int:
    from newsarchive.archive.layout import Layout
    from newsarchive.storage.store import StoreError, open_store
    from newsarchive.storage.sync import pull_index

    try:
        pulled = pull_index(open_store(args.source_uri), Layout.from_uri(args.archive), args.source)
    except StoreError as exc:
        print(json.dumps({"status": "failed", "error": str(exc)}))
        return EXIT_FAILED
    print(json.dumps({"status": "complete", "index_parts_pulled": pulled}))
    return EXIT_OK
