"""A store in a local directory, with the same rules as a bucket: a final file is never
replaced, and a file is visible under its key only when complete (hidden temp + hard link).
No key leaves the directory or passes through a symbolic link, and listings never follow one
(a link planted in a working directory must not make an upload read or write elsewhere)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from newsarchive.storage.base import (
    ChecksumMismatchError,
    MiB,
    ObjectExistsError,
    ObjectInfo,
    StoreError,
    sha256_file,
    temp_name,
)


def check_key(key: str) -> list[str]:
    """The segments of ``key``, a relative POSIX path with no empty, ``.`` or ``..`` segment,
    backslash or control character (keys come from listings too: checked, not trusted)."""
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") or "\\" in p for p in parts) or any(ord(c) < 32 or c == "\x7f" for c in key):
        raise StoreError(f"invalid key {key!r}")
    return parts


def safe_path(root: Path, key: str) -> Path:
    """``root/key``, or :class:`StoreError` if any component on the way is a symbolic link."""
    path = root
    for part in check_key(key):
        path = path / part
        if path.is_symlink():
            raise StoreError(f"{path.relative_to(root).as_posix()} is a symbolic link; it is never followed")
    return path


def walk(root: Path, top: str = "") -> Iterator[tuple[str, bool]]:
    """(key, is_link) of every file and link under ``top``, hidden names included, without
    following any link: a link to a directory is reported, never entered."""
    base = root
    for part in check_key(top) if top else []:
        base = base / part
        if base.is_symlink():
            yield base.relative_to(root).as_posix(), True
            return
    stack = [base]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            key = Path(entry.path).relative_to(root).as_posix()
            if entry.is_symlink():
                yield key, True
            elif entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            else:
                yield key, False


def publish(tmp: Path, final: Path) -> None:
    """fsync ``tmp``, hard-link it as ``final`` (which fails rather than replace), unlink it."""
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    try:
        os.link(tmp, final)
    except FileExistsError as exc:
        tmp.unlink()
        raise ObjectExistsError(f"refusing to replace {final}") from exc
    tmp.unlink()


class LocalStore:
    def __init__(self, uri: str) -> None:
        path = uri[len("file://") :] if uri.startswith("file://") else uri
        self.root = Path(path).expanduser().resolve()
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        return safe_path(self.root, key)

    def objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Regular files under ``prefix`` (a directory key, with or without its ``/``);
        hidden names and symbolic links are not objects."""
        top = prefix.rstrip("/")
        if top:
            try:
                path = self._path(top)
            except StoreError:
                return  # through a link: nothing is listed
            if path.is_file():
                yield ObjectInfo(top, path.stat().st_size)
                return
        for key, link in sorted(walk(self.root, top)):
            if not link and not any(part.startswith(".") for part in key.split("/")):
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
            raise ObjectExistsError(f"{key} exists with other content")
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
            raise ObjectExistsError(f"{key} exists with other content")
        self._write(final, data)
        publish(final.with_name(temp_name(final.name)), final)
        return True

    def replace_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Write ``key`` whatever is there (derived, mutable objects only: the report)."""
        final = self._path(key)
        os.replace(self._write(final, data), final)

    def _write(self, final: Path, data: bytes) -> Path:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(temp_name(final.name))
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp

    def recorded_sha256(self, key: str) -> str | None:
        path = self._path(key)
        return sha256_file(path) if path.is_file() else None

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)
