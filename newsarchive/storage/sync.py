"""Upload a local archive to a store run by run, and pull the index back.

A run is uploaded file by file, in the order its manifest lists them, and its manifest goes
last: a reader who finds ``runs/<run_id>.json`` in the bucket finds every file it names.
Keys mirror the local layout, so uploading a run twice adds nothing (each object is checked
by HEAD first and skipped when its recorded SHA-256 matches).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsarchive.archive.layout import COMPACTIONS, INDEX, RUNS, Layout, manifest_key
from newsarchive.archive.manifest import manifest_files, read_manifest
from newsarchive.storage.store import Store, StoreError

logger = logging.getLogger(__name__)
#: Multipart uploads started this long ago are dead (a live one finishes in minutes).
STALE_MULTIPART_S = 6 * 3600


@dataclass
class UploadReport:
    runs_uploaded: list[str] = field(default_factory=list)
    runs_skipped: list[str] = field(default_factory=list)
    objects_uploaded: int = 0
    objects_present: int = 0
    bytes_uploaded: int = 0

    def to_json(self) -> dict[str, object]:
        return self.__dict__.copy()


def replaced_keys(store: Store) -> dict[str, str]:
    """Keys that a compaction replaced → the compaction manifest that says so."""
    out: dict[str, str] = {}
    for info in store.objects(f"{COMPACTIONS}/"):
        if info.key.endswith(".json"):
            manifest = json.loads(store.get_bytes(info.key))
            for key in manifest.get("replaces", []):
                out[key] = info.key
    return out


def upload_archive(layout: Layout, store: Store, run_id: str | None = None, *, prune: bool = False) -> UploadReport:
    """Upload every run not yet in ``store`` (or just ``run_id``), manifest last."""
    from newsarchive.storage.store import LocalStore, S3Store

    report = UploadReport()
    local = LocalStore(str(layout.root))
    if isinstance(store, S3Store):  # multipart uploads left by a killed upload hold storage
        aborted = store.abort_stale_uploads(older_than_s=STALE_MULTIPART_S)
        if aborted:
            logger.warning("Aborted %d stale multipart uploads: %s", len(aborted), aborted)
    keys = [manifest_key(run_id)] if run_id else layout.manifests()
    if run_id and not layout.path(keys[0]).exists():
        raise StoreError(f"no manifest for run {run_id} in {layout.root}")
    remote_runs = {info.key for info in store.objects(f"{RUNS}/")}
    replaced = replaced_keys(local)
    for key in keys:
        rid = key[len(RUNS) + 1 : -len(".json")]
        if key in remote_runs and run_id is None:
            report.runs_skipped.append(rid)
            continue
        data = layout.path(key).read_bytes()
        manifest = read_manifest(data)
        for f in manifest_files(manifest):
            path = layout.path(f.key)
            if not path.exists():
                if f.key in replaced or store.recorded_sha256(f.key) == f.sha256:
                    continue  # compacted locally, or uploaded before and pruned
                raise StoreError(f"run {rid}: {f.key} is missing locally and not in the store")
            if store.put_file(path, f.key, f.sha256):
                report.objects_uploaded += 1
                report.bytes_uploaded += f.bytes
            else:
                report.objects_present += 1
        if store.put_bytes(key, data):
            report.objects_uploaded += 1
            report.runs_uploaded.append(rid)
        else:
            report.objects_present += 1
            report.runs_skipped.append(rid)
        if prune:
            prune_run(layout, manifest)
    _upload_compactions(layout, local, store, report)
    return report


def _upload_compactions(layout: Layout, local: Store, store: Store, report: UploadReport) -> None:
    for info in local.objects(f"{COMPACTIONS}/"):
        manifest = json.loads(local.get_bytes(info.key))
        for f in manifest.get("files", []):
            path = layout.path(f["key"])
            if path.exists() and store.put_file(path, f["key"], f["sha256"]):
                report.objects_uploaded += 1
        if store.put_bytes(info.key, local.get_bytes(info.key)):
            report.objects_uploaded += 1
    return None


def prune_run(layout: Layout, manifest: dict[str, Any]) -> None:
    """Delete a run's uploaded data files locally; keep its manifest and index parts."""
    for f in manifest_files(manifest):
        if not f.key.startswith(INDEX + "/"):
            layout.path(f.key).unlink(missing_ok=True)


def pull_index(store: Store, layout: Layout, sources: list[str] | None = None) -> int:
    """Download the store's index parts the local archive lacks; returns how many."""
    pulled = 0
    for info in store.objects(f"{INDEX}/"):
        if not info.key.endswith(".parquet"):
            continue
        if sources and not any(f"/source={s}/" in info.key for s in sources):
            continue
        target: Path = layout.path(info.key)
        if target.exists() and target.stat().st_size == info.size:
            continue
        store.download(info.key, target)
        pulled += 1
    return pulled
