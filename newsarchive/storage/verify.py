"""Check that every file each manifest names is in the store with its SHA-256.

A file a run manifest names may be gone only if a compaction manifest names it among the
files it replaced, and that compaction's output is there and intact.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from newsarchive.archive.layout import COMPACTIONS, RUNS
from newsarchive.archive.manifest import manifest_files, read_manifest
from newsarchive.storage.store import Store


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
    recorded = store.recorded_sha256(key)
    if recorded is None:
        report.problems.append(f"missing: {key}")
        return False
    if recorded != sha256:
        report.problems.append(f"corrupt: {key} (SHA-256 {recorded[:12]}… != {sha256[:12]}…)")
        return False
    return True


def verify_store(store: Store, *, deep: bool = False) -> VerifyReport:
    report = VerifyReport()
    compactions = [i.key for i in store.objects(f"{COMPACTIONS}/") if i.key.endswith(".json")]
    manifests = {key: json.loads(store.get_bytes(key)) for key in compactions}
    replaced = {k for m in manifests.values() for k in m.get("replaces", [])}

    def check(key: str, sha256: str, size: int | None) -> None:
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
        except ValueError as exc:
            report.problems.append(f"unreadable manifest {info.key}: {exc}")
            continue
        for f in manifest_files(run_manifest):
            check(f.key, f.sha256, f.bytes)
    return report
