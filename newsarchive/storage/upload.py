"""Upload a crawl's raw capture (its WARC files) to a plain bucket prefix.

The tables are committed by the crawl itself; what stays on the worker is raw capture:
``<ARCHIVE_URI>/warc/<rest>`` goes to ``<WARC_URI>/<rest>`` (the row column ``warc_filename``
keeps ``warc/<rest>``). Each file is sent with its SHA-256 (the server refuses a mismatch),
checked by HEAD, and skipped when the bucket already holds it with that SHA-256, so a second
upload adds nothing; an object with other content under the key is an error, never
replaced. Only complete files are sent (``*.warc.gz``; a file being written has a hidden
name), and a symbolic link in the working directory is never followed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsarchive.storage.base import Store, StoreError, sha256_file
from newsarchive.storage.local import walk
from newsarchive.storage.s3 import parse_s3_uri

logger = logging.getLogger(__name__)

WARC_DIR = "warc"
WARC_SUFFIX = ".warc.gz"
#: Multipart uploads started this long ago are dead (a live one finishes in minutes).
STALE_MULTIPART_S = 6 * 3600


@dataclass
class UploadReport:
    files_uploaded: int = 0
    files_present: int = 0
    bytes_uploaded: int = 0
    #: files deleted locally once the bucket held them (``prune``)
    files_pruned: int = 0
    #: symbolic links found under ``warc/``: neither followed nor uploaded
    links_skipped: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def warc_files(root: Path) -> tuple[list[str], list[str]]:
    """(keys under ``warc/`` of the complete WARC files, the links found there)."""
    files: list[str] = []
    links: list[str] = []
    if not (root / WARC_DIR).exists() and not (root / WARC_DIR).is_symlink():
        return files, links
    for key, link in walk(root, WARC_DIR):
        if link:
            links.append(key)
        elif key.endswith(WARC_SUFFIX) and not any(p.startswith(".") for p in key.split("/")):
            files.append(key)
    return sorted(files), sorted(links)


def upload_warc(
    root: Path, store: Store, *, prune: bool = False, on_file: Callable[[str, int], None] | None = None
) -> UploadReport:
    """Upload every WARC file under ``root/warc`` that ``store`` lacks; with ``prune``, delete
    each local file once the bucket holds it with its SHA-256. ``on_file(key, bytes)`` is
    called after each file (the CLI's progress line)."""
    from newsarchive.storage.s3store import S3Store

    report = UploadReport()
    if isinstance(store, S3Store):  # multipart uploads left by a killed upload hold storage
        aborted = store.abort_stale_uploads(older_than_s=STALE_MULTIPART_S)
        if aborted:
            logger.warning("Aborted %d stale multipart uploads: %s", len(aborted), aborted)
    files, links = warc_files(root)
    for key in links:
        logger.error("Not uploading %s: a symbolic link in %s, never followed", key, root)
    report.links_skipped = links
    for key in files:
        path = root / key
        size = path.stat().st_size
        if store.put_file(path, key[len(WARC_DIR) + 1 :], sha256_file(path)):
            report.files_uploaded += 1
            report.bytes_uploaded += size
        else:
            report.files_present += 1
        if prune:
            path.unlink()
            report.files_pruned += 1
        if on_file is not None:
            on_file(key, size)
    logger.info(
        "WARC upload from %s to %s: %d uploaded (%d bytes), %d already there",
        root,
        store.uri,
        report.files_uploaded,
        report.bytes_uploaded,
        report.files_present,
    )
    return report


def warehouse_bucket(properties: Mapping[str, Any]) -> str | None:
    """The bucket a catalog keeps its tables in, when its warehouse names one."""
    warehouse = str(properties.get("warehouse") or "")
    if warehouse.startswith(("s3://", "s3a://")):
        return warehouse.split("://", 1)[1].split("/", 1)[0] or None
    if warehouse.startswith("arn:aws:s3tables:") and ":bucket/" in warehouse:
        return warehouse.rsplit(":bucket/", 1)[1].split("/", 1)[0] or None
    return None


def check_not_table_bucket(warc_uri: str, properties: Mapping[str, Any] | None) -> None:
    """Refuse a WARC destination in the catalog's own bucket: a table bucket (SeaweedFS's,
    S3 Tables) holds Iceberg layouts only, and WARC files kept there would be the catalog's
    orphans."""
    bucket, _ = parse_s3_uri(warc_uri)
    if properties and warehouse_bucket(properties) == bucket:
        raise StoreError(
            f"WARC_URI {warc_uri!r} is in the catalog's warehouse bucket {bucket!r}: "
            "WARC files go to a plain bucket, never into a table bucket"
        )
