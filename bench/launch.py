"""A measured crawl forked from a small process: ``python -m bench.launch '{...}'``.

The kernel's peak RSS of a child (``os.wait4``) counts the memory the child had when it was
forked, before its ``exec``: with ``vfork``, which :mod:`subprocess` uses, that is the
parent's own peak. A driver that has built tables in its own process (the archives of
``rerun_scale_*``, the data benchmarks' rows) would so lend its peak to every crawl it starts.
This module imports nothing but :mod:`bench.crawl` (the standard library) before it forks the
crawl, so the crawl's figure is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from bench.crawl import ROOT, Crawl, clean_env, run_crawl


def measured_crawl(variant: str, settings: dict[str, str], archive: Path, log: Path, timeout: float = 1800) -> Crawl:
    """:func:`bench.crawl.run_crawl`, from a launcher process of its own."""
    spec = json.dumps({"variant": variant, "settings": settings, "archive": str(archive), "log": str(log)})
    proc = subprocess.run(
        [sys.executable, "-m", "bench.launch", spec],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean_env(),
        timeout=timeout + 60,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the crawl launcher failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return Crawl(**json.loads(proc.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> None:
    spec = json.loads((sys.argv[1:] if argv is None else argv)[0])
    crawl = run_crawl(spec["variant"], spec["settings"], Path(spec["archive"]), Path(spec["log"]))
    print(json.dumps(asdict(crawl)))


if __name__ == "__main__":
    main()
