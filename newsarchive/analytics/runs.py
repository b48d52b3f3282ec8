"""Run manifests (``runs/<run_id>.json``) as one Arrow table: a row per run.

Manifests are the only record of runs that archived nothing (a feed down, a failed run),
so reading them, not the article rows, is how the report sees outages of the pipeline.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from newsarchive.archive.layout import RUNS

if TYPE_CHECKING:
    from newsarchive.storage.s3 import S3Config

logger = logging.getLogger(__name__)

_TS = pa.timestamp("us", tz="UTC")
_COUNTS = pa.map_(pa.string(), pa.int64())

#: The ``runs`` view: (name, type, meaning). Documented in docs/analytics.md.
RUN_COLUMNS: list[tuple[str, pa.DataType, str]] = [
    ("run_id", pa.string(), "Crawl run id (also the run_id column of its rows)."),
    ("dag_run_id", pa.string(), "Airflow DAG run that started it; null for hand runs."),
    ("spider", pa.string(), "Spider (or command) that ran."),
    ("source", pa.string(), "Source it archived."),
    ("status", pa.string(), "complete, partial, failed or recovered."),
    ("finish_reason", pa.string(), "Scrapy's close reason (finished, shutdown, ...)."),
    ("started_at", _TS, "When the run started (UTC)."),
    ("finished_at", _TS, "When its manifest was written (UTC)."),
    ("duration_s", pa.float64(), "finished_at - started_at, in seconds."),
    ("requests", pa.int64(), "Requests sent, retries included."),
    ("requests_by_kind", _COUNTS, "Requests by kind (list, text, page, robots, ...)."),
    ("responses_by_status", _COUNTS, "Responses by HTTP status."),
    ("articles_written", pa.int64(), "Article rows written."),
    ("quarantined", pa.int64(), "Quarantine rows written."),
    ("quarantined_by_reason", _COUNTS, "Quarantine rows by reason."),
    ("lists_ok", pa.int64(), "Lists read."),
    ("lists_failed", pa.int64(), "Lists that could not be read."),
    ("files", pa.int64(), "Files the manifest names."),
    ("bytes", pa.int64(), "Their total size."),
    ("problems", pa.list_(pa.string()), "What went wrong, secrets masked."),
    ("pipeline_version", pa.string(), "newsarchive version that ran."),
    ("schema_version", pa.int32(), "Schema version it wrote."),
    ("manifest", pa.string(), "The manifest's key in the archive."),
    ("archive", pa.string(), "The archive it was read from."),
]
RUN_SCHEMA = pa.schema([pa.field(name, typ) for name, typ, _ in RUN_COLUMNS])


def read_manifests(root: str, s3: S3Config | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(key, manifest) of every run manifest in one archive; unreadable ones are logged
    and skipped (a report must not fail on one bad file)."""
    from newsarchive.storage.store import open_store

    store = open_store(root, s3)
    for obj in store.objects(f"{RUNS}/"):
        if not obj.key.endswith(".json") or obj.key.rsplit("/", 1)[-1].startswith("."):
            continue
        try:
            manifest = json.loads(store.get_bytes(obj.key))
        except (OSError, ValueError) as exc:
            logger.warning("Skipping unreadable manifest %s: %s", obj.key, exc)
            continue
        if isinstance(manifest, dict) and "run_id" in manifest:
            yield obj.key, manifest


def runs_table(roots: Iterable[str], s3: S3Config | None = None) -> pa.Table:
    """One row per run over every root; a run found in several roots is listed once."""
    rows: dict[str, dict[str, Any]] = {}
    for root in roots:
        for key, manifest in read_manifests(root, s3):
            rows.setdefault(str(manifest["run_id"]), run_row(key, manifest, root))
    ordered = sorted(rows.values(), key=lambda r: (r["started_at"] is None, r["started_at"], r["run_id"]))
    return pa.Table.from_pylist(ordered, schema=RUN_SCHEMA)


def run_row(key: str, manifest: dict[str, Any], root: str) -> dict[str, Any]:
    counts = manifest.get("counts") or {}
    started, finished = _time(manifest.get("started_at")), _time(manifest.get("finished_at"))
    files = [f for f in manifest.get("files") or [] if isinstance(f, dict)]
    return {
        "run_id": str(manifest["run_id"]),
        "dag_run_id": manifest.get("dag_run_id") or None,
        "spider": manifest.get("spider"),
        "source": manifest.get("source"),
        "status": manifest.get("status"),
        "finish_reason": manifest.get("finish_reason"),
        "started_at": started,
        "finished_at": finished,
        "duration_s": (finished - started).total_seconds() if started and finished else None,
        "requests": _int(counts.get("requests")),
        "requests_by_kind": _counts(counts.get("requests_by_kind")),
        "responses_by_status": _counts(counts.get("responses_by_status")),
        "articles_written": _int(counts.get("articles_written")),
        "quarantined": _int(counts.get("quarantined")),
        "quarantined_by_reason": _counts(counts.get("quarantined_by_reason")),
        "lists_ok": _int(counts.get("lists_ok")),
        "lists_failed": _int(counts.get("lists_failed")),
        "files": len(files),
        "bytes": sum(_int(f.get("bytes")) or 0 for f in files),
        "problems": [str(p) for p in manifest.get("problems") or []],
        "pipeline_version": manifest.get("pipeline_version"),
        "schema_version": _int(manifest.get("schema_version")),
        "manifest": key,
        "archive": root,
    }


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _counts(value: Any) -> list[tuple[str, int]]:
    if not isinstance(value, dict):
        return []
    return [(str(k), int(v)) for k, v in sorted(value.items()) if isinstance(v, (int, float))]
