""" "Is this archived?", asked of the table about the candidates at hand, never of every id.

The predicate is on ``source`` (a partition: other sources' files are never opened) and
``source_id`` (files are sorted by it and keep its full bounds, so only files whose range can
hold a candidate are read); only the id columns are read from them.

pyiceberg stops using file bounds for an ``In`` of more than 200 values (its
``IN_PREDICATE_LIMIT``: every file of the partition "might match"), and a spider asks about
every id its lists name at once (2,000 for a feed of 2,000 articles). So :func:`id_filter` adds
the candidates' range, ``min(ids) <= source_id <= max(ids)``, which prunes whatever the count:
the files of older months, whose ids (``NW`` + date + digits) all sort below the range of a
feed's new articles, are never opened however many there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from newsarchive.archive.versions import version_key

if TYPE_CHECKING:
    from pyiceberg.table import Table

#: The columns that identify an article version (what the duplicate check reads).
VERSION_COLUMNS = ("source", "source_id", "content_sha256", "pipeline_version")


def id_filter(source: str, ids: set[str]) -> Any:
    """The row filter "``source`` is ``source`` and ``source_id`` is one of ``ids``" (not
    empty), with the ids' range spelled out so that file bounds prune (module docstring)."""
    from pyiceberg import expressions

    ex: Any = expressions  # its pydantic-generated signatures confuse mypy
    return ex.And(
        ex.EqualTo("source", source),
        ex.GreaterThanOrEqual("source_id", min(ids)),
        ex.LessThanOrEqual("source_id", max(ids)),
        ex.In("source_id", ids),
    )


def _rows(table: Table, source: str, ids: Iterable[str], columns: tuple[str, ...]) -> pa.Table:
    wanted = set(ids)
    if not wanted or table.current_snapshot() is None:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    return table.scan(row_filter=id_filter(source, wanted), selected_fields=columns).to_arrow()


def archived(table: Table, source: str, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` of which ``table`` holds at least one version."""
    return set(_rows(table, source, ids, ("source_id",)).column("source_id").to_pylist())


def article_duplicates(table: Table, rows: pa.Table) -> pa.Array:
    """Which of ``rows`` (with :data:`VERSION_COLUMNS`) the table already holds: the same
    content of the same article written by the same or a newer pipeline version. The same
    content by an older version is not a duplicate: a reparse with newer parsers writes it
    again, and the newest wins in the ``articles`` view."""
    held: dict[tuple[str, str, str | None], tuple[object, ...]] = {}
    for source in set(rows.column("source").to_pylist()):
        ids = [
            i
            for s, i in zip(rows.column("source").to_pylist(), rows.column("source_id").to_pylist(), strict=True)
            if s == source
        ]
        found = _rows(table, source, ids, VERSION_COLUMNS).to_pylist()
        for r in found:
            key = (r["source"], r["source_id"], r["content_sha256"])
            version = version_key(r["pipeline_version"])
            if key not in held or version > held[key]:
                held[key] = version
    mask = []
    for r in rows.select(list(VERSION_COLUMNS)).to_pylist():
        have = held.get((r["source"], r["source_id"], r["content_sha256"]))
        mask.append(have is not None and have >= version_key(r["pipeline_version"]))
    return pa.array(mask, pa.bool_())


def quarantine_duplicates(table: Table, rows: pa.Table) -> pa.Array:
    """Which of ``rows`` (``source``, ``fingerprint``) the quarantine already holds: the same
    bad record is written once. Rows without a fingerprint (fetch failures: events) never are."""
    from pyiceberg import expressions

    ex: Any = expressions
    held: set[tuple[str, str]] = set()
    sources = rows.column("source").to_pylist()
    prints = rows.column("fingerprint").to_pylist()
    if table.current_snapshot() is not None:
        for source in set(sources):
            wanted = {f for s, f in zip(sources, prints, strict=True) if s == source and f is not None}
            if not wanted:
                continue
            found = table.scan(
                row_filter=ex.And(ex.EqualTo("source", source), ex.In("fingerprint", wanted)),
                selected_fields=("source", "fingerprint"),
            ).to_arrow()
            held.update(zip(found.column("source").to_pylist(), found.column("fingerprint").to_pylist(), strict=True))
    return pa.array([f is not None and (s, f) in held for s, f in zip(sources, prints, strict=True)], pa.bool_())
