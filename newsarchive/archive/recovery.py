"""Start-of-run housekeeping: what a killed run left behind is cleaned up or adopted.

* Temporary files (``.*.tmp``) of runs that are not live are deleted.
* Published data files of a run that died before writing its manifest (killed between
  publishing its parts and its manifest) are adopted: their index part is rebuilt from the
  files' id columns and a manifest with status ``recovered`` is written, so the next run
  neither refetches nor duplicates those articles, and upload picks them up. Its published
  WARC files (``warc/``) are listed too: they are the evidence its rows point to.
* A file that cannot be read (planted, truncated, not Parquet, without the id columns) is
  left where it is, not adopted, and named in :attr:`Recovery.unreadable` (the run's
  manifest lists it under ``archive_problems``, ``newsarchive verify`` names it): one bad
  file never stops a crawl, nor keeps the good files of its run from being adopted.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newsarchive import __version__
from newsarchive.archive.files import WrittenFile, sha256_file
from newsarchive.archive.index import write_index_part
from newsarchive.archive.layout import (
    ARTICLES,
    INDEX,
    PARTITION_RE,
    QUARANTINE,
    WARC,
    Layout,
    index_key,
    manifest_key,
    run_id_of,
)
from newsarchive.archive.locks import is_live, stale_locks
from newsarchive.archive.manifest import write_manifest
from newsarchive.schema import INDEX_FIELDS, SCHEMA_VERSION

logger = logging.getLogger(__name__)
COMPACTION_PREFIX = "compact-"


@dataclass
class Recovery:
    temp_removed: list[str] = field(default_factory=list)
    runs_recovered: list[str] = field(default_factory=list)
    #: one line per file that could not be read: its key and why
    unreadable: list[str] = field(default_factory=list)


def recover(layout: Layout, current_run_id: str | None = None) -> Recovery:
    report = Recovery()
    if not layout.root.is_dir():
        return report
    for tmp in layout.temp_files():
        run_id = run_id_of(tmp.name)
        if run_id == current_run_id or (run_id and is_live(layout, run_id)):
            continue
        tmp.unlink(missing_ok=True)
        report.temp_removed.append(layout.key(tmp))
    for lock in stale_locks(layout):
        lock.unlink(missing_ok=True)
    orphans: dict[str, list[str]] = defaultdict(list)
    for key in [*layout.data_files(), *layout.warc_files()]:
        run_id = run_id_of(key)
        if not run_id or run_id == current_run_id or run_id.startswith(COMPACTION_PREFIX):
            continue  # compaction outputs are named by their compaction manifest, never adopted
        if layout.path(manifest_key(run_id)).exists() or is_live(layout, run_id):
            continue
        orphans[run_id].append(key)
    for run_id, keys in sorted(orphans.items()):
        if all(key.startswith(INDEX + "/") for key in keys):
            continue  # index parts alone were pulled from the bucket (pull-index): not a dead run here
        if _adopt(layout, run_id, keys, report.unreadable):
            report.runs_recovered.append(run_id)
    if report.temp_removed:
        logger.warning("Removed %d temporary files of dead runs", len(report.temp_removed))
    if report.runs_recovered:
        logger.warning("Adopted files of runs without a manifest: %s", report.runs_recovered)
    for line in report.unreadable:
        logger.error("Not adopted, left in place: %s", line)
    return report


def _adopt(layout: Layout, run_id: str, keys: list[str], unreadable: list[str]) -> bool:
    """Adopt the readable files among ``keys``; the others are named in ``unreadable``.
    Returns whether anything was adopted."""
    files: list[WrittenFile] = []
    index_rows: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
    for key in keys:
        try:
            file, rows = _read_orphan(layout, key)
        except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
            unreadable.append(f"{key}: unreadable ({type(exc).__name__}: {exc})")
            continue
        files.append(file)
        m = PARTITION_RE.match(key)
        if rows and m:
            index_rows[(file.kind, m["source"])].extend(rows)
    if not any(f.kind != "index" for f in files):
        return False  # nothing of a run's data readable (or index parts alone): no manifest
    for (table, source), rows in index_rows.items():
        if rows and not layout.path(index_key(source, run_id, table)).exists():
            files.append(write_index_part(layout, source, run_id, rows, table))
    write_manifest(
        layout,
        {
            "run_id": run_id,
            "status": "recovered",
            "detail": "the run died before writing its manifest; its published files were adopted",
            "files": [f.to_json() for f in files],
            "schema_version": SCHEMA_VERSION,
            "pipeline_version": __version__,
        },
    )
    return True


def _read_orphan(layout: Layout, key: str) -> tuple[WrittenFile, list[dict[str, object]]]:
    """The manifest entry of an orphan file and the index rows it contributes; raises if
    the file is not what its name says."""
    path: Path = layout.path(key)
    kind = "index" if key.startswith(INDEX + "/") else key.split("/", 1)[0]
    if kind == WARC:  # not Parquet: no rows to count or index
        return WrittenFile(key, kind, sha256_file(path), path.stat().st_size), []
    parquet = pq.ParquetFile(path)
    rows: list[dict[str, object]] = []
    if kind == ARTICLES:
        rows = parquet.read(columns=list(INDEX_FIELDS)).to_pylist()
    elif kind == QUARANTINE:
        quarantined = parquet.read(columns=["source", "fingerprint", "seen_at"]).to_pylist()
        rows = [r for r in quarantined if r["fingerprint"]]
    else:
        parquet.read()  # an index part: readable as a whole
    return WrittenFile(key, kind, sha256_file(path), path.stat().st_size, parquet.metadata.num_rows), rows
