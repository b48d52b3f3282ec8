"""Upload a local archive to s3://BUCKET/PREFIX, run by run, manifest last.

Only runs whose manifest is not yet in the bucket are sent (or just --run). Each object is
keyed as in the local layout, sent with its SHA-256 (the server refuses a mismatch), checked
by HEAD afterwards, and skipped when already present, so a second upload adds nothing.
Credentials and endpoint come from the standard AWS chain (AWS_ENDPOINT_URL, AWS_PROFILE,
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ...).
"""

from __future__ import annotations

import argparse
import json
import logging

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--archive", default="./archive", help="local archive directory")
    parser.add_argument("--to", required=True, metavar="s3://BUCKET/PREFIX", help="destination")
    parser.add_argument("--run", metavar="RUN_ID", help="upload only this run")
    parser.add_argument(
        "--prune",
        action="store_true",
        help="delete each run's data files locally once uploaded (keeps manifests and index)",
    )


def run(args: argparse.Namespace) -> int:
    from newsarchive.archive.layout import Layout
    from newsarchive.storage.store import StoreError, s3_store
    from newsarchive.storage.sync import upload_archive

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from newsarchive import logredact

    logredact.install()
    if not args.to.startswith("s3://"):
        raise UsageError("--to must be an s3://BUCKET/PREFIX URI")
    from newsarchive.storage.s3 import S3Config

    store = s3_store(args.to, S3Config())
    try:
        report = upload_archive(Layout.from_uri(args.archive), store, args.run, prune=args.prune)
    except StoreError as exc:
        print(json.dumps({"status": "failed", "error": str(exc)}))
        return EXIT_FAILED
    print(json.dumps({"status": "complete", **report.to_json()}))
    return EXIT_OK
