"""Tables for the maintenance tests, built the way crawls build them: many small commits
through :func:`newsarchive.tables.commit.commit_files`, one per run, each with its run id."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsarchive.schema import ARTICLE_SCHEMA, QUARANTINE_SCHEMA, RUN_SCHEMA
from newsarchive.tables.catalog import CatalogSpec
from newsarchive.tables.commit import commit_files
from newsarchive.tables.definitions import ARTICLES, QUARANTINE, RUNS, ensure_all

TEXT = "上证指数今日收涨，成交额较前一交易日有所放大。" * 20


@pytest.fixture
def isolated_pyiceberg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``~/.pyiceberg.yaml`` or ``PYICEBERG_*`` of the machine reaches the test."""
    for name in list(os.environ):
        if name.upper().startswith(("PYICEBERG_", "NEWSARCHIVE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PYICEBERG_HOME", str(tmp_path))


def run_id(n: int) -> str:
    return f"20260101T{n // 3600 % 24:02d}{n // 60 % 60:02d}{n % 60:02d}Z-{n:08x}"


def article_rows(run: int, ids: range, source: str = "finews", month: int = 1) -> pa.Table:
    published = datetime(2026, month, 5, 8, tzinfo=UTC)
    rows = []
    for n in ids:
        text = f"{TEXT} 第{n}篇"
        rows.append(
            {
                "source": source,
                "source_id": f"NW2026010{month}{n:011d}",
                "title": f"标题 {n}",
                "published_at": published + timedelta(minutes=n),
                "content_html": f"<p>{text}</p>",
                "content_text": text,
                "fetched_at": datetime(2026, 1, 6, tzinfo=UTC) + timedelta(seconds=run),
                "content_sha256": hashlib.sha256(text.encode()).hexdigest(),
                "run_id": run_id(run),
                "pipeline_version": "0.4.0",
                "schema_version": 3,
            }
        )
    return pa.Table.from_pylist(rows, schema=ARTICLE_SCHEMA)


def quarantine_rows(run: int, n: int, source: str = "finews") -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "source": source,
                "stage": "list",
                "reason": "http_error",
                "detail": f"HTTP 503 #{i}",
                "seen_at": datetime(2026, 1, 6, tzinfo=UTC) + timedelta(seconds=run),
                "run_id": run_id(run),
                "fingerprint": f"fp-{run}-{i}",
                "schema_version": 3,
            }
            for i in range(n)
        ],
        schema=QUARANTINE_SCHEMA,
    )


def run_row(run: int, warc_files: list[dict[str, Any]] | None = None) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "run_id": run_id(run),
                "spider": "finews",
                "source": "finews",
                "status": "complete",
                "started_at": datetime(2026, 1, 6, tzinfo=UTC) + timedelta(seconds=run),
                "warc_files": warc_files or [],
                "schema_version": 3,
            }
        ],
        schema=RUN_SCHEMA,
    )


def commit_rows(spec: CatalogSpec, table_name: str, parts: list[pa.Table], run: str) -> Any:
    """Write each of ``parts`` (the rows of one partition each, as a crawl's writers do) as a
    Parquet file in the table's location and commit them as run ``run``."""
    catalog = spec.open()
    table = catalog.load_table((spec.namespace, table_name))
    paths = []
    for n, rows in enumerate(parts):
        paths.append(f"{table.location()}/data/{run}-{n}.parquet")
        with table.io.new_output(paths[-1]).create() as out:
            pq.write_table(rows, out, compression="zstd")
    return commit_files(lambda: catalog.load_table((spec.namespace, table_name)), paths, run_id=run)


def build(spec: CatalogSpec, runs: int = 6, per_run: int = 5) -> None:
    """``runs`` crawls' worth of commits: articles of two sources and two months, quarantine
    rows and a ``runs`` row each, so every partition holds several small files."""
    ensure_all(spec.open(), spec.namespace)
    for r in range(runs):
        ids = range(r * per_run, (r + 1) * per_run)
        parts = [article_rows(r, ids), article_rows(r, ids, month=2), article_rows(r, ids, source="thepaper")]
        commit_rows(spec, ARTICLES, parts, run_id(r))
        commit_rows(spec, QUARANTINE, [quarantine_rows(r, 2)], run_id(r))
        commit_rows(spec, RUNS, [run_row(r)], run_id(r))


def table_rows(spec: CatalogSpec, name: str) -> pa.Table:
    return spec.open().load_table((spec.namespace, name)).scan().to_arrow()


def fingerprint(rows: pa.Table) -> Counter[tuple[Any, ...]]:
    """Every row as a tuple of its values (a multiset: a duplicate or a loss shows)."""
    return Counter(tuple(repr(v) for v in r.values()) for r in rows.to_pylist())
