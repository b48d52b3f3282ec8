"""Commit a run's data files to a table: once, atomically, whoever else is committing.

A run writes its rows to Parquet files inside the table's location while it crawls (nothing
is visible yet) and registers them here in one snapshot whose summary carries
``newsarchive.run-id``. Under concurrent writers (two crawls by hand, several Airflow
workers) the catalog refuses a commit based on a stale snapshot; pyiceberg would then rebase
the append by itself, skipping the duplicate check made before it, so the tables are created
with ``commit.retry.num-retries=0`` and this module retries instead: reload the table, skip
the commit if this run is already in it (a retried commit is a no-op), re-run the duplicate
check against what the other writer committed, rewrite the files without those rows, and try
again after a jittered, growing pause, a bounded number of times.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from pyiceberg.table import Table

logger = logging.getLogger(__name__)

RUN_ID = "newsarchive.run-id"
DAG_RUN_ID = "newsarchive.dag-run-id"
OPERATION = "newsarchive.operation"

#: ``duplicates(table, rows)`` → a boolean mask of the rows of ``rows`` that ``table``
#: already holds (reads only what the candidates' ids select).
DuplicateCheck = Callable[["Table", pa.Table], pa.Array]


#: ``checked_at`` default: the caller checked against no snapshot; always check.
UNCHECKED = object()


def _busy_errors() -> tuple[type[Exception], ...]:
    try:
        from sqlalchemy.exc import OperationalError
    except ImportError:  # no SQL catalog installed
        return ()
    return (OperationalError,)


#: What a SQL catalog raises when another writer holds its database (SQLite: "database is
#: locked" after its busy timeout): the same situation as a refused commit, so retried alike.
BUSY = _busy_errors()


def _retryable() -> tuple[type[Exception], ...]:
    from pyiceberg.exceptions import CommitFailedException

    return (CommitFailedException, *BUSY)


#: Exceptions a commit attempt may end with and be tried again (see :func:`is_conflict`).
RETRYABLE: tuple[type[Exception], ...] = _retryable()


def is_conflict(exc: BaseException) -> bool:
    from pyiceberg.exceptions import CommitFailedException

    return isinstance(exc, CommitFailedException) or "database is locked" in str(exc)


class CommitError(RuntimeError):
    """The commit did not happen: conflicts outlasted every attempt, or the catalog failed."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 10
    base_delay: float = 0.1
    max_delay: float = 5.0

    def pause(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^attempt)] (writers that collided once
        do not collide again in lockstep)."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


@dataclass
class CommitOutcome:
    table: str
    snapshot_id: int | None = None
    #: Files registered by the commit (after rewriting, if duplicates were removed).
    files: list[str] = field(default_factory=list)
    rows: int = 0
    #: Rows left out because another writer had committed them first.
    duplicates: int = 0
    #: Commit attempts refused by the catalog because another writer committed first.
    conflicts: int = 0
    #: The run was already committed to this table (a retry): nothing was done.
    already: bool = False


def committed_by(table: Table, run_id: str) -> int | None:
    """The snapshot of ``table`` that committed run ``run_id``, if any (metadata only)."""
    for snapshot in table.snapshots():
        summary = snapshot.summary
        if summary is not None and summary.get(RUN_ID) == run_id:
            return snapshot.snapshot_id
    return None


def commit_files(
    load: Callable[[], Table],
    paths: Sequence[str],
    *,
    run_id: str,
    dag_run_id: str | None = None,
    operation: str = "crawl",
    duplicates: DuplicateCheck | None = None,
    key_columns: Sequence[str] = (),
    checked_at: int | object | None = UNCHECKED,
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
) -> CommitOutcome:
    """Register ``paths`` (Parquet files in the table's location) in one snapshot, exactly once.

    ``load`` returns the table freshly loaded from the catalog (it is called on every attempt).
    With ``duplicates``, each attempt reads the files' ``key_columns`` and drops the rows the
    table already holds, rewriting the file beside the original (which is deleted: no snapshot
    ever named it)."""
    policy = policy or RetryPolicy()
    rng = rng or random.Random()  # jitter, not security
    pending = list(paths)
    outcome = CommitOutcome(table="")
    for attempt in range(policy.attempts):
        table = load()
        outcome.table = ".".join(table.name())
        done = committed_by(table, run_id)
        if done is not None:
            outcome.already = outcome.snapshot_id is None
            outcome.snapshot_id = done
            return outcome
        current = table.current_snapshot()
        unchanged = checked_at is not UNCHECKED and (current.snapshot_id if current else None) == checked_at
        if duplicates is not None and not unchanged:
            pending, dropped = _without_duplicates(table, pending, duplicates, key_columns, attempt)
            outcome.duplicates += dropped
        if not pending:
            logger.info("%s: nothing left to commit for run %s", outcome.table, run_id)
            return outcome
        properties = _summary(run_id, dag_run_id, operation)

        if not _attempt(partial(_add_files, table, pending, properties), outcome, policy, attempt, rng):
            continue
        committed = load()
        outcome.snapshot_id = committed_by(committed, run_id)
        outcome.files = list(pending)
        outcome.rows = sum(_rows(committed, p) for p in pending)
        return outcome
    raise CommitError(f"{outcome.table}: run {run_id} not committed after {policy.attempts} attempts (conflicts)")


def commit_rows(
    load: Callable[[], Table],
    rows: pa.Table,
    *,
    run_id: str,
    dag_run_id: str | None = None,
    operation: str = "crawl",
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
) -> CommitOutcome:
    """Append ``rows`` (small: a run's ``runs`` row) in one snapshot carrying ``run_id``,
    exactly once: a retry after the run is in the table is a no-op."""
    policy = policy or RetryPolicy()
    rng = rng or random.Random()  # jitter, not security
    outcome = CommitOutcome(table="")
    properties = _summary(run_id, dag_run_id, operation)
    for attempt in range(policy.attempts):
        table = load()
        outcome.table = ".".join(table.name())
        done = committed_by(table, run_id)
        if done is not None:
            outcome.already = outcome.snapshot_id is None
            outcome.snapshot_id = done
            return outcome
        if not _attempt(partial(table.append, rows, snapshot_properties=properties), outcome, policy, attempt, rng):
            continue
        outcome.snapshot_id = committed_by(load(), run_id)
        outcome.rows = rows.num_rows
        return outcome
    raise CommitError(f"{outcome.table}: run {run_id} not committed after {policy.attempts} attempts (conflicts)")


def _add_files(table: Table, paths: list[str], properties: dict[str, str]) -> None:
    with table.transaction() as tx:
        # Our run id, not a scan of every manifest, proves the files are new.
        tx.add_files(list(paths), snapshot_properties=properties, check_duplicate_files=False)


def _summary(run_id: str, dag_run_id: str | None, operation: str) -> dict[str, str]:
    """The snapshot summary properties that make a run's commit recognisable."""
    properties = {RUN_ID: run_id, OPERATION: operation}
    if dag_run_id:
        properties[DAG_RUN_ID] = dag_run_id
    return properties


def _attempt(
    commit: Callable[[], object], outcome: CommitOutcome, policy: RetryPolicy, attempt: int, rng: random.Random
) -> bool:
    """One commit attempt: True when it landed; False (after a jittered pause) when the catalog
    refused it or cannot say, so the caller reloads and checks again."""
    from pyiceberg.exceptions import CommitStateUnknownException

    try:
        commit()
    except RETRYABLE as exc:
        if not is_conflict(exc):
            raise
        outcome.conflicts += 1
        pause = policy.pause(attempt, rng)
        logger.info("%s: commit conflict (%s), retrying in %.2fs", outcome.table, exc, pause)
        time.sleep(pause)
        return False
    except CommitStateUnknownException as exc:
        # It may have landed: the next attempt's run-id check tells.
        logger.warning("%s: commit state unknown (%s), checking", outcome.table, exc)
        time.sleep(policy.pause(attempt, rng))
        return False
    return True


def _without_duplicates(
    table: Table, paths: list[str], duplicates: DuplicateCheck, key_columns: Sequence[str], attempt: int
) -> tuple[list[str], int]:
    kept: list[str] = []
    dropped = 0
    for path in paths:
        keys = _read(table, path, key_columns)
        mask = duplicates(table, keys)
        n = pc.sum(pc.cast(mask, pa.int64())).as_py() or 0
        if n == 0:
            kept.append(path)
            continue
        dropped += n
        rows = _read(table, path).filter(pc.invert(mask))
        if rows.num_rows:
            rewritten = path.removesuffix(".parquet") + f"-r{attempt}.parquet"
            with table.io.new_output(rewritten).create(overwrite=True) as out:
                pq.write_table(rows, out, compression="zstd")
            kept.append(rewritten)
        table.io.delete(path)
    return kept, dropped


def _read(table: Table, path: str, columns: Sequence[str] | None = None) -> pa.Table:
    with table.io.new_input(path).open() as f:
        return pq.read_table(f, columns=list(columns) if columns else None)


def _rows(table: Table, path: str) -> int:
    with table.io.new_input(path).open() as f:
        return int(pq.read_metadata(f).num_rows)
