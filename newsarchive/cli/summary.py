"""Summarise a local archive: articles per media and day, quarantine, runs and files."""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path
from typing import Any

ARTICLES_BY_DAY = """
    SELECT date, coalesce(media_name, '(unknown)') AS media, count(*) AS n
    FROM rows
    WHERE $run IS NULL OR run_id = $run
    GROUP BY ALL ORDER BY date, media"""
QUARANTINE_BY_REASON = """
    SELECT stage, reason, count(*) AS n, any_value(detail) AS example
    FROM rows
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
    """``sql`` over the table's rows, read as every reader reads them (no link followed,
    unreadable files skipped with a warning naming them)."""
    import duckdb

    from newsarchive.archive.layout import Layout
    from newsarchive.archive.reader import open_dataset

    if not Layout(root).data_files((table,)):
        return []
    con = duckdb.connect()
    con.register("rows", open_dataset(str(root), table))
    return con.execute(sql, {"run": run}).fetchall()


def manifests(layout: Any) -> list[dict[str, Any]]:
    """Every readable run manifest; the others are named on stderr and skipped."""
    out = []
    for key in layout.manifests():
        try:
            manifest = json.loads(layout.path(key).read_text(encoding="utf-8"))
            if not isinstance(manifest, dict) or "run_id" not in manifest:
                raise ValueError("not a run manifest")
        except (OSError, ValueError) as exc:
            print(f"Skipping unreadable manifest {key}: {exc}", file=sys.stderr)
            continue
        out.append(manifest)
    return out


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
    runs = [m for m in manifests(layout) if not args.run or m["run_id"] == args.run]
    print(f"\nRuns ({len(runs)}):")
    for m in runs:
        c = m.get("counts", {})
        print(
            f"  {m['run_id']}  {m['status']:<9} articles {c.get('articles_written', 0):>4}"
            f"  quarantined {c.get('quarantined', 0):>3}  files {len(m.get('files', []))}"
        )
        for f in m.get("files", []):
            print(f"      {f['key']}  ({f.get('rows')} rows, {f['bytes']} bytes)")
    return 0
