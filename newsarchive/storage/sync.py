"""Upload a local archive to a store run by run, and pull the index back.

A run is uploaded file by file, in the order its manifest lists them, and its manifest goes
last: a reader who finds ``runs/<run_id>.json`` in the bucket finds every file it names.
Keys mirror the local layout, so uploading a run twice adds nothing (each object is checked
by HEAD first and skipped when its recorded SHA-256 matches).

Local paths come from :meth:`Layout.path`: a file reached through a symbolic link is never
uploaded (the run is not uploaded, with an error naming the link), and a key from a bucket
that is not a plain relative path is never downloaded. A manifest that cannot be read
(JSON garbage in ``runs/``) is skipped with a warning naming it; every other run uploads.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsarchive.archive.layout import COMPACTIONS, INDEX, RUNS, Layout, UnsafePathError, manifest_key
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
    #: manifests that could not be read, with why (skipped; ``verify`` names them too)
    unreadable: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return self.__dict__.copy()


def replaced_keys(store: Store) -> dict[str, str]:
    """Keys that a compaction replaced → the compaction manifest that says so."""
    out: dict[str, str] = {}
    for info in store.objects(f"{COMPACTIONS}/"):
        if info.key.endswith(".json"):
            manifest = _json(store, info.key)
            for key in manifest.get("replaces", []) if manifest else []:
                out[key] = info.key
    return out


def _json(store: Store, key: str) -> dict[str, Any] | None:
    """A compaction manifest, or None (with a warning naming it) if it is not one."""
    try:
        data = json.loads(store.get_bytes(key))
    except ValueError as exc:
        logger.warning("Skipping unreadable compaction manifest %s: %s", key, exc)
        return None
    return data if isinstance(data, dict) else None


def local_path(layout: Layout, key: str, what: str) -> Path:
    """``layout.path(key)`` as a :class:`StoreError` naming ``what`` (a link, a bad key)."""
    try:
        return layout.path(key)
    except UnsafePathError as exc:
        raise StoreError(f"{what}: {exc}") from exc


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
        data = local_path(layout, key, f"run {rid}").read_bytes()
        try:
            manifest = read_manifest(data)
            files = manifest_files(manifest)
        except (ValueError, KeyError, TypeError) as exc:
            report.unreadable.append(f"{key}: {type(exc).__name__}: {exc}")
            logger.error("Not uploading %s: not a readable run manifest (%s)", key, exc)
            continue
        for f in files:
            path = local_path(layout, f.key, f"run {rid}: {f.key}")
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
        manifest = _json(local, info.key)
        if manifest is None:
            continue
        for f in manifest.get("files", []):
            path = local_path(layout, f["key"], info.key)
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
        try:
            target: Path = layout.path(info.key)
        except UnsafePathError as exc:
            logger.error("Not pulling %s: %s", info.key, exc)
            continue
        if target.exists() and target.stat().st_size == info.size:
            continue
        store.download(info.key, target)
        pulled += 1
    return pulled
