"""One interface over a local directory and an S3 prefix, for what is not in the tables.

The tables' files are pyiceberg's business (its FileIO, with the catalog's properties). Raw
capture (WARC files) and the health report go through a :class:`Store`, so uploads and
checks work the same on disk and in a bucket. Both stores share two rules: a final object
is never replaced (a different body under an existing key is an error), and an object is
visible under its key only when complete (local: hidden temp + hard link; S3: a PUT or a
completed multipart upload, checksummed with SHA-256 and verified with HEAD).
"""

from __future__ import annotations

from newsarchive.storage.base import ChecksumMismatchError, ObjectExistsError, ObjectInfo, Store, StoreError, b64
from newsarchive.storage.local import LocalStore
from newsarchive.storage.s3 import S3Config
from newsarchive.storage.s3store import S3Store

__all__ = [
    "ChecksumMismatchError",
    "LocalStore",
    "ObjectExistsError",
    "ObjectInfo",
    "S3Store",
    "Store",
    "StoreError",
    "b64",
    "open_store",
    "s3_store",
]


def open_store(uri: str, config: S3Config | None = None) -> Store:
    """A store for a local path or an ``s3://`` URI (tuned by the ``UPLOAD_*`` and ``S3_*``
    settings)."""
    if uri.startswith("s3://"):
        return s3_store(uri, config or S3Config())
    return LocalStore(uri)


def s3_store(uri: str, config: S3Config) -> S3Store:
    from newsarchive.config import setting

    return S3Store(
        uri,
        config,
        multipart_threshold=int(setting("UPLOAD_MULTIPART_THRESHOLD")),
        part_size=int(setting("UPLOAD_PART_SIZE")),
        max_attempts=int(setting("S3_MAX_ATTEMPTS")),
        retry_mode=str(setting("S3_RETRY_MODE")),
    )
