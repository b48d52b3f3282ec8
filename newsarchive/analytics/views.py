"""The archive as DuckDB views: ``articles`` (one row per article, its current version),
``articles_all`` (every version), ``quarantine`` and ``runs``.

Each table of each archive root is registered as a pyarrow dataset (so DuckDB pushes
column selections and filters down to the Parquet files, locally and in S3 alike) and the
roots are unioned by column name, so files of older schema versions read beside newer ones.
``date`` is a ``DATE``, ``source`` a ``VARCHAR`` and timestamps print in UTC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow.dataset as ds

from newsarchive.analytics.roots import archive_roots, check_bucket_archive
from newsarchive.analytics.runs import runs_table
from newsarchive.archive.layout import ARTICLES, QUARANTINE
from newsarchive.archive.reader import open_dataset
from newsarchive.archive.versions import VERSION_ORDER_SQL

if TYPE_CHECKING:
    import duckdb

    from newsarchive.storage.s3 import S3Config

#: The view names, in the order ``newsarchive sql --help`` lists them.
VIEWS = ("articles", "articles_all", "quarantine", "runs")

#: The current row of each article: its latest fetch, and of that fetch the newest
#: pipeline version (the rule of newsarchive.archive.versions, in SQL).
DEDUP_SQL = (
    "SELECT * FROM articles_all QUALIFY row_number() OVER ("  # noqa: S608 (constants only)
    f" PARTITION BY source, source_id ORDER BY fetched_at DESC, {VERSION_ORDER_SQL} DESC NULLS LAST) = 1"
)


def connect(archive: str, s3: S3Config | None = None, *, runs: bool = True) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the archive's views. ``runs=False`` skips
    reading the manifests (the ``runs`` view is then empty)."""
    import duckdb

    roots = archive_roots(archive)
    for root in roots:
        if root.startswith("s3://"):
            check_bucket_archive(root, s3)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table, view in ((ARTICLES, "articles_all"), (QUARANTINE, "quarantine")):
        selects = []
        for n, root in enumerate(roots):
            dataset = open_dataset(root, table, s3)
            name = f"_{table}_{n}"
            con.register(name, dataset)
            selects.append(_select(name, dataset))
        con.execute(f"CREATE VIEW {view} AS {' UNION ALL BY NAME '.join(selects)}")
    con.execute(f"CREATE VIEW articles AS {DEDUP_SQL}")
    con.register("_runs", runs_table(roots if runs else [], s3))
    con.execute("CREATE VIEW runs AS SELECT * FROM _runs")
    return con


def _select(name: str, dataset: ds.Dataset) -> str:
    """Partition keys come from the paths as dictionaries; give them their real types."""
    names = set(dataset.schema.names)
    replace = ["CAST(source AS VARCHAR) AS source"]
    extra = ""
    if "date" in names:
        replace.append("CAST(date AS DATE) AS date")
    else:  # an empty table: no partition to take the key from
        extra = ", CAST(NULL AS DATE) AS date"
    return f"SELECT * REPLACE ({', '.join(replace)}){extra} FROM {name}"  # noqa: S608 (names are ours)
