"""A query result on standard output (an aligned table, CSV or JSON) or in a file.

Tables count East Asian wide characters as two columns so Chinese titles line up, and cut
long cells (a body in ``content_html``) to ``max_width``; CSV and JSON are complete.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa

FORMATS = ("table", "csv", "json", "jsonl")
FILE_FORMATS = {".parquet": "parquet", ".csv": "csv", ".json": "json", ".jsonl": "jsonl"}


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` columns, an ellipsis marking a cut."""
    if width(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(_plain(value), ensure_ascii=False)
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)


def write_table(table: pa.Table, out: TextIO, max_width: int = 60) -> None:
    names = table.column_names
    cells = [[cut(cell(v), max_width) for v in row.values()] for row in rows(table)]
    widths = [max([width(n), *(width(r[i]) for r in cells)]) for i, n in enumerate(names)]
    numeric = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) for f in table.schema]

    def line(values: Iterable[str]) -> str:
        parts = []
        for value, w, right in zip(values, widths, numeric, strict=True):
            pad = " " * (w - width(value))
            parts.append(pad + value if right else value + pad)
        return " | ".join(parts).rstrip()

    out.write(line(names) + "\n")
    out.write("-+-".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write(line(row) + "\n")
    out.write(f"({len(cells)} row{'s' if len(cells) != 1 else ''})\n")


def write_csv(table: pa.Table, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in rows(table):
        writer.writerow(["" if v is None else v if isinstance(v, str) else cell(v) for v in row.values()])


def write_json(table: pa.Table, out: TextIO, lines: bool = False) -> None:
    """``json``: one array of objects; ``jsonl``: one object per line."""
    encoded = (json.dumps(_plain(r), ensure_ascii=False) for r in rows(table))
    if lines:
        for row in encoded:
            out.write(row + "\n")
        return
    out.write("[")
    for n, row in enumerate(encoded):
        out.write(("," if n else "") + "\n  " + row)
    out.write("\n]\n" if table.num_rows else "]\n")


def write(table: pa.Table, fmt: str, out: TextIO, max_width: int = 60) -> None:
    if fmt == "table":
        write_table(table, out, max_width)
    elif fmt == "csv":
        write_csv(table, out)
    elif fmt in ("json", "jsonl"):
        write_json(table, out, lines=fmt == "jsonl")
    else:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def write_file(table: pa.Table, path: Path) -> str:
    """Write by the file's extension (Parquet: zstd, like the archive); returns the format."""
    fmt = FILE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown extension (one of {', '.join(FILE_FORMATS)})")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, tmp, compression="zstd")
    else:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            write(table, fmt, fh)
    tmp.replace(path)
    return fmt


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """The table's rows as Python values, maps (which Arrow gives as pairs) as dicts."""
    maps = [f.name for f in table.schema if pa.types.is_map(f.type)]
    out: list[dict[str, Any]] = table.to_pylist()
    for row in out:
        for name in maps:
            if row[name] is not None:
                row[name] = dict(row[name])
    return out


def _plain(value: Any) -> Any:
    """JSON-ready: times as ISO 8601, dates as YYYY-MM-DD, maps as objects."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
