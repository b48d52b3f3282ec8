"""Streaming, partitioned Parquet writing with bounded memory.

Rows are buffered per partition up to one row group, then written with
``pyarrow.parquet.ParquetWriter`` to a hidden temporary file. A partition that has
received no row while a row group's worth went elsewhere has its buffer written too (a
crawl moves from one day to the next; without this every day's last rows would wait in
memory for the end of the run). At most ``max_open`` partitions keep a writer open; the
least recently used one is closed when another is needed (its next rows start a new part).
Files become visible under their final names only in :meth:`PartitionedSink.publish`, at
the end of the run.

Two kinds of failure are kept apart. A *row* pyarrow cannot convert (a value no Parquet
column can hold) costs only that row: the row group is converted again row by row (only
then: the hot path is one conversion per row group), the bad rows go to ``on_reject`` and
the rest is written. A failure to *write* (disk full, I/O error) is the run's: it raises
:class:`WriteFailed`, the sink refuses further rows, and what was published stays.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from newsarchive.archive.files import WrittenFile, publish, sha256_file
from newsarchive.archive.layout import Layout, part_name, temp_name

logger = logging.getLogger(__name__)

#: What converting a row to Arrow raises for a value its column cannot hold (a lone
#: surrogate: UnicodeEncodeError, a ValueError; a wrong type: ArrowTypeError; an integer too
#: large: ArrowInvalid or OverflowError).
CONVERSION_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError)

#: Called with a row that cannot be stored and the error; returns a row to store instead
#: (e.g. the same text escaped), or None to leave it out.
OnReject = Callable[[dict[str, Any], Exception], "dict[str, Any] | None"]


class WriteFailed(Exception):  # noqa: N818 (a state, like DropItem)
    """Writing or publishing a file of the run failed: the run fails, its rows are not
    turned into quarantine rows, and files already published stay."""


@dataclass
class _Part:
    key: str
    tmp: Path
    writer: pq.ParquetWriter
    rows: int = 0


@dataclass
class _Partition:
    key: str  # e.g. articles/source=finews/date=2022-01-12
    buffer: list[dict[str, Any]] = field(default_factory=list)
    part: _Part | None = None
    next_n: int = 0
    last_row: int = 0  # the sink's row count at this partition's latest row


class PartitionedSink:
    """Writes rows of one schema into ``<partition>/part-<run_id>-<n>.parquet`` files."""

    def __init__(
        self,
        layout: Layout,
        schema: pa.Schema,
        run_id: str,
        *,
        kind: str,
        row_group_size: int = 1000,
        max_rows_per_file: int = 200_000,
        max_open: int = 16,
        compression: str = "zstd",
        compression_level: int | None = 3,
        on_reject: OnReject | None = None,
    ) -> None:
        self.layout = layout
        self.schema = schema
        self.run_id = run_id
        self.kind = kind
        self.row_group_size = max(1, row_group_size)
        self.max_rows_per_file = max(self.row_group_size, max_rows_per_file)
        self.max_open = max(1, max_open)
        self.compression = compression
        self.compression_level = compression_level
        self._partitions: dict[str, _Partition] = {}
        self._open: OrderedDict[str, None] = OrderedDict()  # LRU of partitions with a writer
        self._buffered: OrderedDict[str, None] = OrderedDict()  # partitions holding rows, oldest first
        self._finished: list[_Part] = []
        self.rows = 0
        self.on_reject = on_reject
        #: Rows left out because they could not be stored (after ``on_reject``).
        self.rejected = 0
        #: Files published so far (kept when a later one fails: they are the run's rows on disk).
        self.published: list[WrittenFile] = []
        #: The write failure that stopped this sink, if any.
        self.failed: WriteFailed | None = None

    def write(self, partition_key: str, row: dict[str, Any]) -> None:
        if self.failed is not None:
            raise self.failed
        part = self._partitions.get(partition_key)
        if part is None:
            part = self._partitions[partition_key] = _Partition(partition_key)
        part.buffer.append(row)
        self.rows += 1
        part.last_row = self.rows
        self._buffered[partition_key] = None
        self._buffered.move_to_end(partition_key)
        if len(part.buffer) >= self.row_group_size:
            self._flush(part)
        idle_before = self.rows - self.row_group_size
        while self._buffered:
            oldest = self._partitions[next(iter(self._buffered))]
            if oldest.last_row > idle_before:
                break
            self._flush(oldest)

    def _flush(self, partition: _Partition) -> None:
        self._buffered.pop(partition.key, None)
        if not partition.buffer:
            return
        rows, partition.buffer = partition.buffer, []
        table = self._table(rows)
        if table is None or not table.num_rows:
            return
        try:
            if partition.part is None:
                self._open_part(partition)
            assert partition.part is not None
            partition.part.writer.write_table(table, row_group_size=self.row_group_size)
            partition.part.rows += table.num_rows
            self._open.move_to_end(partition.key)
            if partition.part.rows >= self.max_rows_per_file:
                self._close_part(partition)
        except Exception as exc:
            raise self._fail(f"writing {partition.key}", exc) from exc

    def _fail(self, doing: str, exc: Exception) -> WriteFailed:
        if isinstance(exc, WriteFailed):
            return exc
        self.failed = WriteFailed(f"{self.kind}: {doing} failed: {type(exc).__name__}: {exc}")
        return self.failed

    def _table(self, rows: list[dict[str, Any]]) -> pa.Table | None:
        """The rows as one table; rows that cannot be converted are handed to ``on_reject``."""
        try:
            return pa.Table.from_pylist(rows, schema=self.schema)
        except CONVERSION_ERRORS:
            if self.on_reject is None:
                raise
        tables = []
        for row in rows:
            try:
                tables.append(pa.Table.from_pylist([row], schema=self.schema))
                continue
            except CONVERSION_ERRORS as exc:
                instead = self.on_reject(row, exc)
            if instead is not None:
                try:
                    tables.append(pa.Table.from_pylist([instead], schema=self.schema))
                    continue
                except CONVERSION_ERRORS as again:
                    logger.error("%s: a row could not be stored even after on_reject: %s", self.kind, again)
            self.rejected += 1
        return pa.concat_tables(tables) if tables else None

    def _open_part(self, partition: _Partition) -> None:
        while len(self._open) >= self.max_open:
            lru, _ = self._open.popitem(last=False)
            self._close_part(self._partitions[lru], lru_evicted=True)
        key = f"{partition.key}/{part_name(self.run_id, partition.next_n)}"
        partition.next_n += 1
        final = self.layout.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(temp_name(final.name))
        writer = pq.ParquetWriter(
            tmp,
            self.schema,
            compression=self.compression,
            compression_level=self.compression_level,
            write_statistics=True,
        )
        partition.part = _Part(key, tmp, writer)
        self._open[partition.key] = None

    def _close_part(self, partition: _Partition, lru_evicted: bool = False) -> None:
        if partition.part is None:
            return
        partition.part.writer.close()
        self._finished.append(partition.part)
        partition.part = None
        if not lru_evicted:
            self._open.pop(partition.key, None)

    def close(self) -> None:
        """Flush every buffer and close every writer; files stay temporary."""
        if self.failed is not None:
            raise self.failed
        for partition in self._partitions.values():
            self._flush(partition)
            try:
                self._close_part(partition)
            except Exception as exc:
                raise self._fail(f"closing {partition.key}", exc) from exc
        self._open.clear()

    def publish(self) -> list[WrittenFile]:
        """Give every finished part its final name; return them for the manifest (and keep
        them in :attr:`published`, so a failure halfway still knows what is on disk)."""
        self.close()
        out: list[WrittenFile] = []
        while self._finished:
            part = self._finished[0]
            final = self.layout.path(part.key)
            try:
                digest = sha256_file(part.tmp)
                size = part.tmp.stat().st_size
                publish(part.tmp, final)
            except Exception as exc:
                raise self._fail(f"publishing {part.key}", exc) from exc
            self._finished.pop(0)
            written = WrittenFile(part.key, self.kind, digest, size, part.rows)
            out.append(written)
            self.published.append(written)
        return out

    def abort(self) -> None:
        """Close writers and delete the temporary files; published files are never touched."""
        self._buffered.clear()
        for partition in self._partitions.values():
            partition.buffer = []
            if partition.part is not None:
                try:
                    partition.part.writer.close()
                except Exception as exc:  # a full disk fails the footer too; the file goes anyway
                    logger.warning("%s: closing %s while aborting: %s", self.kind, partition.part.tmp, exc)
                self._finished.append(partition.part)
                partition.part = None
        for part in self._finished:
            part.tmp.unlink(missing_ok=True)
        self._finished = []
        self._open.clear()
