"""Summarise a local archive: articles per media and day, quarantine, runs and files."""

from __future__ import annotations

import argparse
import json
import unicodedata
from pathlib import Path
from typing import Any

ARTICLES_BY_DAY = """
    SELECT date, coalesce(media_name, '(unknown)') AS media, count(*) AS n
    FROM read_parquet($glob, hive_partitioning = true, union_by_name = true)
    WHERE $run IS NULL OR run_id = $run
    GROUP BY ALL ORDER BY date, media"""
QUARANTINE_BY_REASON = """
    SELECT stage, reason, count(*) AS n, any_value(detail) AS example
    FROM read_parquet($glob, hive_partitioning = true, union_by_name = true)
    WHERE $run IS NULL OR run_id = $run
    GROUP BY ALL ORDER BY n DESC, reason"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--archive", default="./archive", help="archive directory")
    parser.add_argument("--run", help="only this run's rows and files")


def pad(text: str, width: int) -> str:
    """Left-justify counting East Asian wide characters as two columns."""
    cells = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - cells)


def query(root: Path, table: str, sql: str, run: str | None) -> list[tuple[Any, ...]]:
    import duckdb

    if not any((root / table).rglob("part-*.parquet")):
        return []
    params = {"glob": f"{root}/{table}/**/*.parquet", "run": run}
    return duckdb.connect().execute(sql, params).fetchall()


def run(args: argparse.Namespace) -> int:
    from newsarchive.archive.layout import Layout

    layout = Layout.from_uri(args.archive)
    print(f"Archive {layout.root}")
    rows = query(layout.root, "articles", ARTICLES_BY_DAY, args.run)
    print(f"\nArticles per media and day ({sum(r[2] for r in rows)} rows):")
    for day, media, n in rows:
        print(f"  {day}  {pad(media, 24)} {n:>5}")
    rows = query(layout.root, "quarantine", QUARANTINE_BY_REASON, args.run)
    print(f"\nQuarantined records ({sum(r[2] for r in rows)}):")
    for stage, reason, n, example in rows:
        print(f"  {stage:<9} {reason:<18} {n:>4}  e.g. {example}")
    manifests = [json.loads(layout.path(k).read_text(encoding="utf-8")) for k in layout.manifests()]
    manifests = [m for m in manifests if not args.run or m["run_id"] == args.run]
    print(f"\nRuns ({len(manifests)}):")
    for m in manifests:
        c = m.get("counts", {})
        print(
            f"  {m['run_id']}  {m['status']:<9} articles {c.get('articles_written', 0):>4}"
            f"  quarantined {c.get('quarantined', 0):>3}  files {len(m.get('files', []))}"
        )
        for f in m.get("files", []):
            print(f"      {f['key']}  ({f.get('rows')} rows, {f['bytes']} bytes)")
    return 0
