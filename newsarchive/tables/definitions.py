"""The archive's Iceberg tables: schema, hidden partitioning, sort order and properties.

Columns come from :mod:`newsarchive.schema` (one declaration for every writer and the docs);
Iceberg assigns the field ids when a table is created and keeps them through schema evolution,
so adding a column stays one edit there: :func:`ensure` adds it to an existing table.

Partitioning is hidden (transforms of columns), so no reader reconciles a path with a column:
``articles`` by ``source`` and the month of ``published_at``; ``quarantine`` by ``source`` and
the month of ``seen_at``. Files are sorted by ``source_id`` and its column bounds are kept in
full, not truncated to 16 characters (infoCodes share their first 16): "is this archived?"
then reads only the files whose bounds hold a candidate id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from newsarchive.schema import ARTICLE_SCHEMA, QUARANTINE_SCHEMA, RUN_SCHEMA

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

ARTICLES = "articles"
QUARANTINE = "quarantine"
RUNS = "runs"
#: Commit order of a run: ``runs`` last, so a ``runs`` row means the run is committed.
COMMIT_ORDER = (ARTICLES, QUARANTINE, RUNS)

#: Table properties every table gets. Commit retries are ours, not pyiceberg's: pyiceberg
#: would rebase a conflicting append onto the other writer's snapshot without re-running the
#: duplicate check made before it, so two crawls at once would archive an article twice.
COMMON_PROPERTIES: dict[str, str] = {
    "commit.retry.num-retries": "0",
    "write.parquet.compression-codec": "zstd",
    "format-version": "2",
}


@dataclass(frozen=True)
class TableDef:
    name: str
    schema: pa.Schema
    #: (source column, transform name, partition field name); transforms as Iceberg names them.
    partitions: tuple[tuple[str, str, str], ...]
    sort: tuple[str, ...]
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def month_field(self) -> str:
        """The name of the partition field holding a month (where a writer puts a row's file)."""
        return next(name for _, transform, name in self.partitions if transform == "month")

    def all_properties(self) -> dict[str, str]:
        return {**COMMON_PROPERTIES, **self.properties}


def plain(schema: pa.Schema) -> pa.Schema:
    """``schema`` with dictionary columns as their value type (Iceberg has no dictionaries)."""
    fields = [
        pa.field(f.name, f.type.value_type, f.nullable, f.metadata) if pa.types.is_dictionary(f.type) else f
        for f in schema
    ]
    return pa.schema(fields, metadata=schema.metadata)


def _full_bounds(*columns: str) -> dict[str, str]:
    return {f"write.metadata.metrics.column.{c}": "full" for c in columns}


TABLES: dict[str, TableDef] = {
    ARTICLES: TableDef(
        ARTICLES,
        plain(ARTICLE_SCHEMA),
        partitions=(("source", "identity", "source"), ("published_at", "month", "published_month")),
        sort=("source_id",),
        properties=_full_bounds("source", "source_id", "content_sha256"),
    ),
    QUARANTINE: TableDef(
        QUARANTINE,
        plain(QUARANTINE_SCHEMA),
        partitions=(("source", "identity", "source"), ("seen_at", "month", "seen_month")),
        sort=("fingerprint",),
        properties=_full_bounds("source", "fingerprint"),
    ),
    RUNS: TableDef(
        RUNS,
        plain(RUN_SCHEMA),
        partitions=(("started_at", "month", "started_month"),),
        sort=("run_id",),
        properties=_full_bounds("run_id"),
    ),
}


def _transform(name: str):  # type: ignore[no-untyped-def]
    from pyiceberg.transforms import parse_transform

    return parse_transform(name)


def ensure_namespace(catalog: Catalog, namespace: str) -> None:
    """Create ``namespace`` unless it exists. Two processes creating it at once on a SQL
    catalog both pass pyiceberg's existence check; the loser's INSERT then fails (an
    IntegrityError, not NamespaceAlreadyExistsError): the namespace exists, which is all we need."""
    try:
        catalog.create_namespace_if_not_exists(namespace)
    except Exception:
        if not catalog.namespace_exists(namespace):
            raise


def ensure(catalog: Catalog, namespace: str, definition: TableDef) -> Table:
    """The table, created when missing (a concurrent creator is fine) and given any column
    the schema declares that it lacks."""
    from pyiceberg.exceptions import NoSuchTableError, TableAlreadyExistsError
    from pyiceberg.io.pyarrow import _ConvertToIcebergWithoutIDs, visit_pyarrow
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import Schema, assign_fresh_schema_ids
    from pyiceberg.table.sorting import SortField, SortOrder

    identifier = (namespace, definition.name)
    ensure_namespace(catalog, namespace)
    try:
        table = catalog.load_table(identifier)
    except NoSuchTableError:
        # Provisional ids: create_table assigns fresh ones and maps the spec and order by name.
        converted = visit_pyarrow(definition.schema, _ConvertToIcebergWithoutIDs())
        assert isinstance(converted, Schema)
        schema = assign_fresh_schema_ids(converted)
        spec = PartitionSpec(
            *(
                PartitionField(
                    source_id=schema.find_field(column).field_id,
                    field_id=1000 + i,
                    transform=_transform(transform),
                    name=name,
                )
                for i, (column, transform, name) in enumerate(definition.partitions)
            )
        )
        order = SortOrder(
            *(
                SortField(source_id=schema.find_field(c).field_id, transform=_transform("identity"))
                for c in definition.sort
            )
        )
        try:
            table = catalog.create_table(
                identifier, schema=schema, partition_spec=spec, sort_order=order, properties=definition.all_properties()
            )
        except TableAlreadyExistsError:
            table = catalog.load_table(identifier)
    present = {f.name for f in table.schema().fields}
    missing = [f.name for f in definition.schema if f.name not in present]
    if missing:
        with table.update_schema() as update:
            update.union_by_name(definition.schema)
        table = catalog.load_table(identifier)
    return table


def ensure_all(catalog: Catalog, namespace: str) -> dict[str, Table]:
    return {name: ensure(catalog, namespace, d) for name, d in TABLES.items()}
