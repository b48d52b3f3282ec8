"""Run manifests (``runs/<run_id>.json``): written last, so a reader who finds one finds
every file it names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from newsarchive.archive.files import WrittenFile, write_atomic
from newsarchive.archive.layout import Layout, manifest_key

MANIFEST_VERSION = 1
STATUSES = ("complete", "partial", "failed", "recovered")


def write_manifest(layout: Layout, manifest: dict[str, Any]) -> Path:
    if manifest.get("status") not in STATUSES:
        raise ValueError(f"bad manifest status {manifest.get('status')!r}")
    manifest = {"manifest_version": MANIFEST_VERSION, **manifest}
    path = layout.path(manifest_key(manifest["run_id"]))
    data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False, default=str)
    # A lone surrogate quoted in a problem (a source's text) becomes its JSON escape: the
    # manifest of the run must be written whatever the run met.
    write_atomic(path, data.encode("utf-8", "backslashreplace") + b"\n")
    return path


def read_manifest(data: bytes | str) -> dict[str, Any]:
    manifest = json.loads(data)
    if not isinstance(manifest, dict) or "run_id" not in manifest:
        raise ValueError("not a run manifest")
    return manifest


def manifest_files(manifest: dict[str, Any]) -> list[WrittenFile]:
    return [WrittenFile.from_json(f) for f in manifest.get("files", [])]
