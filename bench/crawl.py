"""One measured crawl: ``python -m newsarchive crawl finews -s ...`` as a subprocess.

Measured from outside the crawler, at no cost to it: the wall time of the process; its CPU
time and peak RSS from ``os.wait4`` (the kernel's accounting of exactly that child, not of
the feed server or the driver); and from the run's ``runs`` row, the run's own interval
(``started_at`` → ``finished_at``: from the moment the run starts to the moment its rows are
committed, interpreter start-up excluded; the writer process's work counts, since the commit
waits for its files) and its request counts. The CPU time covers every process of the crawl:
the crawler waits for (reaps) its writer process, so ``wait4`` counts the writer's CPU too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: The settings every benchmark crawl shares: no throttling on 127.0.0.1, enough
#: concurrency that the crawler, not the network, is the limit, and no article cap.
BASE_SETTINGS: dict[str, str] = {
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "LOG_LEVEL": "WARNING",
    "MAX_ARTICLES_PER_RUN": "0",
    "DOWNLOAD_TIMEOUT": "60",
}

#: Five pipelines that do nothing, as many stages as the project has.
NOOP_PIPELINES = json.dumps({f"bench.noop.NoopPipeline{'' if i == 1 else i}": 100 * i for i in range(1, 6)})

#: The variants compared: the same spider and settings, only the item pipelines differ.
VARIANTS: dict[str, dict[str, str]] = {
    # Raw capture (WARC) is a downloader middleware, not an item pipeline: it is off in every
    # variant but the last, which measures the pipelines plus raw capture (the default setup).
    "bare": {"ITEM_PIPELINES": "{}", "WARC_ENABLED": "False"},
    "noop": {"ITEM_PIPELINES": NOOP_PIPELINES, "WARC_ENABLED": "False"},
    "full": {"WARC_ENABLED": "False"},
    "full_warc": {"WARC_ENABLED": "True"},
}


@dataclass
class Crawl:
    variant: str
    articles: int  # text responses (what both variants fetch and parse)
    written: int  # rows archived (0 for the bare spider)
    run_s: float  # runs row finished_at - started_at
    wall_s: float  # process start to exit
    cpu_s: float  # user + system CPU of the crawl process
    peak_rss_mb: float
    returncode: int
    status: str
    requests_by_kind: dict[str, int] = field(default_factory=dict)
    writer_cpu_s: float = 0.0  # of cpu_s, the writer process's (0 without one)
    writer_peak_rss_mb: float = 0.0  # the writer's own peak (peak_rss_mb is the larger process's)
    writer_queue_wait_s: float = 0.0  # the crawl waited for room in the writer's queue
    writer_finish_wait_s: float = 0.0  # the run's end waited for the writer's last files

    @property
    def per_s(self) -> float:
        return self.articles / self.run_s if self.run_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["articles_per_s"] = round(self.per_s, 1)
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, 3)
        return out


def clean_env() -> dict[str, str]:
    """The driver's environment without NEWSARCHIVE_* (the bench sets what it means), without
    a pyiceberg catalog configuration (each crawl commits to the embedded catalog of its
    archive) and without PYTHONDONTWRITEBYTECODE: crawls import from compiled bytecode, as
    deployments do."""
    drop = ("NEWSARCHIVE_", "PYICEBERG_", "PYTHONDONTWRITEBYTECODE", "PYTHONPROFILE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYICEBERG_HOME"] = str(ROOT / "bench")  # holds no .pyiceberg.yaml
    return env


def run_row(archive: Path, run_id: str) -> dict[str, Any]:
    """The ``runs`` row of ``run_id`` in the embedded catalog of ``archive``."""
    from pyiceberg.catalog import load_catalog
    from pyiceberg.expressions import EqualTo

    from newsarchive.tables.catalog import embedded_properties

    catalog = load_catalog("newsarchive", **embedded_properties(str(archive)))  # a SQL catalog keys tables by name
    rows = catalog.load_table(("newsarchive", "runs")).scan(row_filter=EqualTo("run_id", run_id)).to_arrow()
    return rows.to_pylist()[0] if rows.num_rows else {}


def run_crawl(
    variant: str,
    settings: dict[str, str],
    archive: Path,
    log: Path,
    *,
    timeout: float = 1800,
    python_args: tuple[str, ...] = (),
) -> Crawl:
    """Crawl ``finews`` with ``settings`` (feed URLs) into ``archive``; output goes to ``log``.
    ``python_args`` go before ``-m newsarchive`` (a profiler, say)."""
    merged = {**BASE_SETTINGS, **settings, **VARIANTS[variant], "ARCHIVE_URI": str(archive)}
    args = [sys.executable, *python_args, "-m", "newsarchive", "crawl", "finews"]
    for name, value in merged.items():
        args += ["-s", f"{name}={value}"]
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=clean_env())
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.startswith("{")]
    summary: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    row = run_row(archive, summary["run_id"]) if summary.get("run_id") else {}
    if not row:
        raise RuntimeError(f"crawl {variant} committed no runs row (exit {proc.returncode}); see {log}")
    kinds = dict(row.get("requests_by_kind") or [])
    return Crawl(
        variant=variant,
        articles=int(kinds.get("text", 0)),
        written=int(row.get("articles_written") or 0),
        run_s=(row["finished_at"] - row["started_at"]).total_seconds(),
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        returncode=proc.returncode,
        status=str(row.get("status")),
        requests_by_kind={k: int(v) for k, v in kinds.items()},
        **{f"writer_{k}": float(v or 0.0) for k, v in (summary.get("writer") or {}).items()},
    )
