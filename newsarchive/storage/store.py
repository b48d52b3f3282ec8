"""One interface over a local directory and an S3 prefix, for what is not in the tables.

The tables' files are pyiceberg's business (its FileIO, with the catalog's properties). Raw
capture (WARC files) and the health report go through a :class:`Store`, so uploads and
checks work the same on disk and in a bucket. Both stores share two rules: a final object
is never replaced (a different body under an existing key is an error), and an object is
visible under its key only when complete (local: hidden temp + hard link; S3: a PUT or a
completed multipart upload, checksummed with SHA-256 and verified with HEAD).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    "StoreOptions",
    "b64",
    "open_store",
    "s3_store",
]


@dataclass(frozen=True)
class StoreOptions:
    """How an S3 store uploads and retries (the ``UPLOAD_*`` and ``S3_*`` settings): given by
    the caller, so that only the edges (CLI commands, jobs) read settings."""

    multipart_threshold: int
    part_size: int
    max_attempts: int
    retry_mode: str

    @classmethod
    def from_settings(cls, get: Callable[[str], Any]) -> StoreOptions:
        """The options of the settings ``get`` reads (``config.setting`` or a Scrapy ``Settings.get``)."""
        return cls(
            multipart_threshold=int(get("UPLOAD_MULTIPART_THRESHOLD")),
            part_size=int(get("UPLOAD_PART_SIZE")),
            max_attempts=int(get("S3_MAX_ATTEMPTS")),
            retry_mode=str(get("S3_RETRY_MODE")),
        )


def open_store(uri: str, options: StoreOptions, config: S3Config | None = None) -> Store:
    """A store for a local path or an ``s3://`` URI."""
    if uri.startswith("s3://"):
        return s3_store(uri, config or S3Config(), options)
    return LocalStore(uri)


def s3_store(uri: str, config: S3Config, options: StoreOptions) -> S3Store:
    return S3Store(
        uri,
        config,
        multipart_threshold=options.multipart_threshold,
        part_size=options.part_size,
        max_attempts=options.max_attempts,
        retry_mode=options.retry_mode,
    )
