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
deduplicate (docs/reading.md). No manifest ever names a file that is gone without a
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
    rows_before: int = 0
    rows_after: int = 0
    files_written: list[dict[str, Any]] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def new_compaction_id() -> str:
    return f"{COMPACTION_PREFIX}{utcnow().strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


def version_key(version: str | None) -> tuple[int, ...]:
    """``0.10.0`` > ``0.9.1``: compare versions numerically (unknown parts count as 0)."""
    out: list[int] = []
    for part in (version or "").replace("+", ".").replace("-", ".").split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def newest_first(row: dict[str, Any]) -> tuple[Any, ...]:
    """Sort key: newest pipeline version first, then the latest fetch (ties in one article)."""
    fetched = row.get("fetched_at")
    return (version_key(row.get("pipeline_version")), fetched.timestamp() if fetched else 0.0)


def _read(paths: list[Path], schema: pa.Schema) -> pa.Table:
    tables = []
    for path in paths:
        table = pq.read_table(path)
        for fld in schema:
            if fld.name not in table.column_names:
                table = table.append_column(fld.name, pa.nulls(table.num_rows, fld.type))
        tables.append(table.select(schema.names).cast(schema))
    return pa.concat_tables(tables)


def _dedupe_versions(table: pa.Table, id_columns: tuple[str, ...]) -> pa.Table:
    """Keep one row per (id columns): the newest by pipeline version, then fetch time."""
    best: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in table.to_pylist():
        key = tuple(row.get(c) for c in id_columns)
        held = best.get(key)
        if held is None or newest_first(row) > newest_first(held):
            best[key] = row
    rows = sorted(best.values(), key=lambda r: (str(r.get("published_at")), str(r.get("source_id"))))
    return pa.Table.from_pylist(rows, schema=table.schema)


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
            after = before if identity is None else _dedupe_versions(before, identity)
            if identity is not None:
                distinct = {tuple(r.values()) for r in before.select(list(identity)).to_pylist()}
                if len(distinct) != after.num_rows:
                    raise CompactionCheckError(
                        f"{partition}: {len(distinct)} distinct before, {after.num_rows} rows after"
                    )
            out = tmpdir / f"out-{n}.parquet"
            pq.write_table(after, out, compression="zstd", row_group_size=10_000)
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
