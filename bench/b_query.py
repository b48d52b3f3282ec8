"""Benchmark 4, ``query_speedup``: the same DuckDB queries over the Parquet archive and over
gzip JSONL of the same rows.

* aggregation: articles per media per Beijing day (computed from ``published_at`` in the
  table, a ``date`` field of each JSON line);
* full text: titles that contain a word (``LIKE '%…%'``).

Each query runs on a fresh connection (nothing cached by DuckDB between runs; the operating
system's page cache is warm for both, since both files were just written), Parquet and JSONL
runs interleaved; the figure is the ratio of the median times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import duckdb

from bench.rows import Dataset
from bench.stats import Result, median, rounded

GOAL = 20.0
WORD = "人民币"
AGGREGATE = "SELECT {date} AS date, media_name, count(*) AS n FROM {src} GROUP BY ALL ORDER BY ALL"
#: The Beijing day of an article: a column of the JSON lines, computed in the table.
DATES = {"parquet": "CAST(timezone('Asia/Shanghai', published_at) AS DATE)", "jsonl": "CAST(date AS DATE)"}
FULLTEXT = "SELECT count(*) FROM {src} WHERE title LIKE '%{word}%'"


def sources(data: Dataset) -> dict[str, str]:
    return {
        "parquet": f"read_parquet({data.parquet_list}, union_by_name = true)",
        "jsonl": f"read_json('{data.jsonl}', format = 'newline_delimited', compression = 'gzip')",
    }


def _timed(sql: str) -> tuple[float, list[Any]]:
    con = duckdb.connect()
    try:
        started = time.perf_counter()
        rows = con.execute(sql).fetchall()
        return time.perf_counter() - started, rows
    finally:
        con.close()


def run(data: Dataset, repeats: int, jsonl_repeats: int, log: Callable[[str], None]) -> Result:
    src = sources(data)
    queries = {"aggregate": AGGREGATE, "fulltext": FULLTEXT.replace("{word}", WORD)}
    times: dict[str, dict[str, list[float]]] = {q: {"parquet": [], "jsonl": []} for q in queries}
    answers: dict[str, dict[str, list[Any]]] = {q: {} for q in queries}
    for i in range(max(repeats, jsonl_repeats)):
        for name, template in queries.items():
            for fmt in ("parquet", "jsonl"):
                if i >= (repeats if fmt == "parquet" else jsonl_repeats):
                    continue
                seconds, rows = _timed(template.format(src=src[fmt], date=DATES[fmt]))
                times[name][fmt].append(seconds)
                answers[name][fmt] = rows
    for name in queries:
        if answers[name]["parquet"] != answers[name]["jsonl"]:
            raise AssertionError(f"{name}: Parquet and JSONL answers differ")
    med = {q: {f: median(v) for f, v in t.items()} for q, t in times.items()}
    speedup = {q: med[q]["jsonl"] / med[q]["parquet"] for q in queries}
    log(
        f"  aggregate: Parquet {med['aggregate']['parquet']:.3f}s, JSONL {med['aggregate']['jsonl']:.2f}s; "
        f"LIKE: Parquet {med['fulltext']['parquet']:.3f}s, JSONL {med['fulltext']['jsonl']:.2f}s"
    )
    parquet_bytes = sum(p.stat().st_size for p in data.parquet_files)
    return Result(
        name="query_speedup",
        value=rounded(speedup["aggregate"], 1),
        unit="x",
        goal=f">= {GOAL:g}x (aggregation)",
        met=speedup["aggregate"] >= GOAL,
        note=(
            f"articles per media per day over {data.rows} rows; full-text LIKE over titles: {speedup['fulltext']:.1f}x"
        ),
        details={
            "rows": data.rows,
            "aggregate_speedup": rounded(speedup["aggregate"], 1),
            "fulltext_speedup": rounded(speedup["fulltext"], 1),
            "median_s": {q: {f: rounded(v, 4) for f, v in m.items()} for q, m in med.items()},
            "runs_s": {q: {f: [rounded(x, 4) for x in v] for f, v in t.items()} for q, t in times.items()},
            "groups": len(answers["aggregate"]["parquet"]),
            "fulltext_matches": answers["fulltext"]["parquet"][0][0],
            "parquet_bytes": parquet_bytes,
            "parquet_files": len(data.parquet_files),
            "jsonl_gz_bytes": data.jsonl.stat().st_size,
            "duckdb_threads": duckdb.connect().execute("SELECT current_setting('threads')").fetchall()[0][0],
            "sql": {q: t.format(src="<source>", date=DATES["parquet"]) for q, t in queries.items()},
        },
    )
