"""Which articles the archive holds, without reading the article files.

Each run writes one small index part per source and table:
``index/articles/source=<s>/part-<run>-0.parquet`` holds (source, source_id, content_sha256,
published_at) of the rows it archived; ``index/quarantine/source=<s>/…`` the fingerprints
of the bad records it quarantined. Loading the index reads these parts' id columns;
compaction merges them. Workers that start empty download just these parts.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newsarchive.archive.files import WrittenFile, publish, sha256_file
from newsarchive.archive.layout import ARTICLES, QUARANTINE, Layout, check_source, index_dir, index_key, temp_name
from newsarchive.schema import INDEX_SCHEMA, QUARANTINE_INDEX_SCHEMA


class ArchiveIndex:
    """Archived (source_id) and (source_id, content_sha256) pairs of one source."""

    def __init__(self, source: str, ids: set[str], versions: set[tuple[str, str]]) -> None:
        self.source = source
        self.ids = ids
        self.versions = versions

    def __contains__(self, source_id: object) -> bool:
        return source_id in self.ids

    def __len__(self) -> int:
        return len(self.ids)

    def has_version(self, source_id: str, content_sha256: str) -> bool:
        return (source_id, content_sha256) in self.versions

    def add(self, source_id: str, content_sha256: str | None) -> None:
        self.ids.add(source_id)
        if content_sha256:
            self.versions.add((source_id, content_sha256))

    @classmethod
    def load(cls, layout: Layout, source: str) -> ArchiveIndex:
        return cls.from_files(source, _parts(layout.path(index_dir(ARTICLES, source))))

    @classmethod
    def from_files(cls, source: str, paths: Iterable[Path]) -> ArchiveIndex:
        ids: set[str] = set()
        versions: set[tuple[str, str]] = set()
        for path in paths:
            table = pq.read_table(path, columns=["source_id", "content_sha256"])
            sids = table.column("source_id").to_pylist()
            shas = table.column("content_sha256").to_pylist()
            ids.update(sids)
            versions.update((i, s) for i, s in zip(sids, shas, strict=True) if s)
        return cls(source, ids, versions)

    @classmethod
    def rebuild(cls, layout: Layout, source: str) -> ArchiveIndex:
        """Rebuild from the article files' id columns (when index parts were lost)."""
        base = layout.root / ARTICLES / f"source={check_source(source)}"
        return cls.from_files(source, _parts(base))


def _parts(base: Path) -> list[Path]:
    if not base.is_dir():
        return []
    return sorted(p for p in base.rglob("part-*.parquet") if not p.name.startswith("."))


def load_fingerprints(layout: Layout, source: str) -> set[str]:
    """Fingerprints of every bad record the quarantine already holds for ``source``."""
    found: set[str] = set()
    for path in _parts(layout.path(index_dir(QUARANTINE, source))):
        found.update(v for v in pq.read_table(path, columns=["fingerprint"]).column(0).to_pylist() if v)
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
