"""``python -m bench [--quick | --tiny]``: run every benchmark, write the results.

Writes ``bench/results/latest.json`` and regenerates the table in ``docs/benchmarks.md``
and the chart ``docs/benchmarks.png`` (``--out``, ``--docs``, ``--chart`` to write
elsewhere, ``--no-docs`` to leave the docs alone). A missed goal is a result like any
other: the exit code is 0. It is 1 only when a benchmark could not run at all (its error is
in the JSON and the table).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.plan import PLANS, Plan
from bench.stats import Result, machine

ROOT = Path(__file__).resolve().parent.parent
GROUPS = ("crawl", "data", "storage", "scale")
NAMES = {
    "crawl": ("pipeline_vs_bare_ratio", "pipeline_vs_bare_ratio_warc", "rerun_requests", "rss_growth"),
    "data": ("query_speedup", "size_ratio"),
    "storage": ("compact_rows_per_s", "upload_mb_per_s", "upload_vs_boto3_ratio"),
    "scale": ("rerun_scale_time_ratio", "rerun_scale_rss_ratio"),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _guarded(group: str, fn: Callable[[], list[Result]]) -> list[Result]:
    """Run one group; if it breaks, its benchmarks are reported as errors, the rest still run."""
    try:
        return fn()
    except Exception as exc:
        traceback.print_exc()
        message = f"{type(exc).__name__}: {exc}"
        log(f"{group} benchmarks failed: {message}")
        return [Result(name=n, value=None, unit="", error=message) for n in NAMES[group]]


def run_all(plan: Plan, work: Path, groups: tuple[str, ...]) -> tuple[list[Result], dict[str, float]]:
    from bench import b_crawl, b_query, b_size, rows

    results: list[Result] = []
    seconds: dict[str, float] = {}
    data: dict[str, Any] = {}

    def crawl() -> list[Result]:
        return b_crawl.run(plan, work / "crawl", log)

    def data_group() -> list[Result]:
        log(f"query_speedup, size_ratio: writing {plan.query_rows} rows to Parquet and gzip JSONL")
        dataset = rows.build(work / "data", plan.query_rows, plan.sweep_rows)
        log(f"  written: {dataset.seconds}")
        data["dataset"] = dataset
        out = [b_query.run(dataset, plan.query_repeats, plan.jsonl_repeats, log)]
        log("size_ratio: zstd level sweep")
        out.append(b_size.run(dataset, plan.sweep_levels, work / "data", log))
        dataset.sample = []
        return out

    def storage() -> list[Result]:
        if "dataset" not in data:
            raise RuntimeError("needs the dataset of the data benchmarks")
        from bench import b_storage  # imported here: it needs SeaweedFS and the maintenance code

        return b_storage.run(data["dataset"], plan, work / "storage", log)

    def scale() -> list[Result]:
        from bench import b_rerun

        return b_rerun.run(plan, work / "scale", log)

    for group, fn in (("crawl", crawl), ("data", data_group), ("storage", storage), ("scale", scale)):
        if group not in groups:
            continue
        (work / group / "logs").mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        results += _guarded(group, fn)
        seconds[group] = round(time.perf_counter() - started, 1)
    return results, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions (< 2 minutes)")
    mode.add_argument("--tiny", action="store_true", help="seconds: proves the harness, measures nothing")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"groups to run (of {', '.join(GROUPS)})")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--chart", type=Path, default=ROOT / "docs" / "benchmarks.png")
    parser.add_argument("--no-docs", action="store_true", help="write only the JSON")
    parser.add_argument("--workdir", type=Path, help="keep the benchmark's files here (default: a temp dir)")
    args = parser.parse_args(argv)
    plan = PLANS["tiny" if args.tiny else "quick" if args.quick else "full"]
    groups = tuple(g for g in args.only.split(",") if g)
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups: {', '.join(sorted(unknown))}")

    started = datetime.now(UTC)
    info = machine()
    info["load_average_start"] = info.pop("load_average")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="newsarchive-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"{plan.mode} benchmarks in {work} ({info['cpu_count']} CPUs, load {info['load_average_start']})")
    clock = time.perf_counter()
    results, seconds = run_all(plan, work, groups)
    info["load_average_end"] = machine()["load_average"]
    out: dict[str, Any] = {
        "format": 1,
        "mode": plan.mode,
        "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - clock, 1),
        "group_seconds": seconds,
        "machine": info,
        "plan": plan.to_json(),
        "results": {r.name: r.to_json() for r in results},
    }
    report.write_json(out, args.out)
    log(f"wrote {args.out}")
    if not args.no_docs:
        report.update_docs(out, args.docs)
        report.chart(out, args.chart)
        log(f"updated {args.docs} and {args.chart}")
    print(report.table(out))
    failed = [r.name for r in results if r.error]
    if args.workdir is None and not failed:
        shutil.rmtree(work, ignore_errors=True)
    elif failed:
        log(f"benchmarks that could not run: {', '.join(failed)}; their files stay in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
