"""What every store shares: the interface, the errors, the object listing entry."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

MiB = 1024 * 1024


class StoreError(RuntimeError):
    """An object-store operation failed for good (after retries); the message says why."""


class ChecksumMismatchError(StoreError):
    pass


class ObjectExistsError(StoreError):
    """An object exists under the key with other content: a final object is never replaced."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class Store(Protocol):
    uri: str

    def objects(self, prefix: str = "") -> Iterator[ObjectInfo]: ...
    def exists(self, key: str) -> bool: ...
    def get_bytes(self, key: str) -> bytes: ...
    def download(self, key: str, path: Path) -> None: ...
    def put_file(self, path: Path, key: str, sha256: str | None = None) -> bool: ...
    def put_bytes(self, key: str, data: bytes) -> bool: ...
    def replace_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None: ...
    def recorded_sha256(self, key: str) -> str | None: ...
    def delete(self, keys: list[str]) -> None: ...


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def sha256_file(path: Path, chunk: int = MiB) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def temp_name(final_name: str) -> str:
    """Hidden sibling name a file is written under until it is complete (listings skip it)."""
    return f".{final_name}.tmp"
