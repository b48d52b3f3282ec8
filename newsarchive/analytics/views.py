"""The archive's tables as DuckDB views: ``articles`` (one row per article, its current
version), ``articles_all`` (every version), ``quarantine`` and ``runs``.

When every data file of a table's current snapshot is local, DuckDB reads the files itself
(``read_parquet``: lazy, projections and filters pushed down); otherwise (a REST or Glue
catalog over object storage) pyiceberg reads the table, with the catalog's FileIO and
credentials, to Arrow. Either way an empty typed table of the table's schema is unioned in
by name, so every column exists in the view even when no file has it yet (files of older
schema versions lack the newer columns: they read as NULL). ``source`` is a ``VARCHAR`` and
timestamps print in UTC; there is no ``date`` column: the Beijing day of an article is
``CAST(timezone('Asia/Shanghai', published_at) AS DATE)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from newsarchive.archive.versions import VERSION_ORDER_SQL
from newsarchive.tables import read
from newsarchive.tables.definitions import ARTICLES, QUARANTINE, RUNS

if TYPE_CHECKING:
    import duckdb
    from pyiceberg.table import Table

    from newsarchive.tables.catalog import CatalogSpec

#: The view names, in the order ``newsarchive sql --help`` lists them.
VIEWS = ("articles", "articles_all", "quarantine", "runs")
#: The table each view reads.
_TABLE_OF = {"articles": ARTICLES, "articles_all": ARTICLES, "quarantine": QUARANTINE, "runs": RUNS}

#: The current row of each article: its latest fetch, and of that fetch the newest
#: pipeline version (the rule of newsarchive.archive.versions, in SQL).
DEDUP_SQL = (
    "SELECT * FROM articles_all QUALIFY row_number() OVER ("  # noqa: S608 (constants only)
    f" PARTITION BY source, source_id ORDER BY fetched_at DESC, {VERSION_ORDER_SQL} DESC NULLS LAST) = 1"
)


def tables_in(sql: str) -> set[str]:
    """The tables a query can read (by the view names it mentions): a table read through
    pyiceberg is read whole, so the others are left unread."""
    return {table for view, table in _TABLE_OF.items() if re.search(rf"\b{view}\b", sql, re.IGNORECASE)}


def connect(spec: CatalogSpec, only: Iterable[str] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the views over the tables of ``spec``.

    ``only``: the tables to read (default all); the views of the others are empty. Raises
    TablesNotFoundError when the catalog or a table is missing."""
    import duckdb

    wanted = set(_TABLE_OF.values()) if only is None else set(only)
    tables = read.open_tables(spec)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, view in ((ARTICLES, "articles_all"), (QUARANTINE, "quarantine"), (RUNS, "runs")):
        con.execute(f"CREATE VIEW {view} AS {_register(con, name, tables[name], name in wanted)}")
    con.execute(f"CREATE VIEW articles AS {DEDUP_SQL}")
    return con


def _register(con: duckdb.DuckDBPyConnection, name: str, table: Table, wanted: bool) -> str:
    """Register what ``table`` holds; returns the SELECT of its view."""
    typed = f"_{name}_schema"
    con.register(typed, read.empty(table))
    select = f"SELECT * FROM {typed}"  # noqa: S608 (names are ours)
    if not wanted:
        return select
    files = read.local_files(table)
    if files is None:  # object storage or delete files: pyiceberg reads it
        try:
            rows = read.read(table)
        except Exception as exc:  # FileIO, network, credentials: not the query's fault
            raise read.TablesUnreadableError(f"cannot read {'.'.join(table.name())}: {exc}") from exc
        con.register(f"_{name}_rows", rows)
        return f"{select} UNION ALL BY NAME SELECT * FROM _{name}_rows"  # noqa: S608
    if not files:
        return select
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return f"{select} UNION ALL BY NAME SELECT * FROM read_parquet([{listed}], union_by_name = true)"  # noqa: S608
