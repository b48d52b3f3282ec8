"""The schema is documented, and files of different schema versions read together."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from newsarchive import schema
from newsarchive.archive.reader import open_dataset

DOCS = Path(__file__).resolve().parent.parent / "docs" / "schema.md"


def test_docs_hold_the_generated_schema_tables():
    text = DOCS.read_text(encoding="utf-8")
    assert schema.markdown() in text, "docs/schema.md is stale: run `make docs`"
    for column in (*schema.ARTICLE_COLUMNS, *schema.QUARANTINE_COLUMNS):
        assert f"`{column.name}`" in text
    for reason in schema.QUARANTINE_REASONS:
        assert f"`{reason}`" in text


def test_every_column_is_documented_with_type_meaning_example():
    for column in (*schema.ARTICLE_COLUMNS, *schema.QUARANTINE_COLUMNS):
        assert column.doc and column.since >= 1
        assert column.example is not None or column.name == "dag_run_id"


def test_old_and_new_schema_versions_read_together(tmp_path):
    """A file written by an older schema (fewer columns) and a current one, side by side."""
    part = tmp_path / "articles/source=finews/date=2022-01-12"
    part.mkdir(parents=True)
    old_fields = [f for f in schema.ARTICLE_SCHEMA if f.name not in ("story_id", "dag_run_id")]
    old = pa.schema(old_fields, metadata={b"newsarchive.schema_version": b"0"})
    base = {"source": "finews", "published_at": pa.scalar(0, pa.timestamp("us", tz="UTC")).as_py()}
    pq.write_table(
        pa.Table.from_pylist([{**base, "source_id": "old", "schema_version": 0}], schema=old),
        part / "part-a-0.parquet",
    )
    pq.write_table(
        pa.Table.from_pylist(
            [{**base, "source_id": "new", "story_id": "s", "schema_version": 1}], schema=schema.ARTICLE_SCHEMA
        ),
        part / "part-b-0.parquet",
    )
    table = open_dataset(str(tmp_path)).to_table()
    got = {r["source_id"]: r for r in table.to_pylist()}
    assert got["old"]["story_id"] is None and got["new"]["story_id"] == "s"
    rows = duckdb.execute(
        f"SELECT source_id, story_id FROM read_parquet('{tmp_path}/articles/**/*.parquet', "
        "hive_partitioning=true, union_by_name=true) ORDER BY source_id"
    ).fetchall()
    assert rows == [("new", "s"), ("old", None)]
