"""Benchmarks 1-3, which crawl: ``pipeline_vs_bare_ratio``, ``rerun_requests``, ``rss_growth``.

Every crawl is a subprocess against the same feed server process (:mod:`bench.server`),
with the same settings (:data:`bench.crawl.BASE_SETTINGS`); variants differ only in their
item pipelines (:data:`bench.crawl.VARIANTS`). The ratio crawls are bracketed: every
other crawl is the bare spider, so each measured crawl has a bare crawl right before and
right after it, and its ratio is taken against the mean of those two (a machine that speeds
up or slows down over minutes, as a shared one does, moves both sides alike); the other
variants rotate each round, and the figure is the median of the ratios.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from bench.crawl import ROOT, Crawl, clean_env, run_crawl
from bench.plan import Plan
from bench.server import FeedProcess, totals
from bench.stats import Result, median, rounded

RATIO_GOAL = 0.95
RSS_GOAL = 1.10
Log = Callable[[str], None]
T = TypeVar("T")


def _rotated(items: list[T], k: int) -> list[T]:
    k %= len(items)
    return items[k:] + items[:k]


def bracketed(variants: list[str], rounds: int, base: str = "bare") -> list[str]:
    """The order of the ratio crawls: ``base``, then each variant followed by ``base`` again,
    the variants rotated each round; every variant's run sits between two ``base`` runs."""
    order = [base]
    for round_ in range(rounds):
        for variant in _rotated(variants, round_):
            order += [variant, base]
    return order


def bracket_ratios(
    order: list[str], crawls: list[T], rate: Callable[[T], float], base: str = "bare"
) -> dict[str, list[float]]:
    """Per variant, each run's ``rate`` ÷ the mean rate of the ``base`` runs just before and
    just after it (``order`` as :func:`bracketed` made it, ``crawls`` run in that order)."""
    ratios: dict[str, list[float]] = {}
    for i, variant in enumerate(order):
        if variant == base:
            continue
        if not 0 < i < len(order) - 1 or order[i - 1] != base or order[i + 1] != base:
            raise ValueError(f"run {i} ({variant}) is not between two {base} runs")
        bare = (rate(crawls[i - 1]) + rate(crawls[i + 1])) / 2
        ratios.setdefault(variant, []).append(rate(crawls[i]) / bare)
    return ratios


class CrawlBench:
    def __init__(self, plan: Plan, feeds: FeedProcess, work: Path, log: Log) -> None:
        self.plan = plan
        self.feeds = feeds
        self.work = work
        self.log = log
        self.count = 0

    def crawl(
        self, variant: str, articles: int, archive: Path | None = None, keep: bool = False, expect: int | None = None
    ) -> Crawl:
        """One crawl of the first ``articles`` articles; ``expect`` texts fetched (default: all)."""
        expect = articles if expect is None else expect
        self.count += 1
        archive = archive or self.work / f"archive-{self.count}"
        logfile = self.work / "logs" / f"{self.count:03d}-{variant}-{articles}.log"
        result = run_crawl(variant, self.feeds.settings(articles), archive, logfile)
        if result.status != "complete" or result.articles != expect:
            raise RuntimeError(
                f"{variant} crawl of {articles} articles ended {result.status} with "
                f"{result.articles} texts fetched (exit {result.returncode}); see {logfile}"
            )
        self.log(
            f"  {variant:9s} {articles:>6} articles: {result.per_s:7.1f}/s, run {result.run_s:6.2f}s, "
            f"cpu {result.cpu_s:6.2f}s, peak RSS {result.peak_rss_mb:6.1f} MB"
        )
        if not keep:
            shutil.rmtree(archive, ignore_errors=True)
        return result

    def warm_up(self) -> None:
        """One small crawl first: Python compiles and caches bytecode, the OS caches files."""
        self.crawl("full", min(self.feeds.articles, 200))

    # --- 1. pipeline_vs_bare_ratio (and 2. rerun_requests on the first full archive) --------

    def ratio(self) -> tuple[list[Result], Result]:
        n = self.plan.ratio_articles
        order = bracketed(["noop", "full", "full_warc"], self.plan.ratio_repeats)
        crawls: list[Crawl] = []
        rerun: Result | None = None
        for variant in order:
            keep = variant == "full" and rerun is None
            archive = self.work / "rerun-archive" if keep else None
            crawls.append(self.crawl(variant, n, archive, keep=keep))
            if keep:
                rerun = self.rerun(archive)  # type: ignore[arg-type]
                shutil.rmtree(self.work / "rerun-archive", ignore_errors=True)
        assert rerun is not None
        runs: dict[str, list[Crawl]] = {}
        for variant, crawl in zip(order, crawls, strict=True):
            runs.setdefault(variant, []).append(crawl)
        paired = bracket_ratios(order, crawls, lambda c: c.per_s)
        results = [self._ratio_result("pipeline_vs_bare_ratio", "full", runs, paired)]
        warc = self._ratio_result("pipeline_vs_bare_ratio_warc", "full_warc", runs, paired)
        warc_cost = median(w.per_s / f.per_s for w, f in zip(runs["full_warc"], runs["full"], strict=True))
        warc.note = (
            f"The full crawl with raw capture on (WARC_ENABLED=True, the default) over the bare spider; "
            f"raw capture alone keeps {warc_cost:.3f} of the full crawl's throughput. " + warc.note
        )
        results.append(warc)
        return results, rerun

    def _ratio_result(
        self, name: str, variant: str, runs: dict[str, list[Crawl]], paired: dict[str, list[float]]
    ) -> Result:
        full, bare, noop = runs[variant], runs["bare"], runs["noop"]
        value = median(paired[variant])
        per_full = 1000 / median(f.per_s for f in full)
        per_bare = 1000 / median(b.per_s for b in bare)
        per_noop = 1000 / median(n.per_s for n in noop)
        cpu_full = median(f.cpu_s for f in full)
        cpu_bare = median(b.cpu_s for b in bare)
        # every process of the crawl: the crawler and its writer process (reaped by the crawler,
        # so counted in the crawler's wait4), interpreter start-up included
        cpu_ms_full = median(f.cpu_s * 1000 / f.articles for f in full)
        cpu_ms_bare = median(b.cpu_s * 1000 / b.articles for b in bare)
        cpu_ms_crawler = median((f.cpu_s - f.writer_cpu_s) * 1000 / f.articles for f in full)
        noop_ratio = median(paired["noop"])
        note = (
            f"Scrapy alone: {per_bare:.2f} ms per article; through five pipelines that do nothing: "
            f"{per_noop - per_bare:+.2f} ms (the control: {noop_ratio:.3f} of bare); through ours: "
            f"{per_full - per_bare:+.2f} ms, until the rows are committed. CPU over every process: "
            f"{cpu_ms_full:.2f} ms per article ({cpu_ms_crawler:.2f} in the crawler, the rest in its writer), "
            f"{cpu_ms_bare:.2f} bare."
        )
        return Result(
            name=name,
            value=rounded(value),
            unit="ratio",
            goal=f">= {RATIO_GOAL}",
            met=value >= RATIO_GOAL,
            note=note,
            details={
                "articles": self.plan.ratio_articles,
                "repeats": len(full),
                "design": "bracketed: each run between two bare runs, ratio to their mean",
                "full_articles_per_s": rounded(median(f.per_s for f in full), 1),
                "bare_articles_per_s": rounded(median(b.per_s for b in bare), 1),
                "noop_pipelines_articles_per_s": rounded(median(n.per_s for n in noop), 1),
                "noop_vs_bare_ratio": rounded(noop_ratio),
                "paired_ratios": [rounded(r) for r in paired[variant]],
                "noop_paired_ratios": [rounded(r) for r in paired["noop"]],
                "cpu_ratio": rounded(cpu_bare / cpu_full),
                "cpu_ms_per_article_full": rounded(cpu_ms_full),
                "cpu_ms_per_article_crawler": rounded(cpu_ms_crawler),
                "cpu_ms_per_article_bare": rounded(cpu_ms_bare),
                "full_ms_per_article": rounded(per_full),
                "bare_ms_per_article": rounded(per_bare),
                "noop_ms_per_article": rounded(per_noop),
                "runs": {
                    "full": [c.to_json() for c in full],
                    "bare": [c.to_json() for c in bare],
                    "noop": [c.to_json() for c in noop],
                },
            },
        )

    def rerun(self, archive: Path) -> Result:
        n = self.plan.ratio_articles
        self.feeds.reset()
        second = self.crawl("full", n, archive, keep=True, expect=0)
        served = totals(self.feeds.stats())
        urls = self.feeds.list_urls(n)
        hosts = {urlsplit(u).netloc for u in urls}
        lists = len(urls)
        expected = lists + len(hosts)
        made = sum(second.requests_by_kind.values())
        extra = {k: v for k, v in second.requests_by_kind.items() if k not in ("list", "robots")}
        met = (
            made == expected
            and served["list"] == lists
            and served["robots"] == len(hosts)
            and served["text"] == 0
            and second.written == 0
            and not extra
        )
        return Result(
            name="rerun_requests",
            value=made,
            unit="requests",
            goal=f"== {expected} ({lists} lists + {len(hosts)} robots.txt)",
            met=met,
            note=f"a second run over unchanged feeds of {n} articles; it archived {second.written} rows",
            details={
                "requests_by_kind": second.requests_by_kind,
                "server_saw": served,
                "list_hosts": len(hosts),
                "list_urls": lists,
                "articles_written": second.written,
            },
        )

    # --- 3. rss_growth ------------------------------------------------------------------

    def rss(self) -> Result:
        small, large = self.plan.rss_small, self.plan.rss_large
        order = [("bare", small), ("full", small), ("bare", large), ("full", large)]
        peaks: dict[tuple[str, int], list[float]] = {key: [] for key in order}
        for round_ in range(self.plan.rss_repeats):
            for variant, n in _rotated(order, round_):
                peaks[(variant, n)].append(self.crawl(variant, n).peak_rss_mb)
        mb = {key: median(v) for key, v in peaks.items()}
        full_growth = mb[("full", large)] / mb[("full", small)]
        bare_growth = mb[("bare", large)] / mb[("bare", small)]
        value = full_growth / bare_growth
        per_article_bare = (mb[("bare", large)] - mb[("bare", small)]) * 1024 / (large - small)
        per_article_full = (mb[("full", large)] - mb[("full", small)]) * 1024 / (large - small)
        return Result(
            name="rss_growth",
            value=rounded(value),
            unit="ratio",
            goal=f"<= {RSS_GOAL}",
            met=value <= RSS_GOAL,
            note=(
                f"peak RSS grows {full_growth:.2f}x with the pipelines, {bare_growth:.2f}x without, from "
                f"{small} to {large} articles; per extra article {per_article_full:.1f} KiB with them, "
                f"{per_article_bare:.1f} KiB without (the spider's merged list records and Scrapy's queued "
                "text requests, all held until the texts arrive)"
            ),
            details={
                "small": small,
                "large": large,
                "repeats": self.plan.rss_repeats,
                "peak_rss_mb": {f"{v}_{n}": [rounded(x, 1) for x in peaks[(v, n)]] for v, n in order},
                "full_growth": rounded(full_growth),
                "bare_growth": rounded(bare_growth),
                "kib_per_article_bare": rounded(per_article_bare, 2),
                "kib_per_article_full": rounded(per_article_full, 2),
            },
        )


def stages(articles: int) -> dict[str, Any]:
    """The pipelines' own cost per article, measured outside a crawl (:mod:`bench.stages`)."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.stages", "--articles", str(articles)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean_env(),
        timeout=600,
        check=True,
    )
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def _explain(result: Result, own: dict[str, Any]) -> None:
    per = own["us_per_article"]
    total = own["total_us_per_article"] / 1000
    result.details["stages_in_process"] = own
    result.note += (
        f" Measured alone and in one process, the stages take {total:.2f} ms (normalise "
        f"{per['NormalisePipeline'] / 1000:.2f}, Parquet writer {per['ArticleWriterPipeline'] / 1000:.2f}, "
        f"publishing {own['close_us_per_article'] / 1000:.2f}): the work the writer process takes off "
        "the crawler's core."
    )


def run(plan: Plan, work: Path, log: Log) -> list[Result]:
    log(f"crawl benchmarks: feed server with {plan.universe} articles")
    with FeedProcess(plan.universe, log=work / "logs" / "server.log") as feeds:
        log(f"  server rendered its responses in {feeds.rendered_s:.1f}s (pid {feeds.proc.pid if feeds.proc else '?'})")
        bench = CrawlBench(plan, feeds, work, log)
        server_cpu = feeds.cpu_seconds()
        bench.warm_up()
        log("pipeline_vs_bare_ratio, rerun_requests")
        ratios, rerun = bench.ratio()
        log("rss_growth")
        rss = bench.rss()
        server_cpu = feeds.cpu_seconds() - server_cpu
    log("pipeline stages measured alone")
    own = stages(plan.ratio_articles)
    log(f"  {own['us_per_article']}, closing {own['close_us_per_article']} us per article")
    for result in ratios:
        _explain(result, own)
    for result in (*ratios, rerun, rss):
        result.details.setdefault("server_cpu_s_all_crawls", rounded(server_cpu, 2))
    return [*ratios, rerun, rss]
