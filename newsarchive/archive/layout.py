"""Keys (relative POSIX paths) of every object in an archive, local or in a bucket.

```
articles/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<n>.parquet   Beijing publication date
quarantine/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<n>.parquet Beijing date of the run
index/articles/source=<source>/part-<run_id>-0.parquet                 ids archived by a run
index/quarantine/source=<source>/part-<run_id>-0.parquet               fingerprints quarantined by a run
warc/date=<YYYY-MM-DD>/<run_id>-<n>.warc.gz                           raw requests and responses of a run
runs/<run_id>.json                                                     run manifest, written last
compactions/<compaction_id>.json                                       compaction manifests
```
Names starting with ``.`` are temporary and invisible to readers (pyarrow and DuckDB skip
them; upload ignores them).

An archive holds no symbolic links: none is ever created, and one found inside is planted
(a mistaken ``ln -s``, a restored backup, an attacker). :meth:`Layout.path` is the one place
a key becomes a path, and it refuses a key whose path passes through a link, so nothing is
written or read through one; the listings (:meth:`Layout.files` and what builds on it) walk
the tree without following links. A crawl moves the links it finds aside at start
(:func:`move_links_aside`), so a planted link never blocks the next run.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from newsarchive.runid import is_run_id

ARTICLES = "articles"
QUARANTINE = "quarantine"
INDEX = "index"
RUNS = "runs"
COMPACTIONS = "compactions"
WARC = "warc"
TABLES = (ARTICLES, QUARANTINE)

SOURCE_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
PART_RE = re.compile(r"part-(?P<run_id>[A-Za-z0-9_.-]+)-(?P<n>\d+)\.parquet")
INDEX_RE = re.compile(r"index/(?P<table>articles|quarantine)/source=(?P<source>[a-z][a-z0-9_]*)/")
WARC_NAME_RE = re.compile(r"(?P<run_id>[A-Za-z0-9_.-]+)-(?P<n>\d+)\.warc\.gz")
PARTITION_RE = re.compile(r"(?P<table>[a-z]+)/source=(?P<source>[a-z][a-z0-9_]*)/date=(?P<date>\d{4}-\d{2}-\d{2})")
TEMP_SUFFIX = ".tmp"
#: A planted link moved aside by a run: ``.<name>.link-<run_id>`` in the same directory.
MOVED_LINK_RE = re.compile(r"\.(?P<name>.+)\.link-(?P<run_id>[A-Za-z0-9_.-]+)")
#: Top-level names of the archive (everything a reader or upload may look at).
TOP_LEVEL = (ARTICLES, QUARANTINE, INDEX, RUNS, COMPACTIONS, WARC)

logger = logging.getLogger(__name__)


class UnsafePathError(OSError):
    """A key that is not a plain relative path, or whose path passes through a symbolic
    link: the archive never writes or reads through one."""


def check_key(key: str) -> list[str]:
    """The segments of ``key``, a relative POSIX path with no empty, ``.`` or ``..``
    segment, backslash or control character (keys come from manifests and bucket listings
    too, so they are checked, not trusted)."""
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") or "\\" in p for p in parts) or any(ord(c) < 32 or c == "\x7f" for c in key):
        raise UnsafePathError(f"invalid archive key {key!r}")
    return parts


def check_source(source: str) -> str:
    if not SOURCE_RE.fullmatch(source):
        raise ValueError(f"invalid source name {source!r}")
    return source


def partition_key(table: str, source: str, day: date) -> str:
    return f"{table}/source={check_source(source)}/date={day.isoformat()}"


def part_name(run_id: str, n: int) -> str:
    if not is_run_id(run_id):
        raise ValueError(f"invalid run id {run_id!r}")
    return f"part-{run_id}-{n}.parquet"


def manifest_key(run_id: str) -> str:
    if not is_run_id(run_id):
        raise ValueError(f"invalid run id {run_id!r}")
    return f"{RUNS}/{run_id}.json"


def index_dir(table: str, source: str) -> str:
    if table not in TABLES:
        raise ValueError(f"no index for table {table!r}")
    return f"{INDEX}/{table}/source={check_source(source)}"


def index_key(source: str, run_id: str, table: str = ARTICLES) -> str:
    return f"{index_dir(table, source)}/{part_name(run_id, 0)}"


def warc_key(day: date, run_id: str, n: int) -> str:
    """``warc/date=<day>/<run_id>-<n>.warc.gz``: the ``n``-th WARC file of a run (``day``: the
    Beijing date the run started, like the quarantine)."""
    if not is_run_id(run_id):
        raise ValueError(f"invalid run id {run_id!r}")
    return f"{WARC}/date={day.isoformat()}/{run_id}-{n}.warc.gz"


def temp_name(final_name: str) -> str:
    """Hidden sibling name a file is written under until it is complete."""
    return f".{final_name}{TEMP_SUFFIX}"


def is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def run_id_of(key: str) -> str | None:
    """The run that wrote a part, index part or manifest, from its key alone."""
    name = key.rsplit("/", 1)[-1]
    if name.startswith("."):
        name = name[1:]
    if name.endswith(TEMP_SUFFIX):
        name = name[: -len(TEMP_SUFFIX)]
    m = PART_RE.fullmatch(name) or WARC_NAME_RE.fullmatch(name)
    if m:
        return m["run_id"]
    if name.endswith(".json") and is_run_id(name[:-5]):
        return name[:-5]
    return None


@dataclass(frozen=True)
class Layout:
    """A local archive rooted at ``root``."""

    root: Path

    @classmethod
    def from_uri(cls, uri: str) -> Layout:
        if uri.startswith("file://"):
            uri = uri[len("file://") :]
        if "://" in uri:
            raise ValueError(
                f"ARCHIVE_URI {uri!r}: a crawl writes to a local directory; "
                "use `newsarchive upload` to send it to object storage"
            )
        return cls(Path(uri).expanduser().resolve())

    def path(self, key: str) -> Path:
        """The path of ``key``; :class:`UnsafePathError` if it would pass through a link.

        Every writer and reader gets its paths here, so this one check keeps them all inside
        the archive (each existing component is ``lstat``-ed: a few system calls per file,
        not per row). It guards against links planted between runs; a process racing a live
        run with write access to the archive could as well overwrite its files."""
        path = self.root
        for part in check_key(key):
            path = path / part
            if path.is_symlink():
                raise UnsafePathError(f"{self.key(path)} is a symbolic link; the archive never follows one")
        return path

    def key(self, path: Path) -> str:
        """The key of a path under the root (taken as it is: links are not resolved)."""
        return Path(os.path.abspath(path)).relative_to(self.root).as_posix()

    def walk(self, top: str = "") -> Iterator[tuple[str, bool]]:
        """(key, is_link) of every file and link under ``top`` (the whole archive when
        empty), hidden names included, without following any link: a link to a directory is
        reported, never entered."""
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
        """Keys of every symbolic link in the archive."""
        return sorted(key for key, link in self.walk() if link)

    def manifests(self) -> list[str]:
        return [k for k in self.files(RUNS) if k.count("/") == 1 and k.endswith(".json") and not _hidden(k)]

    def data_files(self, tables: tuple[str, ...] = (*TABLES, INDEX)) -> list[str]:
        """Keys of every published Parquet file under the given tables."""
        out: list[str] = []
        for table in tables:
            out.extend(k for k in self.files(table) if PART_RE.fullmatch(k.rsplit("/", 1)[-1]) and not _hidden(k))
        return sorted(out)

    def warc_files(self) -> list[str]:
        """Keys of every published WARC file."""
        return [k for k in self.files(WARC) if k.endswith(".warc.gz") and not _hidden(k)]

    def temp_files(self) -> list[Path]:
        out: list[Path] = []
        for table in TOP_LEVEL:
            out.extend(self.root / k for k in self.files(table) if is_temp(k.rsplit("/", 1)[-1]))
        return sorted(out)


def _hidden(key: str) -> bool:
    return any(part.startswith(".") for part in key.split("/"))


def moved_link_name(name: str, run_id: str) -> str:
    return f".{name}.link-{run_id}"


def move_links_aside(layout: Layout, run_id: str) -> list[str]:
    """Rename every symbolic link in the archive to a hidden sibling (the link itself, never
    its target), so this run writes a real file or directory in its place and readers never
    see it; returns one line per link, naming it and its target, for the log and the run's
    manifest. Links moved aside by an earlier run are left (``verify`` keeps naming them)."""
    found: list[str] = []
    for key in layout.links():
        path = layout.root / key
        if MOVED_LINK_RE.fullmatch(path.name):
            continue
        target = os.readlink(path)
        aside = path.with_name(moved_link_name(path.name, run_id))
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            continue  # another run starting now moved it
        except OSError as exc:
            found.append(f"symbolic link {key} -> {target}: could not be moved aside: {exc}")
            logger.error("%s", found[-1])
            continue
        found.append(f"symbolic link {key} -> {target}: moved aside to {layout.key(aside)}, not followed")
        logger.error("Planted %s", found[-1])
    return found
