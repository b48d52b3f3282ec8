"""Publishing files atomically: a reader never sees a partial file under a final name."""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class WrittenFile:
    """A published file, as the run manifest lists it."""

    key: str
    kind: str
    sha256: str
    bytes: int
    rows: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WrittenFile:
        return cls(
            key=data["key"],
            kind=data["kind"],
            sha256=data["sha256"],
            bytes=int(data["bytes"]),
            rows=data.get("rows"),
        )


class FinalExistsError(FileExistsError):
    """A writer tried to replace a published file; no writer ever does."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp: Path, final: Path) -> None:
    """Make ``tmp`` visible as ``final``: fsync, hard-link (fails if ``final`` exists), unlink.

    A hard link never replaces an existing name, unlike ``rename``; so a bug or a clash
    of run ids raises :class:`FinalExistsError` instead of silently overwriting archived data.
    """
    fsync_path(tmp)
    try:
        os.link(tmp, final)
    except FileExistsError as exc:
        raise FinalExistsError(f"refusing to replace published file {final}") from exc
    os.unlink(tmp)
    fsync_path(final.parent)


def write_atomic(final: Path, data: bytes) -> None:
    """Write ``data`` to a hidden temporary sibling and publish it as ``final``."""
    from newsarchive.archive.layout import temp_name

    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(temp_name(final.name))
    with tmp.open("wb") as fh:
        fh.write(data)
    publish(tmp, final)
