"""Check the tables' current snapshots against the object store, and the WARC files the runs
list against where they were uploaded.

* every data file the current snapshot of ``articles``, ``quarantine`` and ``runs`` references
  is there with the size the manifest recorded (``deep``: and its Parquet footer reads and
  holds the recorded row count);
* every WARC file a ``runs`` row lists (``warc_files``) is there with its size (``deep``: and
  its SHA-256). ``warc/<rest>`` of ARCHIVE_URI is ``<rest>`` under the WARC location (the
  local ``<ARCHIVE_URI>/warc``, or WARC_URI once uploaded);
* files in a table's location that no snapshot references are named (``unreferenced``), not
  counted as problems: a running crawl's files are unreferenced until it commits, and
  ``compact`` removes the old ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from newsarchive.tables.definitions import RUNS, TABLES
from newsarchive.tables.maintain import table_filesystem, unreferenced

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

WARC_PREFIX = "warc/"


@dataclass
class VerifyReport:
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    warc_files: int = 0
    problems: list[str] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "failed",
            "tables": self.tables,
            "warc_files_checked": self.warc_files,
            "problems": len(self.problems),
            "unreferenced": len(self.unreferenced),
        }


def warc_filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    """(filesystem, base path) of the WARC location: a local directory or ``s3://bucket/prefix``
    (endpoint and credentials from the AWS environment)."""
    if location.startswith("s3://"):
        from newsarchive.storage.s3 import S3Config, parse_s3_uri

        bucket, prefix = parse_s3_uri(location)
        return S3Config().arrow(), f"{bucket}/{prefix}".rstrip("/")
    from pathlib import Path

    path = location.removeprefix("file://")
    return pafs.LocalFileSystem(), str(Path(path).expanduser().resolve())


def _size(fs: pafs.FileSystem, path: str) -> int | None:
    info = fs.get_file_info(path)
    return int(info.size or 0) if info.type == pafs.FileType.File else None


#: Called with each file checked (a data file's or WARC file's URI): the CLI's progress line.
OnFile = Callable[[str], None] | None


def _check_table(table: Table, name: str, deep: bool, report: VerifyReport, on_file: OnFile = None) -> None:
    fs, to_path = table_filesystem(table)
    snapshot = table.current_snapshot()
    checked = rows = 0
    if snapshot is not None:
        for task in table.scan().plan_files():
            data = task.file
            checked += 1
            if on_file is not None:
                on_file(data.file_path)
            rows += data.record_count
            path = to_path(data.file_path)
            size = _size(fs, path)
            if size is None:
                report.problems.append(f"missing: {name} data file {data.file_path}")
                continue
            if size != data.file_size_in_bytes:
                expected = data.file_size_in_bytes
                report.problems.append(
                    f"corrupt: {name} data file {data.file_path} ({size} bytes, the table says {expected})"
                )
                continue
            if deep:
                try:
                    with fs.open_input_file(path) as f:
                        found = pq.read_metadata(f).num_rows
                except (OSError, ValueError) as exc:
                    report.problems.append(
                        f"corrupt: {name} data file {data.file_path} (unreadable footer: {_one_line(exc)})"
                    )
                    continue
                if found != data.record_count:
                    report.problems.append(
                        f"corrupt: {name} data file {data.file_path} ({found} rows, the table says {data.record_count})"
                    )
    report.tables[name] = {
        "snapshot_id": snapshot.snapshot_id if snapshot else None,
        "data_files": checked,
        "rows": rows,
    }
    report.unreferenced.extend(f.uri for f in unreferenced(table))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _sha256(fs: pafs.FileSystem, path: str) -> str:
    digest = hashlib.sha256()
    with fs.open_input_stream(path, compression=None) as f:  # the bytes as stored, not inflated
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _check_warc(runs: Table, location: str, deep: bool, report: VerifyReport, on_file: OnFile = None) -> None:
    if runs.current_snapshot() is None:
        return
    fs, base = warc_filesystem(location)
    listed = runs.scan(selected_fields=("run_id", "warc_files")).to_arrow().to_pylist()
    for row in listed:
        for warc in row["warc_files"] or []:
            key = str(warc["path"])
            rest = key.removeprefix(WARC_PREFIX)
            if not rest or rest.startswith("/") or ".." in rest.split("/"):
                report.problems.append(f"invalid: run {row['run_id']} lists WARC path {key!r}")
                continue
            report.warc_files += 1
            path = f"{base}/{rest}"
            if on_file is not None:
                on_file(path)
            size = _size(fs, path)
            if size is None:
                report.problems.append(f"missing: WARC file {key} of run {row['run_id']} ({location})")
            elif warc["bytes"] is not None and size != warc["bytes"]:
                report.problems.append(f"corrupt: WARC file {key} ({size} bytes, the run says {warc['bytes']})")
            elif deep and warc["sha256"] and _sha256(fs, path) != warc["sha256"]:
                report.problems.append(f"corrupt: WARC file {key} (content does not match its SHA-256)")


def verify(
    catalog: Catalog, namespace: str, *, warc: str | None, deep: bool = False, on_file: OnFile = None
) -> VerifyReport:
    """Check every table of ``namespace``; ``warc``: where the WARC files are (None: not
    checked, the runs' lists are only counted); ``on_file``: called with each file checked."""
    from pyiceberg.exceptions import NoSuchTableError

    report = VerifyReport()
    for name in TABLES:
        try:
            table = catalog.load_table((namespace, name))
        except NoSuchTableError:
            report.problems.append(f"missing: table {namespace}.{name}")
            continue
        _check_table(table, name, deep, report, on_file)
        if name == RUNS and warc:
            _check_warc(table, warc, deep, report, on_file)
    return report
