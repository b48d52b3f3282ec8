"""The crawl's local working directory (ARCHIVE_URI): raw capture and, by default, the catalog.

```
warc/date=<YYYY-MM-DD>/<run_id>-<n>.warc.gz   raw requests and responses of a run (Beijing start day)
catalog.db, warehouse/                        the embedded SQLite catalog and its tables, when no
                                              catalog is configured (newsarchive/tables/catalog.py)
```
Names starting with ``.`` are temporary (a WARC file being written).

The directory holds no symbolic links: none is ever created, and one found inside is planted
(a mistaken ``ln -s``, a restored backup, an attacker). :meth:`WorkDir.path` is the one place a
key becomes a path, and it refuses a key whose path passes through a link; a crawl moves the
links it finds aside at start (:func:`sweep_links`), so a planted link never blocks the next
run and nothing is written through one (the embedded warehouse included).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from newsarchive.runid import is_run_id

WARC = "warc"
SOURCE_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
WARC_NAME_RE = re.compile(r"(?P<run_id>[A-Za-z0-9_.-]+)-(?P<n>\d+)\.warc\.gz")
TEMP_SUFFIX = ".tmp"
#: A planted link moved aside by a run: ``.<name>.link-<run_id>`` in the same directory.
MOVED_LINK_RE = re.compile(r"\.(?P<name>.+)\.link-(?P<run_id>[A-Za-z0-9_.-]+)")

logger = logging.getLogger(__name__)


class UnsafePathError(OSError):
    """A key that is not a plain relative path, or whose path passes through a symbolic
    link: nothing is written or read through one."""


class FinalExistsError(FileExistsError):
    """A writer tried to replace a finished file; no writer ever does."""


def check_key(key: str) -> list[str]:
    """The segments of ``key``, a relative POSIX path with no empty, ``.`` or ``..``
    segment, backslash or control character (keys come from tables and bucket listings
    too, so they are checked, not trusted)."""
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") or "\\" in p for p in parts) or any(ord(c) < 32 or c == "\x7f" for c in key):
        raise UnsafePathError(f"invalid key {key!r}")
    return parts


def check_source(source: str) -> str:
    if not SOURCE_RE.fullmatch(source):
        raise ValueError(f"invalid source name {source!r}")
    return source


def warc_key(day: date, run_id: str, n: int) -> str:
    """``warc/date=<day>/<run_id>-<n>.warc.gz``: the ``n``-th WARC file of a run (``day``: the
    Beijing date the run started)."""
    if not is_run_id(run_id):
        raise ValueError(f"invalid run id {run_id!r}")
    return f"{WARC}/date={day.isoformat()}/{run_id}-{n}.warc.gz"


def temp_name(final_name: str) -> str:
    """Hidden sibling name a file is written under until it is complete."""
    return f".{final_name}{TEMP_SUFFIX}"


def is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


@dataclass(frozen=True)
class WorkDir:
    """A crawl's working directory rooted at ``root``."""

    root: Path

    @classmethod
    def from_uri(cls, uri: str) -> WorkDir:
        if uri.startswith("file://"):
            uri = uri[len("file://") :]
        if "://" in uri:
            raise ValueError(
                f"ARCHIVE_URI {uri!r}: a crawl works in a local directory; the tables live in the "
                "catalog (ICEBERG_CATALOG) and WARC files are uploaded to WARC_URI"
            )
        return cls(Path(uri or "./archive").expanduser().resolve())

    def path(self, key: str) -> Path:
        """The path of ``key``; :class:`UnsafePathError` if it would pass through a link."""
        path = self.root
        for part in check_key(key):
            path = path / part
            if path.is_symlink():
                raise UnsafePathError(f"{self.key(path)} is a symbolic link; newsarchive never follows one")
        return path

    def key(self, path: Path) -> str:
        """The key of a path under the root (taken as it is: links are not resolved)."""
        return Path(os.path.abspath(path)).relative_to(self.root).as_posix()

    def walk(self, top: str = "") -> Iterator[tuple[str, bool]]:
        """(key, is_link) of every file and link under ``top``, without following any link."""
        base = self.root
        for part in check_key(top) if top else []:
            base = base / part
            if base.is_symlink():
                yield self.key(base), True
                return
        stack = [base]
        while stack:  # os.scandir: one system call per directory, link or not from d_type
            try:
                entries = list(os.scandir(stack.pop()))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if entry.is_symlink():
                    yield self.key(Path(entry.path)), True
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    yield self.key(Path(entry.path)), False

    def files(self, top: str) -> list[str]:
        """Keys of the regular files under ``top`` (links neither listed nor followed)."""
        return sorted(key for key, link in self.walk(top) if not link)

    def links(self) -> list[str]:
        return sorted(key for key, link in self.walk() if link)

    def warc_files(self) -> list[str]:
        """Keys of every finished WARC file."""
        return [k for k in self.files(WARC) if k.endswith(".warc.gz") and not _hidden(k)]


def _hidden(key: str) -> bool:
    return any(part.startswith(".") for part in key.split("/"))


def sweep_links(workdir: WorkDir, run_id: str) -> list[str]:
    """Rename every symbolic link in the directory to a hidden sibling (the link itself, never
    its target), so this run writes a real file or directory in its place; returns one line
    per link, for the log and the run's ``archive_problems``. Links moved aside by an earlier
    run are left (``verify`` names them)."""
    found: list[str] = []
    for key in workdir.links():
        path = workdir.root / key
        if MOVED_LINK_RE.fullmatch(path.name):
            continue
        target = os.readlink(path)
        aside = path.with_name(f".{path.name}.link-{run_id}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            continue  # another run starting now moved it
        except OSError as exc:
            found.append(f"symbolic link {key} -> {target}: could not be moved aside: {exc}")
            logger.error("%s", found[-1])
            continue
        found.append(f"symbolic link {key} -> {target}: moved aside to {workdir.key(aside)}, not followed")
        logger.error("Planted %s", found[-1])
    return found


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

    A hard link never replaces an existing name, unlike ``rename``: a clash of run ids raises
    :class:`FinalExistsError` instead of silently overwriting a finished WARC file."""
    fsync_path(tmp)
    try:
        os.link(tmp, final)
    except FileExistsError as exc:
        raise FinalExistsError(f"refusing to replace finished file {final}") from exc
    os.unlink(tmp)
    fsync_path(final.parent)


def write_atomic(final: Path, data: bytes) -> None:
    """Write ``data`` to a hidden temporary sibling and publish it as ``final``."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(temp_name(final.name))
    with tmp.open("wb") as fh:
        fh.write(data)
    publish(tmp, final)
