"""An archive in a local directory, with the same rules as a bucket: a final file is never
replaced, and a file is visible under its key only when complete (hidden temp + hard link).
Keys become paths through :meth:`Layout.path`, so no key leaves the directory or passes
through a symbolic link, and listings never follow one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from newsarchive.archive.files import FinalExistsError, publish, sha256_file, write_atomic
from newsarchive.archive.layout import Layout, UnsafePathError, temp_name
from newsarchive.storage.base import ChecksumMismatchError, MiB, ObjectInfo, StoreError


class LocalStore:
    def __init__(self, uri: str) -> None:
        path = uri[len("file://") :] if uri.startswith("file://") else uri
        self.root = Path(path).expanduser().resolve()
        self.uri = str(self.root)
        self.layout = Layout(self.root)

    def _path(self, key: str) -> Path:
        try:
            return self.layout.path(key)
        except UnsafePathError as exc:
            raise StoreError(f"key {key!r}: {exc}") from exc

    def objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Regular files under ``prefix`` (a directory key, with or without its ``/``);
        hidden names and symbolic links are not objects."""
        top = prefix.rstrip("/")
        if top:
            try:
                path = self._path(top)
            except StoreError:
                return  # through a link: nothing is listed (verify names the link)
            if path.is_file():
                yield ObjectInfo(top, path.stat().st_size)
                return
        for key in self.layout.files(top):
            if not any(part.startswith(".") for part in key.split("/")):
                yield ObjectInfo(key, (self.root / key).stat().st_size)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def get_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def download(self, key: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(temp_name(path.name))
        tmp.write_bytes(self._path(key).read_bytes())
        os.replace(tmp, path)

    def put_file(self, path: Path, key: str, sha256: str | None = None) -> bool:
        final = self._path(key)
        digest = sha256 or sha256_file(path)
        if final.exists():
            if sha256_file(final) == digest:
                return False
            raise FinalExistsError(f"{key} exists with other content")
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(temp_name(final.name))
        with path.open("rb") as src, tmp.open("wb") as dst:
            while block := src.read(MiB):
                dst.write(block)
        if sha256_file(tmp) != digest:
            tmp.unlink()
            raise ChecksumMismatchError(f"{key}: copy does not match its SHA-256")
        publish(tmp, final)
        return True

    def put_bytes(self, key: str, data: bytes) -> bool:
        final = self._path(key)
        if final.exists():
            if final.read_bytes() == data:
                return False
            raise FinalExistsError(f"{key} exists with other content")
        write_atomic(final, data)
        return True

    def replace_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Write ``key`` whatever is there (derived, mutable objects only: the report)."""
        write_atomic(self._path(key), data)

    def recorded_sha256(self, key: str) -> str | None:
        path = self._path(key)
        return sha256_file(path) if path.is_file() else None

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)


# --- S3 -----------------------------------------------------------------------------------
