"""Benchmarks ``rerun_scale_time_ratio`` and ``rerun_scale_rss_ratio``: does a rerun cost more
when the archive holds more?

A rerun crawls feeds naming ``K`` articles that are all archived already: it fetches the lists
only, and for every list page asks the ``articles`` table which of the page's ids it holds
(:meth:`~newsarchive.extensions.archiverun.SourceIndex.prefetch`). The same rerun runs against
two archives that hold those ``K`` articles and differ only in how much ELSE they hold: a
small one (``rerun_small`` rows) and a big one (``rerun_big`` rows). Each archive is built the
way production builds it: commit after commit of ``rerun_rows_per_commit`` rows, each through
the project's own sink and :func:`~newsarchive.tables.commit.commit_files` with its ``runs``
row, oldest first, the ``K`` rerun articles last (the latest runs archived them), then
:func:`~newsarchive.tables.maintain.maintain` with the settings' options (compaction to one
sorted file per partition, zstd 19; nothing is old enough to expire). The ratio big ÷ small of
the rerun's run interval (its ``runs`` row), of its process wall time and of its peak RSS is
reported; the goal is at most 1.5 for each.

The ``K`` rows are the generator's first ``K`` stories (:func:`bench.rows.rows`: what the feed
server serves, with full content). The other rows, the archive's history, are generated more
cheaply: the same row with ids of the generator's format (``NW`` + the Beijing date +
10 digits, from a range the served stories never use), one every 86,400/2,500 s going back
from the first story, and a one-paragraph body. The lookup reads only the id columns, so
small content columns change the files' size, not what the rerun reads.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.crawl import Crawl
from bench.feeds import text_path
from bench.generator import PER_DAY, START
from bench.launch import measured_crawl
from bench.plan import Plan
from bench.rows import SHARE_URL, TEXT_URL, rows, table_sink
from bench.server import FeedProcess, totals
from bench.stats import Result, median, rounded

GOAL = 1.5
#: The history's ids end in 10 digits from here: the served stories' are 2,200,000,000 + index.
HISTORY_BASE = 1_000_000_000
Log = Callable[[str], None]


@dataclass
class Archive:
    """An archive built for the rerun: its size and how it was made."""

    root: Path
    rows: int
    commits: int
    build_s: float
    compact_s: float
    compaction: dict[str, Any] = field(default_factory=dict)
    files: int = 0
    manifests: int = 0
    snapshots: int = 0

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "root"}
        out["build_s"] = rounded(self.build_s, 2)
        out["compact_s"] = rounded(self.compact_s, 2)
        return out


def history_rows(template: dict[str, Any], first: int, count: int, run_id: str) -> Iterator[dict[str, Any]]:
    """Rows ``first .. first+count-1`` of the history, oldest first; row ``j`` was published
    ``(j + 1)`` × 86,400/2,500 s before the first story (so ``j`` counts back in time)."""
    from newsarchive.timeparse import parse_beijing, utcnow

    step = 86_400 / PER_DAY
    fetched = utcnow()
    for j in reversed(range(first, first + count)):
        when = START - timedelta(seconds=(j + 1) * step)
        code = f"NW{when:%Y%m%d}{HISTORY_BASE + j:010d}"
        body = f"<p>{code}</p>"
        yield {
            **template,
            "source_id": code,
            "info_code": code,
            "published_at": parse_beijing(f"{when:%Y-%m-%d %H:%M:%S}"),
            "content_html": body,
            "content_text": body[3:-4],
            "share_url": SHARE_URL.format(info_code=code),
            "source_url": TEXT_URL + text_path(code),
            "fetched_at": fetched,
            "content_sha256": hashlib.sha256(body.encode()).hexdigest(),
            "story_id": hashlib.sha256(code.encode()).hexdigest()[:16],
            "run_id": run_id,
        }


def _commit_run(root: Path, batch: Iterator[dict[str, Any]], run_id: str) -> int:
    """One run's worth: its rows through the sink and ``commit_files``, then its ``runs`` row."""
    import pyarrow as pa

    from newsarchive import settings
    from newsarchive.schema import RUN_FIELDS
    from newsarchive.tables.catalog import resolve
    from newsarchive.tables.commit import commit_rows
    from newsarchive.tables.definitions import RUNS, TABLES
    from newsarchive.tables.sink import month_of
    from newsarchive.timeparse import utcnow

    started = utcnow()
    sink, commit = table_sink(
        root,
        run_id,
        row_group_size=settings.PARQUET_ROW_GROUP_SIZE,
        max_rows_per_file=settings.PARQUET_MAX_ROWS_PER_FILE,
        max_open=settings.PARQUET_MAX_OPEN_PARTITIONS,
        compression=settings.PARQUET_COMPRESSION,
        compression_level=settings.PARQUET_COMPRESSION_LEVEL,
    )
    n = 0
    for row in batch:
        sink.write((row["source"], month_of(row["published_at"])), row)
        n += 1
    commit()
    finished = utcnow()
    run: dict[str, Any] = dict.fromkeys(RUN_FIELDS)
    run.update(
        run_id=run_id,
        spider="finews",
        source="finews",
        status="complete",
        finish_reason="finished",
        started_at=started,
        finished_at=finished,
        duration_s=(finished - started).total_seconds(),
        articles_written=n,
        quarantined=0,
    )
    spec = resolve(str(root))
    catalog = spec.open()
    commit_rows(
        lambda: catalog.load_table((spec.namespace, RUNS)),
        pa.Table.from_pylist([run], schema=TABLES[RUNS].schema),
        run_id=run_id,
    )
    return n


def build_archive(root: Path, total: int, served: int, per_commit: int, log: Log) -> Archive:
    """``total`` rows: ``total - served`` of history, then the ``served`` stories, in commits of
    ``per_commit`` rows, then maintained as production maintains the tables."""
    from newsarchive.config import setting
    from newsarchive.runid import new_run_id
    from newsarchive.tables.catalog import resolve
    from newsarchive.tables.definitions import ARTICLES
    from newsarchive.tables.maintain import Options, maintain
    from newsarchive.timeparse import utcnow

    if served > total:
        raise ValueError(f"an archive of {total} rows cannot hold the {served} served articles")
    started = time.perf_counter()
    stories_ = list(rows(served, run_id="0"))
    template = {**stories_[0]}
    history = total - served
    commits = 0
    for first in reversed(range(0, history, per_commit)):  # the oldest rows first
        run_id = new_run_id(utcnow())
        _commit_run(root, history_rows(template, first, min(per_commit, history - first), run_id), run_id)
        commits += 1
    for first in range(0, served, per_commit):
        run_id = new_run_id(utcnow())
        batch = ({**row, "run_id": run_id} for row in stories_[first : first + per_commit])
        _commit_run(root, batch, run_id)
        commits += 1
    build_s = time.perf_counter() - started
    spec = resolve(str(root))
    started = time.perf_counter()
    reports = maintain(spec.open(), spec.namespace, options=Options.from_settings(setting))
    compact_s = time.perf_counter() - started
    table = spec.open().load_table((spec.namespace, ARTICLES))
    snapshot = table.current_snapshot()
    assert snapshot is not None
    archive = Archive(
        root=root,
        rows=total,
        commits=commits,
        build_s=build_s,
        compact_s=compact_s,
        compaction={r.table: r.to_json() for r in reports},
        files=len(table.inspect.files()),
        manifests=len(snapshot.manifests(table.io)),
        snapshots=len(table.snapshots()),
    )
    held = table.scan(selected_fields=("source_id",)).count()
    if held != total:
        raise RuntimeError(f"the archive in {root} holds {held} rows, not {total}")
    log(
        f"  {total:>9} rows in {commits} commits: built in {build_s:.1f}s, maintained in {compact_s:.1f}s "
        f"({archive.files} data files, {archive.manifests} manifests, {archive.snapshots} snapshots)"
    )
    return archive


class RerunBench:
    def __init__(self, plan: Plan, feeds: FeedProcess, work: Path, log: Log) -> None:
        self.plan = plan
        self.feeds = feeds
        self.work = work
        self.log = log
        self.count = 0

    def rerun(self, archive: Archive) -> Crawl:
        """One rerun of the ``K`` served articles into ``archive``: lists only, nothing written."""
        k = self.plan.rerun_articles
        self.count += 1
        logfile = self.work / "logs" / f"rerun-{self.count:02d}-{archive.rows}.log"
        self.feeds.reset()
        result = measured_crawl("full", self.feeds.settings(k), archive.root, logfile)
        served = totals(self.feeds.stats())
        if result.status != "complete" or result.articles or result.written or served["text"]:
            raise RuntimeError(
                f"the rerun over {archive.rows} archived rows ended {result.status}, fetched {result.articles} "
                f"texts (server: {served['text']}) and wrote {result.written} rows; see {logfile}"
            )
        self.log(
            f"  rerun of {k} listed into {archive.rows:>9} rows: run {result.run_s:6.2f}s, "
            f"wall {result.wall_s:6.2f}s, cpu {result.cpu_s:6.2f}s, peak RSS {result.peak_rss_mb:6.1f} MB"
        )
        return result


def _ratio(big: list[Crawl], small: list[Crawl], attr: str) -> tuple[float, list[float]]:
    paired = [getattr(b, attr) / getattr(s, attr) for b, s in zip(big, small, strict=True)]
    return median(paired), paired


def run(plan: Plan, work: Path, log: Log) -> list[Result]:
    k, small_n, big_n, per = plan.rerun_articles, plan.rerun_small, plan.rerun_big, plan.rerun_rows_per_commit
    log(f"rerun_scale: archives of {small_n} and {big_n} rows, {per} rows a commit, {k} of them listed")
    small = build_archive(work / "archive-small", small_n, k, per, log)
    big = build_archive(work / "archive-big", big_n, k, per, log)
    runs: dict[str, list[Crawl]] = {"small": [], "big": []}
    with FeedProcess(k, log=work / "logs" / "server.log") as feeds:
        bench = RerunBench(plan, feeds, work, log)
        bench.rerun(small)  # warm-up: bytecode compiled, files cached; not counted
        for round_ in range(plan.rerun_repeats):
            order = [("small", small), ("big", big)]
            for name, archive in order[round_ % 2 :] + order[: round_ % 2]:
                runs[name].append(bench.rerun(archive))
        lists = len(feeds.list_urls(k))
    run_ratio, run_paired = _ratio(runs["big"], runs["small"], "run_s")
    wall_ratio, wall_paired = _ratio(runs["big"], runs["small"], "wall_s")
    rss_ratio, rss_paired = _ratio(runs["big"], runs["small"], "peak_rss_mb")
    cpu_ratio, _ = _ratio(runs["big"], runs["small"], "cpu_s")

    def med(name: str, attr: str) -> float:
        return median(getattr(c, attr) for c in runs[name])

    details: dict[str, Any] = {
        "listed_articles": k,
        "list_urls": lists,
        "repeats": plan.rerun_repeats,
        "small_archive": small.to_json(),
        "big_archive": big.to_json(),
        "run_s": {"small": rounded(med("small", "run_s")), "big": rounded(med("big", "run_s"))},
        "wall_s": {"small": rounded(med("small", "wall_s")), "big": rounded(med("big", "wall_s"))},
        "cpu_s": {"small": rounded(med("small", "cpu_s")), "big": rounded(med("big", "cpu_s"))},
        "peak_rss_mb": {"small": rounded(med("small", "peak_rss_mb"), 1), "big": rounded(med("big", "peak_rss_mb"), 1)},
        "paired_run_ratios": [rounded(r) for r in run_paired],
        "paired_wall_ratios": [rounded(r) for r in wall_paired],
        "paired_rss_ratios": [rounded(r) for r in rss_paired],
        "cpu_ratio": rounded(cpu_ratio),
        "runs": {name: [c.to_json() for c in crawls] for name, crawls in runs.items()},
    }
    sizes = (
        f"{plan.mode} sizes: {k} listed articles ({lists} lists), all archived, in an archive of {big_n:,} rows "
        f"({big.commits} commits of {per:,} rows, compacted to {big.files} files) vs {small_n:,} "
        f"({small.commits} commits, {small.files} files)"
    )
    time_met = run_ratio <= GOAL and wall_ratio <= GOAL
    shutil.rmtree(small.root, ignore_errors=True)
    shutil.rmtree(big.root, ignore_errors=True)
    return [
        Result(
            name="rerun_scale_time_ratio",
            value=rounded(run_ratio),
            unit="ratio",
            goal=f"<= {GOAL} (run interval and process wall)",
            met=time_met,
            note=(
                f"{sizes}: the run's own interval {med('big', 'run_s'):.2f}s vs {med('small', 'run_s'):.2f}s; "
                f"process wall {med('big', 'wall_s'):.2f}s vs {med('small', 'wall_s'):.2f}s "
                f"(ratio {wall_ratio:.3f}); CPU ratio {cpu_ratio:.3f}"
            ),
            details=details,
        ),
        Result(
            name="rerun_scale_rss_ratio",
            value=rounded(rss_ratio),
            unit="ratio",
            goal=f"<= {GOAL}",
            met=rss_ratio <= GOAL,
            note=(
                f"peak RSS of the same reruns: {med('big', 'peak_rss_mb'):.1f} MB with {big_n:,} rows archived, "
                f"{med('small', 'peak_rss_mb'):.1f} MB with {small_n:,}"
            ),
            details={k_: details[k_] for k_ in ("listed_articles", "repeats", "peak_rss_mb", "paired_rss_ratios")},
        ),
    ]
