"""Streaming a run's rows into Parquet files in a table's location, with bounded memory.

Rows are buffered per partition (the table's hidden partitioning: ``source`` and the UTC month
of a timestamp column) up to one row group, then written with ``pyarrow.parquet.ParquetWriter``
straight to a file in the table's location, through the table's own FileIO (a local warehouse
or an object store alike). Nothing is visible until the run commits the files
(:mod:`newsarchive.tables.commit`): a run killed before that leaves orphans that maintenance
removes, never rows anyone reads. A partition that has received no row while a row group's
worth went elsewhere has its buffer written too, and at most ``max_open`` files are open (the
least recently used one is finished when another is needed).

Two kinds of failure are kept apart. A *row* pyarrow cannot convert costs only that row: the
row group is converted again row by row (only then), the bad rows go to ``on_reject`` and the
rest is written. A failure to *write* (disk full, I/O error) is the run's: it raises
:class:`WriteFailed` and the sink refuses further rows.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from pyiceberg.io import FileIO

logger = logging.getLogger(__name__)

#: What converting a row to Arrow raises for a value its column cannot hold (a lone
#: surrogate: UnicodeEncodeError, a ValueError; a wrong type: ArrowTypeError; an integer too
#: large: ArrowInvalid or OverflowError).
CONVERSION_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError)

#: Called with a row that cannot be stored and the error; returns a row to store instead
#: (e.g. the same text escaped), or None to leave it out.
OnReject = Callable[[dict[str, Any], Exception], "dict[str, Any] | None"]

#: (source, "YYYY-MM" or None): a partition of ``articles`` or ``quarantine``.
PartitionKey = tuple[str, str | None]


class WriteFailed(Exception):  # noqa: N818 (a state, like DropItem)
    """Writing a file of the run failed: the run fails and its rows are not turned into
    quarantine rows."""


@dataclass(frozen=True)
class DataFile:
    """A finished file of the run, ready to be committed."""

    path: str
    rows: int
    partition: PartitionKey


def month_of(value: datetime | None) -> str | None:
    """The UTC month of ``value``, as Iceberg's ``month`` transform partitions it."""
    if value is None:
        return None
    utc = value.astimezone(UTC) if value.tzinfo is not None else value
    return f"{utc.year:04d}-{utc.month:02d}"


@dataclass
class _Open:
    path: str
    stream: Any
    writer: pq.ParquetWriter
    rows: int = 0


@dataclass
class _Partition:
    key: PartitionKey
    buffer: list[dict[str, Any]] = field(default_factory=list)
    part: _Open | None = None
    last_row: int = 0  # the sink's row count at this partition's latest row


class TableSink:
    """Writes rows of one schema into ``<location>/data/source=<s>/<month_field>=<m>/<run_id>-<n>.parquet``."""

    def __init__(
        self,
        io: FileIO,
        location: str,
        schema: pa.Schema,
        run_id: str,
        *,
        kind: str,
        month_field: str,
        row_group_size: int = 1000,
        max_rows_per_file: int = 200_000,
        max_open: int = 16,
        compression: str = "zstd",
        compression_level: int | None = 3,
        on_reject: OnReject | None = None,
    ) -> None:
        self.io = io
        self.location = location.rstrip("/")
        self.schema = schema
        self.run_id = run_id
        self.kind = kind
        self.month_field = month_field
        self.row_group_size = max(1, row_group_size)
        self.max_rows_per_file = max(self.row_group_size, max_rows_per_file)
        self.max_open = max(1, max_open)
        self.compression = compression
        self.compression_level = compression_level
        self.on_reject = on_reject
        #: Columns pyarrow only checks when writing: a null there is the row's fault, not the disk's.
        self._required = [f.name for f in schema if not f.nullable]
        self._partitions: dict[PartitionKey, _Partition] = {}
        self._open: OrderedDict[PartitionKey, None] = OrderedDict()
        self._buffered: OrderedDict[PartitionKey, None] = OrderedDict()
        self._n = 0
        self.rows = 0
        #: Rows left out because they could not be stored (after ``on_reject``).
        self.rejected = 0
        #: Files finished so far (committed by the run at its end).
        self.finished: list[DataFile] = []
        #: Every file this sink created, finished or not (what an abort deletes).
        self.created: list[str] = []
        #: The write failure that stopped this sink, if any.
        self.failed: WriteFailed | None = None

    def write(self, key: PartitionKey, row: dict[str, Any]) -> None:
        if self.failed is not None:
            raise self.failed
        part = self._partitions.get(key)
        if part is None:
            part = self._partitions[key] = _Partition(key)
        part.buffer.append(row)
        self.rows += 1
        part.last_row = self.rows
        self._buffered[key] = None
        self._buffered.move_to_end(key)
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
                self._open_file(partition)
            assert partition.part is not None
            partition.part.writer.write_table(table, row_group_size=self.row_group_size)
            partition.part.rows += table.num_rows
            self._open.move_to_end(partition.key)
            if partition.part.rows >= self.max_rows_per_file:
                self._finish(partition)
        except Exception as exc:
            raise self._fail(f"writing {self._dir(partition.key)}", exc) from exc

    def _fail(self, doing: str, exc: Exception) -> WriteFailed:
        if isinstance(exc, WriteFailed):
            return exc
        self.failed = WriteFailed(f"{self.kind}: {doing} failed: {type(exc).__name__}: {exc}")
        return self.failed

    def _convert(self, rows: list[dict[str, Any]]) -> pa.Table:
        table = pa.Table.from_pylist(rows, schema=self.schema)
        for name in self._required:
            if table.column(name).null_count:
                raise ValueError(f"column {name!r} cannot be null")
        return table

    def _table(self, rows: list[dict[str, Any]]) -> pa.Table | None:
        """The rows as one table; rows that cannot be converted are handed to ``on_reject``."""
        try:
            return self._convert(rows)
        except CONVERSION_ERRORS:
            if self.on_reject is None:
                raise
        tables = []
        for row in rows:
            try:
                tables.append(self._convert([row]))
                continue
            except CONVERSION_ERRORS as exc:
                instead = self.on_reject(row, exc)
            if instead is not None:
                try:
                    tables.append(self._convert([instead]))
                    continue
                except CONVERSION_ERRORS as again:
                    logger.error("%s: a row could not be stored even after on_reject: %s", self.kind, again)
            self.rejected += 1
        return pa.concat_tables(tables) if tables else None

    def _dir(self, key: PartitionKey) -> str:
        source, month = key
        return f"{self.location}/data/source={quote(source, safe='')}/{self.month_field}={month or 'null'}"

    def _open_file(self, partition: _Partition) -> None:
        while len(self._open) >= self.max_open:
            lru = next(iter(self._open))
            self._finish(self._partitions[lru])
        path = f"{self._dir(partition.key)}/{self.run_id}-{self._n}.parquet"
        self._n += 1
        self.created.append(path)
        stream = self.io.new_output(path).create(overwrite=False)
        try:
            writer = pq.ParquetWriter(
                stream,
                self.schema,
                compression=self.compression,
                compression_level=self.compression_level,
                write_statistics=True,
            )
        except Exception:
            stream.close()
            raise
        partition.part = _Open(path, stream, writer)
        self._open[partition.key] = None

    def _finish(self, partition: _Partition) -> None:
        part = partition.part
        if part is None:
            return
        partition.part = None
        self._open.pop(partition.key, None)
        part.writer.close()
        part.stream.close()
        self.finished.append(DataFile(part.path, part.rows, partition.key))

    def close(self) -> list[DataFile]:
        """Flush every buffer and finish every file; returns the files to commit."""
        if self.failed is not None:
            raise self.failed
        for partition in self._partitions.values():
            self._flush(partition)
            try:
                self._finish(partition)
            except Exception as exc:
                raise self._fail(f"finishing {self._dir(partition.key)}", exc) from exc
        return list(self.finished)

    def abort(self) -> None:
        """Close writers and delete every file this sink created (none is committed yet)."""
        self._buffered.clear()
        for partition in self._partitions.values():
            partition.buffer = []
            part, partition.part = partition.part, None
            if part is not None:
                for close in (part.writer.close, part.stream.close):
                    try:
                        close()
                    except Exception as exc:  # a full disk fails the footer too; the file goes anyway
                        logger.warning("%s: closing %s while aborting: %s", self.kind, part.path, exc)
        self._open.clear()
        for path in self.created:
            try:
                self.io.delete(path)
            except FileNotFoundError:
                pass
            except Exception as exc:  # an orphan maintenance removes; never a row anyone reads
                logger.warning("%s: could not delete %s: %s", self.kind, path, exc)
        self.created = []
        self.finished = []
