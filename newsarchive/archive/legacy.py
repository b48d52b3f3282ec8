"""Read-only reader of the archive layout before the Iceberg tables (schema versions 1-2),
for ``newsarchive migrate``. It stands alone: the old layout's writers are gone.

```
articles/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<n>.parquet
quarantine/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<n>.parquet
index/…                                  (ids only: not needed, the rows hold them)
warc/date=<YYYY-MM-DD>/<run_id>-<n>.warc.gz
runs/<run_id>.json                       run manifest, written last
compactions/<compaction_id>.json         compaction manifest: files written, files replaced
```

Which files hold the archive's rows (the rules the old readers relied on): names starting
with ``.`` or ``_`` are temporary; a file a compaction manifest lists under ``replaces`` is
superseded by that compaction's output even while it is still there (a compaction killed
between its manifest and its deletes); a compaction's output that no compaction manifest
names is an unfinished compaction (the files it would replace are all still there). Every
other part is live, whether a run manifest names it or not (a run that died before its
manifest). Every row carries its ``run_id``; rows without one take the run id of their
file name. Old files store ``source`` as a dictionary and lack the newer columns: rows are
read as the current schema (strings, NULLs), and the ``date`` of the path is dropped.
A local archive is listed without following symbolic links.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

logger = logging.getLogger(__name__)

ARTICLES = "articles"
QUARANTINE = "quarantine"
RUNS = "runs"
COMPACTIONS = "compactions"
TABLES = (ARTICLES, QUARANTINE)
PART_RE = re.compile(r"part-(?P<run_id>[A-Za-z0-9_.-]+)-(?P<n>\d+)\.parquet")
RUN_ID_STAMP_RE = re.compile(r"(?P<stamp>\d{8}T\d{6}Z)-[0-9a-f]{8}")
#: Compactions wrote ``part-compact-<id>-0.parquet``.
COMPACTION_PREFIX = "compact-"


def _hidden(key: str) -> bool:
    return any(part.startswith((".", "_")) for part in key.split("/"))


def run_id_of(key: str) -> str | None:
    """The run id in a part's file name (``part-<run_id>-<n>.parquet``)."""
    m = PART_RE.fullmatch(key.rsplit("/", 1)[-1])
    return m["run_id"] if m else None


def started_at_of(run_id: str) -> datetime | None:
    """The start time a run id (``YYYYMMDDTHHMMSSZ-<8 hex>``) carries."""
    m = RUN_ID_STAMP_RE.fullmatch(run_id)
    return datetime.strptime(m["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if m else None


@dataclass
class LegacyArchive:
    """An old-layout archive on a pyarrow filesystem (``base``: its root path on ``fs``)."""

    fs: pafs.FileSystem
    base: str
    uri: str
    #: What the listing met that is not part of the archive (links, unreadable manifests).
    problems: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, uri: str) -> LegacyArchive:
        """A local directory (or ``file://``) or ``s3://bucket/prefix`` (endpoint and
        credentials from the AWS environment)."""
        if uri.startswith("s3://"):
            from newsarchive.storage.s3 import S3Config, parse_s3_uri

            bucket, prefix = parse_s3_uri(uri)
            return cls(S3Config().arrow(), f"{bucket}/{prefix}".rstrip("/"), uri)
        root = Path(uri.removeprefix("file://")).expanduser().resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"{uri}: no such archive directory")
        return cls(pafs.LocalFileSystem(), str(root), uri)

    def files(self, top: str) -> list[str]:
        """Keys of the regular, not hidden files under ``top``."""
        if isinstance(self.fs, pafs.LocalFileSystem):
            return sorted(k for k in self._walk_local(top) if not _hidden(k))
        selector = pafs.FileSelector(f"{self.base}/{top}", recursive=True, allow_not_found=True)
        prefix = len(self.base) + 1
        return sorted(
            info.path[prefix:]
            for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.File and not _hidden(info.path[prefix:])
        )

    def _walk_local(self, top: str) -> Iterator[str]:
        root = Path(self.base)
        stack = [root / top]
        while stack:
            directory = stack.pop()
            if directory.is_symlink():
                self.problems.append(f"symbolic link {directory.relative_to(root).as_posix()}: not followed")
                continue
            try:
                entries = list(os.scandir(directory))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                key = Path(entry.path).relative_to(root).as_posix()
                if entry.is_symlink():
                    self.problems.append(f"symbolic link {key}: not followed")
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    yield key

    def read_json(self, key: str) -> dict[str, Any] | None:
        try:
            with self.fs.open_input_stream(f"{self.base}/{key}") as f:
                data = json.loads(f.read())
        except (OSError, ValueError) as exc:
            self.problems.append(f"unreadable {key}: {exc}")
            return None
        if not isinstance(data, dict):
            self.problems.append(f"unreadable {key}: not a JSON object")
            return None
        return data

    def manifests(self) -> dict[str, dict[str, Any]]:
        """Run id → run manifest."""
        out = {}
        for key in self.files(RUNS):
            if key.count("/") == 1 and key.endswith(".json"):
                manifest = self.read_json(key)
                if manifest is not None and isinstance(manifest.get("run_id"), str):
                    out[manifest["run_id"]] = manifest
        return out

    def compactions(self) -> list[dict[str, Any]]:
        found = (self.read_json(k) for k in self.files(COMPACTIONS) if k.endswith(".json"))
        return [c for c in found if c is not None]

    def live_files(self, table: str) -> list[str]:
        """The Parquet parts of ``table`` that hold its rows (see the module docstring)."""
        compactions = self.compactions()
        replaced = {k for c in compactions for k in c.get("replaces", [])}
        written = {f.get("key") for c in compactions for f in c.get("files", []) if isinstance(f, dict)}
        live = []
        for key in self.files(table):
            run_id = run_id_of(key)
            if run_id is None or key in replaced:
                continue
            if run_id.startswith(COMPACTION_PREFIX) and key not in written:
                logger.warning("Skipping %s: output of a compaction that never finished", key)
                continue
            live.append(key)
        return live

    def read(self, key: str, schema: pa.Schema) -> pa.Table:
        """The rows of one part as ``schema``: dictionaries cast to their values, missing
        columns NULL, columns ``schema`` lacks (the path's ``date``) dropped; a row without
        a ``run_id`` takes the file name's."""
        with self.fs.open_input_file(f"{self.base}/{key}") as f:
            rows = pq.ParquetFile(f).read()  # one file: no partition keys from the path
        columns = []
        for target in schema:
            if target.name in rows.column_names:
                column = rows.column(target.name)
                if pa.types.is_dictionary(column.type):
                    column = column.cast(column.type.value_type)
                columns.append(column.cast(target.type))
            else:
                columns.append(pa.nulls(rows.num_rows, target.type))
        table = pa.Table.from_arrays(columns, schema=schema)
        if "run_id" in schema.names:
            fallback = run_id_of(key)
            filled = pc.fill_null(table.column("run_id"), pa.scalar(fallback, pa.string()))
            table = table.set_column(schema.get_field_index("run_id"), schema.field("run_id"), filled)
        return table

    def run_ids(self, key: str) -> list[str]:
        """The run ids of the rows of one part (only that column is read)."""
        with self.fs.open_input_file(f"{self.base}/{key}") as f:
            parquet = pq.ParquetFile(f)
            if "run_id" not in parquet.schema_arrow.names:
                return [run_id_of(key) or ""]
            ids = parquet.read(columns=["run_id"]).column("run_id")
        fallback = run_id_of(key) or ""
        return sorted({fallback if i is None else str(i) for i in ids.to_pylist()})
