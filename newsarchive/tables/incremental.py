"""What arrived since snapshot X: the rows the runs committed after it, never a compaction's.

pyiceberg 0.12 has no incremental scan, so this module walks the table's history itself. The
snapshots read are those after X among the ancestors of the current snapshot (the table's own
line of history, as it was when the read was planned: ``Changes.until``) whose summary carries
``newsarchive.run-id`` and whose ``newsarchive.operation`` is not ``compact``. Crawls,
backfills, reparse and migrate commit that way; a compaction re-adds rows that were already
handed out, in new files, so its snapshots are skipped. Of each snapshot, only the data files
it ADDED itself are read (manifest entries with status ADDED and that snapshot's id, in the
manifests that snapshot wrote), with the table's FileIO, projected by name onto the table's
current schema (files without field ids are read through the table's name mapping).

A file a run added stays readable as long as its snapshot is in the history, even after a
compaction replaced it in the current snapshot. When X is no longer in the history (expired by
``newsarchive compact``) or is not an ancestor of the current snapshot, the read fails with
:class:`SnapshotExpiredError` rather than return a partial answer: read the table in full then,
and store the ``until`` snapshot for next time.

Downstream jobs store ``Changes.until`` (the current snapshot id when they read) and pass it as
``since`` the next time: every committed run's rows are then handed out exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from newsarchive.tables.commit import OPERATION, RUN_ID, committed_by

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

COMPACT = "compact"  # maintain.COMPACT; not imported, so a reader does not load the maintenance code


class SnapshotExpiredError(LookupError):
    """The snapshot to read from is not in the table's history (any more): no partial answer."""


@dataclass(frozen=True)
class Changes:
    """A planned incremental read: the snapshots after ``since`` up to ``until`` whose rows count."""

    table: Table
    #: The snapshot read from (exclusive); None: from the table's first snapshot.
    since: int | None
    #: The current snapshot when the read was planned (store it; pass it as ``since`` next time).
    #: None when the table has no snapshot yet.
    until: int | None
    #: The runs' snapshots read, oldest first: (snapshot id, run id).
    snapshots: tuple[tuple[int, str], ...]
    #: Their added data files, in commit order.
    files: tuple[DataFile, ...]
    #: Snapshots after ``since`` left out because a compaction made them (or no run did).
    skipped: tuple[int, ...] = ()

    @property
    def run_ids(self) -> list[str]:
        return [run for _, run in self.snapshots]

    @property
    def file_paths(self) -> list[str]:
        return [f.file_path for f in self.files]

    @property
    def rows(self) -> int:
        """Rows in the files (from the manifests, nothing read)."""
        return sum(f.record_count for f in self.files)

    def read(self, columns: Sequence[str] | None = None) -> pa.Table:
        """The rows as one Arrow table with the table's current schema (or ``columns``)."""
        scan = self._scan(columns)
        schema = scan._projected_schema
        if not self.files:
            from pyiceberg.io.pyarrow import schema_to_pyarrow

            return schema_to_pyarrow(schema).empty_table()
        return scan.to_table(self._tasks())

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The same rows batch by batch (memory stays flat however much arrived)."""
        if not self.files:
            return
        yield from self._scan(columns).to_record_batches(self._tasks())

    def _tasks(self) -> list[object]:
        from pyiceberg.table import FileScanTask

        return [FileScanTask(f) for f in self.files]

    def _scan(self, columns: Sequence[str] | None):  # type: ignore[no-untyped-def]
        from pyiceberg.expressions import AlwaysTrue
        from pyiceberg.io.pyarrow import ArrowScan

        schema = self.table.schema()
        if columns:
            missing = [c for c in columns if c not in {f.name for f in schema.fields}]
            if missing:
                raise ValueError(f"{'.'.join(self.table.name())} has no column {', '.join(missing)}")
            schema = schema.select(*columns)
        return ArrowScan(self.table.metadata, self.table.io, schema, AlwaysTrue())


def since_snapshot(table: Table, snapshot_id: int | None) -> Changes:
    """The runs' rows committed after ``snapshot_id`` (None: every run's rows since the table's
    first snapshot, which must still be in the history)."""
    current = table.current_snapshot()
    if current is None:
        if snapshot_id is not None:
            raise SnapshotExpiredError(f"{_name(table)} has no snapshot, so none after {snapshot_id}")
        return Changes(table, None, None, (), ())
    after = _after(table, current, snapshot_id)
    wanted: list[tuple[int, str]] = []
    skipped: list[int] = []
    for snap in after:
        summary = snap.summary
        run = summary.get(RUN_ID) if summary is not None else None
        if run is None or summary is None or summary.get(OPERATION) == COMPACT:
            skipped.append(snap.snapshot_id)
        else:
            wanted.append((snap.snapshot_id, run))
    files: list[DataFile] = []
    for snap_id, _ in wanted:
        files.extend(_added_files(table, snap_id))
    return Changes(table, snapshot_id, current.snapshot_id, tuple(wanted), tuple(files), tuple(skipped))


def since_time(table: Table, when: datetime) -> Changes:
    """The runs' rows committed after ``when`` (a time zone is required; UTC is usual)."""
    if when.tzinfo is None:
        raise ValueError("since_time needs an aware datetime (e.g. datetime(..., tzinfo=UTC))")
    ms = int(when.astimezone(UTC).timestamp() * 1000)
    current = table.current_snapshot()
    if current is None:
        return Changes(table, None, None, (), ())
    line = _ancestors(table, current)
    before = [s for s in line if s.timestamp_ms <= ms]
    if before:
        return since_snapshot(table, before[0].snapshot_id)
    oldest = line[-1]
    if _truncated(oldest):
        raise SnapshotExpiredError(
            f"{_name(table)}: the history now starts at snapshot {oldest.snapshot_id} "
            f"({_iso(oldest.timestamp_ms)}), after {when.isoformat()}; the snapshots before were expired"
        )
    return since_snapshot(table, None)


def since_run(table: Table, run_id: str) -> Changes:
    """The runs' rows committed after the snapshot that committed run ``run_id`` to this table."""
    snap = committed_by(table, run_id)
    if snap is None:
        raise SnapshotExpiredError(
            f"{_name(table)} has no snapshot of run {run_id!r}: the run committed no rows to this table, "
            "never ran, or its snapshot was expired (read since a snapshot id or a time instead)"
        )
    return since_snapshot(table, snap)


def _after(table: Table, current: Snapshot, since: int | None) -> list[Snapshot]:
    """The ancestors of ``current`` after ``since``, oldest first."""
    line = _ancestors(table, current)
    if since is None:
        oldest = line[-1]
        if _truncated(oldest):
            raise SnapshotExpiredError(
                f"{_name(table)}: the snapshots before {oldest.snapshot_id} were expired, so not every "
                "run's rows can be read from the history; read the table in full instead"
            )
        return list(reversed(line))
    ids = [s.snapshot_id for s in line]
    if since not in ids:
        if table.metadata.snapshot_by_id(since) is not None:
            raise SnapshotExpiredError(
                f"{_name(table)}: snapshot {since} is not an ancestor of the current snapshot "
                f"{current.snapshot_id} (the table was rolled back or branched)"
            )
        raise SnapshotExpiredError(
            f"{_name(table)}: snapshot {since} is not in the table's history (expired, or from another "
            f"table); the oldest kept is {line[-1].snapshot_id} ({_iso(line[-1].timestamp_ms)}). "
            "Read the table in full and store the current snapshot instead"
        )
    return list(reversed(line[: ids.index(since)]))


def _ancestors(table: Table, current: Snapshot) -> list[Snapshot]:
    """``current`` and its ancestors still in the metadata, newest first."""
    from pyiceberg.table.snapshots import ancestors_of

    return list(ancestors_of(current, table.metadata))


def _truncated(oldest: Snapshot) -> bool:
    """Whether snapshots older than ``oldest`` (the oldest ancestor kept) were expired: it names
    a parent, or its sequence number says others came first (expiry may clear the parent)."""
    return oldest.parent_snapshot_id is not None or (oldest.sequence_number or 0) > 1


def _added_files(table: Table, snapshot_id: int) -> list[DataFile]:
    """The data files snapshot ``snapshot_id`` added (only the manifests it wrote are read)."""
    from pyiceberg.manifest import DataFileContent, ManifestContent, ManifestEntryStatus

    snap = table.metadata.snapshot_by_id(snapshot_id)
    assert snap is not None  # an ancestor found above
    files = []
    for manifest in snap.manifests(table.io):
        if manifest.content != ManifestContent.DATA or manifest.added_snapshot_id != snapshot_id:
            continue
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            if (
                entry.status == ManifestEntryStatus.ADDED
                and entry.snapshot_id == snapshot_id
                and entry.data_file.content == DataFileContent.DATA
            ):
                files.append(entry.data_file)
    return files


def _name(table: Table) -> str:
    return ".".join(table.name())


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()
