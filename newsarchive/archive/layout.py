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
"""

from __future__ import annotations

import re
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
        return self.root.joinpath(*key.split("/"))

    def key(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def manifests(self) -> list[str]:
        runs = self.root / RUNS
        if not runs.is_dir():
            return []
        return sorted(f"{RUNS}/{p.name}" for p in runs.iterdir() if p.suffix == ".json" and not p.name.startswith("."))

    def data_files(self, tables: tuple[str, ...] = (*TABLES, INDEX)) -> list[str]:
        """Keys of every published Parquet file under the given tables."""
        out: list[str] = []
        for table in tables:
            base = self.root / table
            if base.is_dir():
                out.extend(self.key(p) for p in base.rglob("part-*.parquet") if not p.name.startswith("."))
        return sorted(out)

    def warc_files(self) -> list[str]:
        """Keys of every published WARC file."""
        base = self.root / WARC
        if not base.is_dir():
            return []
        return sorted(self.key(p) for p in base.rglob("*.warc.gz") if not p.name.startswith("."))

    def temp_files(self) -> list[Path]:
        out: list[Path] = []
        for table in (*TABLES, INDEX, RUNS, COMPACTIONS, WARC):
            base = self.root / table
            if base.is_dir():
                out.extend(p for p in base.rglob(f".*{TEMP_SUFFIX}") if p.is_file())
        return sorted(out)
