"""Which articles the archive holds, without reading the article files.

Each run writes one small index part per source and table:
``index/articles/source=<s>/part-<run>-0.parquet`` holds (source, source_id, content_sha256,
published_at, pipeline_version) of the rows it archived; ``index/quarantine/source=<s>/…``
the fingerprints of the bad records it quarantined. Loading the index reads these parts' id
columns; compaction merges them. Workers that start empty download just these parts.

A row version is (source_id, content_sha256) plus the ``pipeline_version`` that wrote it: a
reparse with newer parsers writes the same content again under a newer version, and only an
equal or newer version makes it a duplicate. Parts written before the column existed load
with the version unknown, which counts as never older (those rows are never rewritten).

A part that cannot be read (planted, truncated, not Parquet) is skipped and named in
:attr:`ArchiveIndex.skipped` and the log: its articles look new and are fetched again (the
``articles`` view keeps one row per article), which is better than no crawl at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newsarchive.archive.files import WrittenFile, publish, sha256_file
from newsarchive.archive.layout import ARTICLES, QUARANTINE, Layout, check_source, index_dir, index_key, temp_name
from newsarchive.archive.versions import version_key
from newsarchive.schema import INDEX_SCHEMA, QUARANTINE_INDEX_SCHEMA

#: The version of an index entry written before index parts had a ``pipeline_version``.
UNKNOWN = None
#: What reading a planted or damaged Parquet file raises.
UNREADABLE = (OSError, ValueError, KeyError, pa.ArrowException)

logger = logging.getLogger(__name__)


class ArchiveIndex:
    """Archived source_ids of one source, and the newest pipeline version of each
    (source_id, content_sha256)."""

    def __init__(self, source: str, ids: set[str], versions: dict[tuple[str, str], str | None] | None = None) -> None:
        self.source = source
        self.ids = ids
        self.versions: dict[tuple[str, str], str | None] = versions if versions is not None else {}
        #: one line per part that could not be read (its path and why); it was skipped
        self.skipped: list[str] = []

    def __contains__(self, source_id: object) -> bool:
        return source_id in self.ids

    def __len__(self) -> int:
        return len(self.ids)

    def has_version(self, source_id: str, content_sha256: str, pipeline_version: str | None = None) -> bool:
        """Is this content archived (by ``pipeline_version`` or a newer one, when given)?"""
        key = (source_id, content_sha256)
        if key not in self.versions:
            return False
        known = self.versions[key]
        if pipeline_version is None or known is UNKNOWN:
            return True
        return version_key(known) >= version_key(pipeline_version)

    def add(self, source_id: str, content_sha256: str | None, pipeline_version: str | None = None) -> None:
        self.ids.add(source_id)
        if not content_sha256:
            return
        key = (source_id, content_sha256)
        if key not in self.versions:
            self.versions[key] = pipeline_version
            return
        known = self.versions[key]
        if known is not UNKNOWN and (pipeline_version is UNKNOWN or version_key(pipeline_version) > version_key(known)):
            self.versions[key] = pipeline_version

    @classmethod
    def load(cls, layout: Layout, source: str, min_version: str | None = None) -> ArchiveIndex:
        """The index of ``source``; with ``min_version``, only rows written by that pipeline
        version or a newer one (what a reparse at that version has already rebuilt)."""
        return cls.from_files(source, _parts(layout, index_dir(ARTICLES, source)), min_version)

    @classmethod
    def from_files(cls, source: str, paths: Iterable[Path], min_version: str | None = None) -> ArchiveIndex:
        index = cls(source, set(), {})
        floor = version_key(min_version) if min_version else None
        for path in paths:
            try:
                parquet = pq.ParquetFile(path)
                has_version = "pipeline_version" in parquet.schema_arrow.names
                columns = ["source_id", "content_sha256", *(["pipeline_version"] if has_version else [])]
                table = parquet.read(columns=columns)
            except UNREADABLE as exc:
                index.skipped.append(f"{path}: unreadable index part, skipped ({type(exc).__name__}: {exc})")
                logger.error("%s", index.skipped[-1])
                continue
            sids = table.column("source_id").to_pylist()
            shas = table.column("content_sha256").to_pylist()
            pvs = table.column("pipeline_version").to_pylist() if has_version else [UNKNOWN] * len(sids)
            for sid, sha, pv in zip(sids, shas, pvs, strict=True):
                if floor is not None and pv is not UNKNOWN and version_key(pv) < floor:
                    continue
                index.add(sid, sha, pv)
        return index

    @classmethod
    def rebuild(cls, layout: Layout, source: str) -> ArchiveIndex:
        """Rebuild from the article files' id columns (when index parts were lost)."""
        return cls.from_files(source, _parts(layout, f"{ARTICLES}/source={check_source(source)}"))


def _parts(layout: Layout, top: str) -> list[Path]:
    """Published parts under ``top``, never through a link."""
    return [layout.root / key for key in layout.data_files((top,))]


def load_fingerprints(layout: Layout, source: str, skipped: list[str] | None = None) -> set[str]:
    """Fingerprints of every bad record the quarantine already holds for ``source``; an
    unreadable part is skipped (its records may be quarantined again) and named in
    ``skipped`` and the log."""
    found: set[str] = set()
    for path in _parts(layout, index_dir(QUARANTINE, source)):
        try:
            values = pq.read_table(path, columns=["fingerprint"]).column(0).to_pylist()
        except UNREADABLE as exc:
            line = f"{path}: unreadable quarantine index part, skipped ({type(exc).__name__}: {exc})"
            logger.error("%s", line)
            if skipped is not None:
                skipped.append(line)
            continue
        found.update(v for v in values if v)
    return found


def write_index_part(
    layout: Layout,
    source: str,
    run_id: str,
    rows: list[dict[str, object]] | dict[str, list[object]],
    table: str = ARTICLES,
) -> WrittenFile:
    """Publish the index part of one run, source and table; ``rows`` as a list of rows or
    as columns (name → values: a run's worth of articles costs less memory that way)."""
    key = index_key(source, run_id, table)
    final = layout.path(key)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(temp_name(final.name))
    schema = INDEX_SCHEMA if table == ARTICLES else QUARANTINE_INDEX_SCHEMA
    if isinstance(rows, dict):
        table_ = pa.Table.from_pydict(rows, schema=schema)
    else:
        table_ = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table_, tmp, compression="zstd")
    digest = sha256_file(tmp)
    size = tmp.stat().st_size
    publish(tmp, final)
    return WrittenFile(key, "index", digest, size, table_.num_rows)
