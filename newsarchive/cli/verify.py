"""Check that every file each manifest names is there with its SHA-256.

Works on a local archive or s3://BUCKET/PREFIX. --deep downloads and hashes every object
instead of trusting the SHA-256 recorded with it. Also reported: data files no manifest
names (unlisted, and whether their Parquet can be read), unreadable index parts and
manifests, and in a local archive every symbolic link (never followed). Exit code 1 if
anything is wrong, one line per problem; 2 for an invalid s3:// URI (no request made).
"""

from __future__ import annotations

import argparse
import json

from newsarchive.cli import EXIT_FAILED, EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--archive", required=True, metavar="DIR|s3://BUCKET/PREFIX")
    parser.add_argument("--deep", action="store_true", help="download and hash every object")


def run(args: argparse.Namespace) -> int:
    from newsarchive.storage.store import StoreError, open_store
    from newsarchive.storage.verify import verify_store

    try:
        report = verify_store(open_store(args.archive), deep=args.deep)
    except StoreError as exc:
        print(json.dumps({"status": "failed", "error": str(exc)}))
        return EXIT_FAILED
    for problem in report.problems:
        print(problem)
    print(
        json.dumps(
            {
                "status": "ok" if report.ok else "failed",
                "runs": report.runs,
                "compactions": report.compactions,
                "files_checked": report.files_checked,
                "files_replaced_by_compaction": report.files_replaced,
                "problems": len(report.problems),
            }
        )
    )
    return EXIT_OK if report.ok else EXIT_FAILED
