"""``python -m bench.profile``: profile a full crawl with pyinstrument and write the call
tree as text. pyinstrument samples, but its hook still slows this call-heavy crawl about
twice (the program line says how fast it ran): read the proportions, not the seconds.

    python -m bench.profile --articles 20000 --out bench/results/profile-full.txt

The crawl is the benchmark's (same server, same settings, :mod:`bench.crawl`); the report
shows where the crawler's own process spends its time. docs/benchmarks.md reads it.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from bench.crawl import VARIANTS, run_crawl
from bench.server import FeedProcess

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="full")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "profile-full.txt")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="newsarchive-profile-"))
    raw = work / "profile.txt"
    with FeedProcess(args.articles) as feeds:
        settings = feeds.settings(args.articles)
        run_crawl("full", feeds.settings(min(args.articles, 200)), work / "warm", work / "warm.log")
        crawl = run_crawl(
            args.variant,
            settings,
            work / "archive",
            work / "crawl.log",
            python_args=("-m", "pyinstrument", "-r", "text", "-o", str(raw)),
        )
    text = raw.read_text(encoding="utf-8")
    # The program line lists every feed URL; say what it was instead.
    text = re.sub(
        r"^Program: .*$",
        f"Program: newsarchive crawl finews ({args.variant}, {args.articles} articles, bench settings; "
        f"{crawl.per_s:.0f} articles/s under the profiler)",
        text,
        count=1,
        flags=re.M,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
