"""Upload a crawl's WARC files to s3://BUCKET/PREFIX (raw capture; the tables need no upload).

A crawl commits its rows to the Iceberg catalog itself. What stays in its working directory
is raw capture: ``<DIR>/warc/<rest>.warc.gz`` goes to ``<PREFIX>/<rest>.warc.gz`` (default
destination: the setting WARC_URI), a plain bucket, never the catalog's table bucket. Each
file is sent with its SHA-256 (the server refuses a mismatch), checked by HEAD afterwards,
and skipped when already there with that SHA-256, so a second upload adds nothing; an object
with other content under its key is an error, never overwritten. Credentials and endpoint
come from the standard AWS chain (AWS_ENDPOINT_URL, AWS_PROFILE, AWS_ACCESS_KEY_ID/...).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.cli.console import Meter, say, seconds
from newsarchive.config import setting


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--archive", default=None, help="the crawl's working directory (default: ARCHIVE_URI)")
    parser.add_argument("--to", default=None, metavar="s3://BUCKET/PREFIX", help="destination (default: WARC_URI)")
    parser.add_argument(
        "--prune", action="store_true", help="delete each WARC file locally once the bucket holds it (verified)"
    )


def run(args: argparse.Namespace) -> int:
    from newsarchive.storage.s3 import S3Config
    from newsarchive.storage.store import StoreError, StoreOptions, s3_store
    from newsarchive.storage.upload import check_not_table_bucket, upload_warc, warc_files
    from newsarchive.tables.catalog import configured, local_root

    started = time.monotonic()
    to = str(args.to or setting("WARC_URI") or "")
    if not to:
        raise UsageError("no destination: give --to s3://BUCKET/PREFIX or set WARC_URI")
    if not to.startswith("s3://"):
        raise UsageError("--to (WARC_URI) must be an s3://BUCKET/PREFIX URI")
    try:
        root: Path = local_root(str(args.archive or setting("ARCHIVE_URI")))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    try:
        check_not_table_bucket(to, configured(str(setting("ICEBERG_CATALOG"))))
    except StoreError as exc:
        raise UsageError(str(exc)) from exc
    files, _ = warc_files(root)
    total = sum((root / key).stat().st_size for key in files)
    done = 0

    def uploaded(key: str, size: int) -> None:
        nonlocal done
        done += size
        meter.advance(detail=f"{size_text(done)} of {size_text(total)}")

    try:
        with Meter(f"upload to {to}", total=len(files)) as meter:
            report = upload_warc(
                root, s3_store(to, S3Config(), StoreOptions.from_settings(setting)), prune=args.prune, on_file=uploaded
            )
    except StoreError as exc:
        say(f"upload: failed: {exc}")
        print(json.dumps({"status": "failed", "error": str(exc)}))
        return EXIT_FAILED
    elapsed = seconds(time.monotonic() - started)
    if not files:
        say(f"upload: nothing to upload: no WARC files under {root / 'warc'}")
    elif not report.files_uploaded:
        say(f"upload: nothing to upload: all {report.files_present} WARC files are in {to} already, {elapsed}")
    else:
        say(
            f"upload: {report.files_uploaded} files ({size_text(report.bytes_uploaded)}) to {to}, "
            f"{report.files_present} already there"
            + (f", {report.files_pruned} pruned" if args.prune else "")
            + f", {elapsed}"
        )
    print(json.dumps({"status": "complete", "to": to, **report.to_json()}))
    return EXIT_OK


def size_text(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
