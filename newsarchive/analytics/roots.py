"""Which archives an ``--archive`` argument names.

A local archive directory, ``file://`` URI or ``s3://bucket/prefix`` is one archive. A
local directory that is not an archive itself but holds archives one level down (the
Airflow staging directory and ``make demo``'s ``./archive`` keep one per spider) names all of
them, so one command reads what every spider wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from newsarchive.archive.layout import ARTICLES, QUARANTINE, RUNS

if TYPE_CHECKING:
    from newsarchive.storage.s3 import S3Config

_MARKERS = (ARTICLES, QUARANTINE, RUNS)


class ArchiveNotFoundError(ValueError):
    """The argument names no archive: a usage error, reported with what was looked for."""


def is_archive(path: Path) -> bool:
    return any((path / name).is_dir() for name in _MARKERS)


def archive_roots(uri: str) -> list[str]:
    """Absolute local paths or ``s3://bucket/prefix`` URIs, one per archive."""
    if uri.startswith("s3://"):
        from newsarchive.storage.s3 import format_s3_uri, parse_s3_uri

        if not uri[len("s3://") :].strip("/"):
            raise ArchiveNotFoundError(f"{uri!r}: name a bucket (s3://BUCKET[/PREFIX])")
        return [format_s3_uri(*parse_s3_uri(uri))]
    if "://" in uri and not uri.startswith("file://"):
        raise ArchiveNotFoundError(f"{uri!r}: an archive is a local directory, file:// or s3:// URI")
    path = Path(uri.removeprefix("file://")).expanduser().resolve()
    if not path.is_dir():
        raise ArchiveNotFoundError(f"{uri}: no such directory")
    if is_archive(path):
        return [str(path)]
    found = sorted(str(p) for p in path.iterdir() if p.is_dir() and is_archive(p))
    if not found:
        raise ArchiveNotFoundError(
            f"{uri}: not an archive (no {', '.join(d + '/' for d in _MARKERS)} in it or in its sub-directories)"
        )
    return found


def check_bucket_archive(uri: str, s3: S3Config | None = None) -> None:
    """An ``s3://`` archive must exist: a misspelt bucket or prefix is an error, not an
    empty result (pyarrow lists a missing prefix as empty). Raises StoreError when the
    bucket cannot be read, ArchiveNotFoundError when nothing of an archive is there."""
    from newsarchive.storage.store import open_store

    store = open_store(uri, s3)
    if not any(next(iter(store.objects(f"{name}/")), None) for name in _MARKERS):
        raise ArchiveNotFoundError(f"{uri}: not an archive (no {', '.join(d + '/' for d in _MARKERS)} under it)")
