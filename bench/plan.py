"""How big and how often: the sizes and repetitions of each mode.

``full`` is what the issue asks for (``make bench``, 20-25 minutes on 2 cores, ~8 of them
building the million-row archive of ``rerun_scale_*``); ``quick`` keeps every benchmark but
shrinks it (``make bench QUICK=1``, under three minutes); ``tiny``
proves the harness end to end in seconds (the test suite runs it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Plan:
    mode: str
    #: pipeline_vs_bare_ratio: articles per crawl, and runs of each variant (each between two bare runs).
    ratio_articles: int
    ratio_repeats: int
    #: rss_growth: the small and the large crawl, and runs of each.
    rss_small: int
    rss_large: int
    rss_repeats: int
    #: query_speedup and size_ratio: rows written; rows of the zstd level sweep; query runs.
    query_rows: int
    query_repeats: int
    jsonl_repeats: int
    sweep_rows: int
    sweep_levels: tuple[int, ...]
    #: compact_rows_per_s: runs x days of small parts; upload runs (each variant).
    compact_runs: int
    compact_days: int
    compact_rows_per_part: int
    upload_repeats: int
    #: rerun_scale_*: articles the rerun lists (all archived), the small and the big archive
    #: (rows), rows per commit when building them, and reruns against each (interleaved).
    rerun_articles: int
    rerun_small: int
    rerun_big: int
    rerun_rows_per_commit: int
    rerun_repeats: int

    @property
    def universe(self) -> int:
        """Articles the feed server holds: enough for the biggest crawl."""
        return max(self.ratio_articles, self.rss_large)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


PLANS = {
    "full": Plan(
        mode="full",
        ratio_articles=20_000,
        # five rounds, each crawl between two bare ones (31 crawls): on a shared 2-core machine
        # two runs of one crawl differ by up to a third over minutes; the bracket and the
        # median of five ratios are what such swings leave stable
        ratio_repeats=5,
        rss_small=5_000,
        rss_large=50_000,
        rss_repeats=2,
        query_rows=200_000,
        query_repeats=5,
        jsonl_repeats=2,
        sweep_rows=50_000,
        sweep_levels=(1, 3, 6, 9, 12),
        compact_runs=48,
        compact_days=10,
        compact_rows_per_part=40,
        upload_repeats=3,
        rerun_articles=2_000,
        rerun_small=10_000,
        rerun_big=1_000_000,
        rerun_rows_per_commit=4_000,
        rerun_repeats=3,
    ),
    "quick": Plan(
        mode="quick",
        ratio_articles=2_000,
        ratio_repeats=2,
        rss_small=500,
        rss_large=5_000,
        rss_repeats=1,
        query_rows=20_000,
        query_repeats=3,
        jsonl_repeats=1,
        sweep_rows=5_000,
        sweep_levels=(1, 3, 6, 9, 12),
        compact_runs=12,
        compact_days=5,
        compact_rows_per_part=40,
        upload_repeats=2,
        rerun_articles=500,
        rerun_small=1_000,
        rerun_big=50_000,
        rerun_rows_per_commit=4_000,
        rerun_repeats=1,
    ),
    "tiny": Plan(
        mode="tiny",
        ratio_articles=200,
        ratio_repeats=1,
        rss_small=100,
        rss_large=400,
        rss_repeats=1,
        query_rows=1_000,
        query_repeats=1,
        jsonl_repeats=1,
        sweep_rows=500,
        sweep_levels=(1, 3),
        compact_runs=3,
        compact_days=2,
        compact_rows_per_part=10,
        upload_repeats=1,
        rerun_articles=200,
        rerun_small=300,
        rerun_big=2_000,
        rerun_rows_per_commit=500,
        rerun_repeats=1,
    ),
}
