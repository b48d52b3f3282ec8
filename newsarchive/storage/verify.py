"""Check that every file each manifest names is in the store with its SHA-256, and that
nothing else is there that readers would trip on.

A file a run manifest names may be gone only if a compaction manifest names it among the
files it replaced, and that compaction's output is there and intact.

Beyond the manifests: a data file (``articles/``, ``quarantine/``, ``warc/``) that no
manifest names is reported ``unlisted`` (planted, or the output of a run that has not been
tidied yet), with ``unreadable`` when its Parquet footer cannot be read; an index part no
manifest names is expected (``pull-index`` brings them) and reported only if unreadable; a
manifest that is not JSON is ``unreadable``; and in a local archive every symbolic link is
reported (``link``), moved aside by a run or not, since the archive never holds one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from typing import Any

from newsarchive.archive.layout import ARTICLES, COMPACTIONS, INDEX, MOVED_LINK_RE, QUARANTINE, RUNS, WARC
from newsarchive.archive.manifest import manifest_files, read_manifest
from newsarchive.storage.base import StoreError
from newsarchive.storage.store import LocalStore, Store

#: Where readers look for data: a file there that no manifest names is reported.
DATA_DIRS = (ARTICLES, QUARANTINE, WARC, INDEX)


@dataclass
class VerifyReport:
    runs: int = 0
    compactions: int = 0
    files_checked: int = 0
    files_replaced: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check(store: Store, key: str, sha256: str, size: int | None, deep: bool, report: VerifyReport) -> bool:
    report.files_checked += 1
    if deep:
        try:
            data = store.get_bytes(key)
        except Exception:
            data = None
        if data is None:
            report.problems.append(f"missing: {key}")
            return False
        if hashlib.sha256(data).hexdigest() != sha256 or (size is not None and len(data) != size):
            report.problems.append(f"corrupt: {key} (content does not match its SHA-256)")
            return False
        return True
    try:
        recorded = store.recorded_sha256(key)
    except StoreError as exc:  # a key through a link, or not a plain relative path
        report.problems.append(f"unreadable: {key} ({exc})")
        return False
    if recorded is None:
        report.problems.append(f"missing: {key}")
        return False
    if recorded != sha256:
        report.problems.append(f"corrupt: {key} (SHA-256 {recorded[:12]}… != {sha256[:12]}…)")
        return False
    return True


def _parquet_error(store: Store, key: str) -> str | None:
    """Why the Parquet file at ``key`` cannot be read, or None if it can."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pq.ParquetFile(io.BytesIO(store.get_bytes(key))).read()
    except (OSError, ValueError, KeyError, pa.ArrowException, StoreError) as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def verify_store(store: Store, *, deep: bool = False) -> VerifyReport:
    report = VerifyReport()
    compactions = [i.key for i in store.objects(f"{COMPACTIONS}/") if i.key.endswith(".json")]
    manifests: dict[str, dict[str, Any]] = {}
    for key in compactions:
        try:
            data = json.loads(store.get_bytes(key))
            if not isinstance(data, dict):
                raise ValueError("not a compaction manifest")
        except ValueError as exc:
            report.problems.append(f"unreadable manifest {key}: {exc}")
            continue
        manifests[key] = data
    replaced = {k for m in manifests.values() for k in m.get("replaces", [])}
    listed: set[str] = set()

    def check(key: str, sha256: str, size: int | None) -> None:
        listed.add(key)
        if key in replaced and not store.exists(key):
            report.files_replaced += 1  # gone, and a compaction manifest names its replacement
        else:
            _check(store, key, sha256, size, deep, report)

    for manifest in manifests.values():
        report.compactions += 1
        for f in manifest.get("files", []):
            check(f["key"], f["sha256"], f.get("bytes"))
    for info in store.objects(f"{RUNS}/"):
        if not info.key.endswith(".json"):
            continue
        report.runs += 1
        try:
            run_manifest = read_manifest(store.get_bytes(info.key))
            files = manifest_files(run_manifest)
        except (ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"unreadable manifest {info.key}: {exc}")
            continue
        for f in files:
            check(f.key, f.sha256, f.bytes)
    _unlisted(store, listed | replaced, report)
    if isinstance(store, LocalStore):
        _links(store, report)
    return report


def _unlisted(store: Store, listed: set[str], report: VerifyReport) -> None:
    for top in DATA_DIRS:
        for info in store.objects(f"{top}/"):
            if info.key in listed:
                continue
            error = _parquet_error(store, info.key) if info.key.endswith(".parquet") else None
            if top == INDEX and error is None:
                continue  # a pulled index part: its run's manifest is in the bucket
            what = f"unlisted: {info.key} (no manifest names it)"
            report.problems.append(f"{what}; unreadable Parquet: {error}" if error else what)


def _links(store: LocalStore, report: VerifyReport) -> None:
    for key in store.layout.links():
        target = os.readlink(store.root / key)
        name = key.rsplit("/", 1)[-1]
        moved = MOVED_LINK_RE.fullmatch(name)
        if moved:
            original = f"{key.rsplit('/', 1)[0]}/{moved['name']}" if "/" in key else moved["name"]
            report.problems.append(
                f"link: {key} -> {target} (planted at {original}, moved aside by run {moved['run_id']}; never followed)"
            )
        else:
            report.problems.append(f"link: {key} -> {target} (never followed)")
