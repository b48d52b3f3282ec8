"""Benchmark 6, ``size_ratio``: archive bytes ÷ gzip JSONL bytes of the same rows, and the
zstd level the data justifies.

The ratio is taken on the query dataset (the real sink at the configured level). The level
sweep writes the same sample of rows once per level through the real sink and records bytes
and write time; the recommended level follows an explicit rule (:func:`recommend`). The
generator's calibration against the real posts is reported alongside, since the sweep is
only as good as the text it compresses.
"""

from __future__ import annotations

import gzip
import io
import shutil
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench.corpus import PARAGRAPHS
from bench.generator import stories
from bench.rows import Dataset, jsonl_line, write_archive
from bench.stats import Result, rounded
from newsarchive import settings
from newsarchive.htmltext import html_to_text
from newsarchive.runid import new_run_id
from newsarchive.timeparse import utcnow

#: A step to the next level must save this share of bytes ...
MIN_SAVING = 0.05
#: ... and write at least this fraction as fast as the level before it.
MIN_SPEED = 0.5


def recommend(sweep: list[dict[str, Any]]) -> int:
    """Walk up the levels while the next one saves >= 5% of the bytes and keeps >= half
    the write speed of the current one; return where the walk stops."""
    best = sweep[0]
    for nxt in sweep[1:]:
        saves = 1 - nxt["bytes"] / best["bytes"]
        speed = best["write_s"] / nxt["write_s"] if nxt["write_s"] else 1.0
        if saves < MIN_SAVING or speed < MIN_SPEED:
            break
        best = nxt
    return int(best["level"])


def calibration() -> dict[str, Any]:
    """How the generated text compresses next to the real posts' text, at equal length."""
    real = "".join(PARAGRAPHS).encode()
    generated = "".join(html_to_text(s.html) for s in stories(400)).replace("\n", "").encode()[: len(real)]
    zstd = pa.Codec("zstd", 3)

    def ratios(data: bytes) -> dict[str, float]:
        return {
            "gzip6": rounded(len(data) / len(zlib.compress(data, 6)), 2),
            "zstd3": rounded(len(data) / len(zstd.compress(data)), 2),
        }

    return {"bytes": len(real), "real": ratios(real), "generated": ratios(generated)}


def _gzip_bytes(rows: list[dict[str, Any]]) -> int:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=6) as fh:
        for row in rows:
            fh.write(jsonl_line(row).encode("utf-8"))
    return len(buf.getvalue())


def sweep(rows: list[dict[str, Any]], levels: tuple[int, ...], work: Path) -> list[dict[str, Any]]:
    raw = sum(len(jsonl_line(r).encode("utf-8")) for r in rows)
    out = []
    for level in levels:
        root = work / f"level-{level}"
        started = time.perf_counter()
        files = write_archive(root, rows, new_run_id(utcnow()), compression="zstd", compression_level=level)
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in files)
        out.append(
            {
                "level": level,
                "bytes": size,
                "bytes_per_row": rounded(size / len(rows), 1),
                "write_s": rounded(seconds, 3),
                "rows_per_s": rounded(len(rows) / seconds, 1),
                "raw_mb_per_s": rounded(raw / seconds / 2**20, 1),
            }
        )
        shutil.rmtree(root, ignore_errors=True)
    return out


def run(data: Dataset, levels: tuple[int, ...], work: Path, log: Callable[[str], None]) -> Result:
    parquet = sum(p.stat().st_size for p in data.parquet_files)
    jsonl = data.jsonl.stat().st_size
    value = parquet / jsonl
    sample_gzip = _gzip_bytes(data.sample)
    levels_out = sweep(data.sample, levels, work)
    for entry in levels_out:
        entry["vs_gzip_jsonl"] = rounded(entry["bytes"] / sample_gzip)
        log(
            f"  zstd {entry['level']:>2}: {entry['bytes_per_row']:7.1f} B/row "
            f"({entry['vs_gzip_jsonl']:.3f} of gzip JSONL), {entry['rows_per_s']:8.0f} rows/s"
        )
    chosen = recommend(levels_out)
    current = settings.PARQUET_COMPRESSION_LEVEL
    by_level = {e["level"]: e for e in levels_out}
    if chosen == current or current not in by_level:
        verdict = f"the rule picks zstd {chosen} (setting: {current})"
    else:
        a, b = by_level[current], by_level[chosen]
        verdict = (
            f"the rule picks zstd {chosen}: {1 - b['bytes'] / a['bytes']:.1%} smaller than {current} at "
            f"{a['write_s'] / b['write_s']:.0%} of its write speed (setting: {current}; see docs)"
        )
    return Result(
        name="size_ratio",
        value=rounded(value),
        unit="ratio",
        goal="reported (smaller is better)",
        met=None,
        note=(
            f"zstd {current}. content_text repeats the text of content_html: gzip finds it within its "
            f"window in each JSON line, Parquet compresses the two columns apart. Level sweep: {verdict}"
        ),
        details={
            "rows": data.rows,
            "parquet_bytes": parquet,
            "jsonl_gz_bytes": jsonl,
            "parquet_bytes_per_row": rounded(parquet / data.rows, 1),
            "jsonl_gz_bytes_per_row": rounded(jsonl / data.rows, 1),
            "write_s": data.seconds,
            "sweep_rows": len(data.sample),
            "sweep_gzip_jsonl_bytes": sample_gzip,
            "sweep": levels_out,
            "recommended_level": chosen,
            "configured_level": current,
            "rule": f"step up while the next level saves >= {MIN_SAVING:.0%} of bytes at >= {MIN_SPEED:.0%} "
            "of the write speed",
            "calibration": calibration(),
        },
    )
