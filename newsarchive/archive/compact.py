"""Compaction: many small run files of a partition become one, without losing a version.

For each partition (table, source, date) with more than one file, and for each source's
index parts:

1. read every part (older schema versions are cast to the current one);
2. articles: rows with the same (source, source_id, content_sha256) collapse to the most
   recent (by ``fetched_at``, then the newest ``pipeline_version``); an article whose content
   changed keeps each version. Quarantine rows are events: all are kept. The check: the
   distinct (source, source_id, content_sha256) before equal the rows after;
3. write the compacted file (``part-<compaction_id>-0.parquet``);
4. when every partition is written, write ``compactions/<compaction_id>.json`` naming the
   files written and every part they replace;
5. only then delete the replaced parts.

S3 has no atomic rename: between steps 3 and 5 a reader may see a row twice, and readers
deduplicate (docs/analytics.md). No manifest ever names a file that is gone without a
compaction manifest naming its replacement.
"""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from newsarchive.archive.files import sha256_file
from newsarchive.archive.layout import (
    ARTICLES,
    COMPACTIONS,
    INDEX,
    INDEX_RE,
    PARTITION_RE,
    QUARANTINE,
    part_name,
    run_id_of,
)
from newsarchive.archive.recovery import COMPACTION_PREFIX
from newsarchive.archive.versions import current, superseded
from newsarchive.config import setting
from newsarchive.schema import ARTICLE_SCHEMA, INDEX_SCHEMA, QUARANTINE_INDEX_SCHEMA, QUARANTINE_SCHEMA
from newsarchive.storage.store import Store
from newsarchive.timeparse import utcnow

logger = logging.getLogger(__name__)
SCHEMAS = {
    ARTICLES: ARTICLE_SCHEMA,
    QUARANTINE: QUARANTINE_SCHEMA,
    f"{INDEX}/{ARTICLES}": INDEX_SCHEMA,
    f"{INDEX}/{QUARANTINE}": QUARANTINE_INDEX_SCHEMA,
}
#: What makes two rows the same thing, per table (None: rows are events, all kept).
IDENTITY: dict[str, tuple[str, ...] | None] = {
    ARTICLES: ("source", "source_id", "content_sha256"),
    QUARANTINE: None,
    f"{INDEX}/{ARTICLES}": ("source", "source_id", "content_sha256"),
    f"{INDEX}/{QUARANTINE}": ("source", "fingerprint"),
}


class CompactionCheckError(RuntimeError):
    """The compacted rows do not match the rows they replace; nothing was deleted."""


@dataclass
class CompactionReport:
    compaction_id: str
    partitions: int = 0
    #: rows dropped because a reparse of the same fetch by a newer pipeline version exists
    superseded: int = 0
    rows_before: int = 0
    rows_after: int = 0
    files_written: list[dict[str, Any]] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def new_compaction_id() -> str:
    return f"{COMPACTION_PREFIX}{utcnow().strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


def _read(paths: list[Path], schema: pa.Schema) -> pa.Table:
    """Read parts written under any schema version as the current schema."""
    tables = []
    for path in paths:
        table = pq.read_table(path)
        for fld in schema:
            if fld.name not in table.column_names:
                table = table.append_column(fld.name, pa.nulls(table.num_rows, fld.type))
        tables.append(table.select(schema.names).cast(schema))
    return pa.concat_tables(tables)


def _dedupe_versions(table: pa.Table, identity: tuple[str, ...], article_rows: bool) -> tuple[pa.Table, int]:
    """One row per identity (the current one: latest fetch, newest pipeline version). For
    article rows, rows superseded by a reparse of the same fetch are dropped first
    (:func:`newsarchive.archive.versions.superseded`). Returns (rows, superseded dropped)."""
    rows = table.to_pylist()
    dropped = 0
    if article_rows:
        by_article: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_article[(row["source"], row["source_id"])].append(row)
        old = {id(r) for group in by_article.values() for r in superseded(group)}
        dropped = len(old)
        rows = [r for r in rows if id(r) not in old]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(row.get(c) for c in identity)].append(row)
    kept = sorted(
        (current(g) for g in groups.values()), key=lambda r: (str(r.get("published_at")), str(r.get("source_id")))
    )
    return pa.Table.from_pylist(kept, schema=table.schema), dropped


def _check(partition: str, before: pa.Table, after: pa.Table, identity: tuple[str, ...], superseded_n: int) -> None:
    """Every identity before is in the output exactly once, unless only superseded rows held it."""
    ids_before = {tuple(r.values()) for r in before.select(list(identity)).to_pylist()}
    ids_after = [tuple(r.values()) for r in after.select(list(identity)).to_pylist()]
    lost = ids_before - set(ids_after)
    if len(ids_after) != len(set(ids_after)) or set(ids_after) - ids_before or len(lost) > superseded_n:
        raise CompactionCheckError(
            f"{partition}: {len(ids_before)} distinct versions before, {after.num_rows} rows after "
            f"({len(lost)} missing, {superseded_n} superseded by a reparse)"
        )


def plan(store: Store, since: date | None, until: date | None, sources: list[str] | None) -> dict[str, list[str]]:
    """Partition (or index directory) → the part keys to compact, where there is more than one."""
    groups: dict[str, list[str]] = defaultdict(list)
    for table in (ARTICLES, QUARANTINE):
        for info in store.objects(f"{table}/"):
            m = PARTITION_RE.match(info.key)
            if not m or not info.key.endswith(".parquet") or run_id_of(info.key) is None:
                continue
            if sources and m["source"] not in sources:
                continue
            day = date.fromisoformat(m["date"])
            if (since and day < since) or (until and day > until):
                continue
            groups[info.key.rsplit("/", 1)[0]].append(info.key)
    for info in store.objects(f"{INDEX}/"):
        m = INDEX_RE.match(info.key)
        wanted = m is not None and (not sources or m["source"] in sources)
        if wanted and info.key.endswith(".parquet") and run_id_of(info.key) is not None:
            groups[info.key.rsplit("/", 1)[0]].append(info.key)
    return {k: sorted(v) for k, v in sorted(groups.items()) if len(v) > 1}


def compact(
    store: Store,
    *,
    since: date | None = None,
    until: date | None = None,
    sources: list[str] | None = None,
    workdir: Path | None = None,
) -> CompactionReport:
    report = CompactionReport(new_compaction_id())
    groups = plan(store, since, until, sources)
    if not groups:
        return report
    with tempfile.TemporaryDirectory(dir=workdir, prefix="compact-") as tmp:
        tmpdir = Path(tmp)
        for n, (partition, keys) in enumerate(groups.items()):
            table_name = "/".join(partition.split("/")[:2]) if partition.startswith(INDEX) else partition.split("/")[0]
            schema, identity = SCHEMAS[table_name], IDENTITY[table_name]
            local = []
            for i, key in enumerate(keys):
                path = tmpdir / f"in-{n}-{i}.parquet"
                store.download(key, path)
                local.append(path)
            before = _read(local, schema)
            if identity is None:
                after = before
            else:
                after, dropped = _dedupe_versions(before, identity, table_name == ARTICLES)
                _check(partition, before, after, identity, dropped)
                report.superseded += dropped
            out = tmpdir / f"out-{n}.parquet"
            pq.write_table(
                after,
                out,
                compression=str(setting("PARQUET_COMPRESSION")),
                compression_level=int(setting("PARQUET_COMPRESSION_LEVEL")) or None,
                row_group_size=10_000,
            )
            key = f"{partition}/{part_name(report.compaction_id, 0)}"
            digest = sha256_file(out)
            store.put_file(out, key, digest)
            report.files_written.append(
                {
                    "key": key,
                    "kind": table_name.split("/")[0],
                    "sha256": digest,
                    "bytes": out.stat().st_size,
                    "rows": after.num_rows,
                }
            )
            report.replaces.extend(keys)
            report.partitions += 1
            report.rows_before += before.num_rows
            report.rows_after += after.num_rows
    manifest = {
        "compaction_id": report.compaction_id,
        "created_at": utcnow().isoformat(),
        "files": report.files_written,
        "replaces": report.replaces,
        "rows_before": report.rows_before,
        "rows_after": report.rows_after,
    }
    store.put_bytes(
        f"{COMPACTIONS}/{report.compaction_id}.json",
        json.dumps(manifest, ensure_ascii=False, indent=2).encode() + b"\n",
    )
    store.delete(report.replaces)
    logger.info(
        "Compaction %s: %d partitions, %d → %d rows, %d files replaced",
        report.compaction_id,
        report.partitions,
        report.rows_before,
        report.rows_after,
        len(report.replaces),
    )
    return report
