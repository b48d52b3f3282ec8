"""The schema is documented, and rows of different schema versions read together."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa

from newsarchive import schema
from newsarchive.tables.catalog import resolve
from newsarchive.tables.definitions import ARTICLES, TABLES, ensure

DOCS = Path(__file__).resolve().parent.parent / "docs" / "schema.md"


def test_docs_hold_the_generated_schema_tables():
    text = DOCS.read_text(encoding="utf-8")
    assert schema.markdown() in text, "docs/schema.md is stale: run `make docs`"
    for column in (*schema.ARTICLE_COLUMNS, *schema.QUARANTINE_COLUMNS, *schema.RUN_COLUMNS):
        assert f"`{column.name}`" in text
    for reason in schema.QUARANTINE_REASONS:
        assert f"`{reason}`" in text


def test_every_column_is_documented_with_type_meaning_example():
    for column in (*schema.ARTICLE_COLUMNS, *schema.QUARANTINE_COLUMNS, *schema.RUN_COLUMNS):
        assert column.doc and column.since >= 1
        assert column.example is not None or column.name == "dag_run_id"


def test_old_and_new_schema_versions_read_together(tmp_path):
    """A table created by an older schema (fewer columns) holding a row, then given the
    current columns by schema evolution (what a crawl does when it opens the table), then a
    current row: both read together, the old row's new columns null."""
    catalog = resolve(str(tmp_path)).open()
    current = TABLES[ARTICLES]
    old_schema = pa.schema(
        [f for f in current.schema if f.name not in ("story_id", "dag_run_id")],
        metadata={b"newsarchive.schema_version": b"0"},
    )
    old = ensure(catalog, "newsarchive", dataclasses.replace(current, schema=old_schema))
    assert "story_id" not in {f.name for f in old.schema().fields}
    base = {"source": "finews", "published_at": pa.scalar(0, pa.timestamp("us", tz="UTC")).as_py()}
    old.append(pa.Table.from_pylist([{**base, "source_id": "old", "schema_version": 0}], schema=old_schema))
    table = ensure(catalog, "newsarchive", current)
    assert {"story_id", "dag_run_id"} <= {f.name for f in table.schema().fields}
    new = {**base, "source_id": "new", "story_id": "s", "schema_version": schema.SCHEMA_VERSION}
    table.append(pa.Table.from_pylist([new], schema=table.schema().as_arrow()))
    got = {r["source_id"]: r for r in table.scan().to_arrow().to_pylist()}
    assert got["old"]["story_id"] is None and got["new"]["story_id"] == "s"
    rows = (
        table.scan()
        .to_duckdb("articles")
        .execute("SELECT source_id, story_id FROM articles ORDER BY source_id")
        .fetchall()
    )
    assert rows == [("new", "s"), ("old", None)]
