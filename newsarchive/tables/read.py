"""Open the archive's tables for reading, creating nothing.

A reader pointed at the wrong place must say so rather than answer with an empty result: a
directory holding no embedded catalog (and no catalog configured for the name) or a catalog
without the tables raises :class:`TablesNotFoundError` naming what was looked for, and no
``catalog.db`` is ever created by a reader (SQLite would create one in a mistyped directory).
A table that exists but has no snapshot yet reads as empty, with its schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from newsarchive.tables.catalog import CatalogSpec, resolve
from newsarchive.tables.definitions import TABLES

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table


class TablesNotFoundError(ValueError):
    """No catalog, or a catalog without the tables: a usage error (exit 2), with what was looked for."""


class TablesUnreadableError(RuntimeError):
    """The catalog is configured but cannot be read now (server down, credentials refused)."""


def locate(archive: str, name: str | None = None, namespace: str | None = None) -> CatalogSpec:
    """The catalog to read: pyiceberg's configuration of ``name``, else the embedded catalog in
    ``archive``, which must already exist."""
    if archive.startswith("s3://") or ("://" in archive and not archive.startswith("file://")):
        raise TablesNotFoundError(
            f"--archive {archive!r}: the archive is no longer a bucket prefix but tables in a catalog; "
            "configure the catalog the pyiceberg way (PYICEBERG_CATALOG__<NAME>__TYPE, __URI, __WAREHOUSE, "
            "... or .pyiceberg.yaml) and name it with --catalog or ICEBERG_CATALOG"
        )
    try:
        spec = resolve(archive, name or "", namespace or "")
    except ValueError as exc:
        raise TablesNotFoundError(str(exc)) from exc
    if spec.embedded:
        db = Path(str(spec.properties["uri"]).removeprefix("sqlite:///"))
        if not db.is_file():
            raise TablesNotFoundError(
                f"no catalog: {db} does not exist (no embedded catalog in {archive}) and pyiceberg has no "
                f"configuration for catalog {spec.name!r} (PYICEBERG_CATALOG__{spec.name.upper()}__URI or "
                ".pyiceberg.yaml)"
            )
    return spec


def open_tables(spec: CatalogSpec, names: Iterable[str] = tuple(TABLES)) -> dict[str, Table]:
    """The named tables of the catalog, loaded now."""
    from pyiceberg.catalog import load_catalog
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        # Not spec.open(): that creates the embedded catalog's directory, a reader creates nothing.
        catalog = load_catalog(spec.name, **dict(spec.properties))
    except Exception as exc:  # any driver's failure: the catalog cannot be read
        raise TablesUnreadableError(f"cannot open {spec.describe()}: {_first_line(exc)}") from exc
    tables: dict[str, Table] = {}
    for name in names:
        try:
            tables[name] = catalog.load_table((spec.namespace, name))
        except (NoSuchTableError, NoSuchNamespaceError) as exc:
            raise TablesNotFoundError(f"{spec.describe()} has no table {spec.namespace}.{name}") from exc
        except Exception as exc:  # network, auth, a damaged metadata file
            raise TablesUnreadableError(f"cannot load {spec.namespace}.{name} from {spec.describe()}: {exc}") from exc
    return tables


def data_files(table: Table, row_filter: BooleanExpression | None = None) -> list[str]:
    """The data files of the table's current snapshot (those ``row_filter`` can match); empty
    before the first snapshot. Raises ValueError when a file has delete files attached (its
    rows cannot be read from the file alone)."""
    if table.current_snapshot() is None:
        return []
    tasks = table.scan(row_filter=row_filter) if row_filter is not None else table.scan()
    files = []
    for task in tasks.plan_files():
        if task.delete_files:
            raise ValueError(f"{task.file.file_path} has delete files")
        files.append(task.file.file_path)
    return files


def local_files(table: Table) -> list[str] | None:
    """The current data files as local paths when every one is ``file://`` and needs no
    delete file (DuckDB can then read them directly); None otherwise."""
    try:
        files = data_files(table)
    except ValueError:
        return None
    if not all(f.startswith("file://") or f.startswith("/") for f in files):
        return None
    return [f.removeprefix("file://") for f in files]


def empty(table: Table, columns: Sequence[str] | None = None) -> pa.Table:
    """No rows, every column of the table's schema (or ``columns``) with its type."""
    schema = table.schema().as_arrow()
    if columns:
        schema = pa.schema([schema.field(c) for c in columns])
    return schema.empty_table()


def read(table: Table, row_filter: BooleanExpression | None = None, columns: Sequence[str] | None = None) -> pa.Table:
    """The table's current rows (matching ``row_filter``, with ``columns``) as Arrow."""
    if table.current_snapshot() is None:
        return empty(table, columns)
    return _scan(table, row_filter, columns).to_arrow()


def batches(
    table: Table, row_filter: BooleanExpression | None = None, columns: Sequence[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """The same rows streamed batch by batch (memory stays flat however large the table)."""
    if table.current_snapshot() is None:
        return
    yield from _scan(table, row_filter, columns).to_arrow_batch_reader()


def _scan(table: Table, row_filter: BooleanExpression | None, columns: Sequence[str] | None) -> Any:
    kwargs: dict[str, Any] = {}
    if row_filter is not None:
        kwargs["row_filter"] = row_filter
    if columns:
        kwargs["selected_fields"] = tuple(columns)
    return table.scan(**kwargs)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
