"""Rebuild archive rows from WARC files with the current parsers, without any network.

The files written by one crawl run are replayed as a new run of the spider that wrote them
(named in each file's warcinfo, with the settings that shaped what it requested): every
request is answered from the recorded responses, anything not recorded is quarantined as
``not_in_warc``, and the rows go through the usual pipelines with the current
``pipeline_version``, keeping the ``fetched_at`` of the recorded responses; they are
committed to the tables like a crawl's (snapshots marked ``newsarchive.operation=reparse``).
What the tables already hold at the same (or a newer) version is neither replayed nor
written again: a reparse at a newer ``PIPELINE_VERSION`` writes each article's new version
once, and one that finds nothing to write says so in its summary (``nothing_to_do``,
``note``). Files of several runs are replayed one run after the other, oldest first, each
in its own process.

Exit code 0 when every replayed run completed, 1 otherwise, 2 on bad usage (a path that
does not exist, a file without a newsarchive warcinfo record). The last line on stdout is a
JSON summary.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.cli.console import say
from newsarchive.cli.crawl import add_crawl_options, crawl, pairs, summary_line

#: Settings restored from the original run besides the spider's own ``<SPIDER>_*`` ones:
#: they decide what the spider requests, hence what must match the recorded requests.
RESTORED_SETTINGS = ("ROBOTSTXT_OBEY", "ROBOTSTXT_USER_AGENT", "USER_AGENT")


@dataclass
class RecordedRun:
    """The WARC files one crawl run wrote, and what its warcinfo says about it."""

    run_id: str
    spider: str
    settings: dict[str, Any]
    files: list[Path] = field(default_factory=list)

    def overrides(self) -> dict[str, Any]:
        prefix = self.spider.upper() + "_"
        restored = {k: v for k, v in self.settings.items() if k.startswith(prefix) or k in RESTORED_SETTINGS}
        return {
            **restored,
            "WARC_ENABLED": False,
            "WARC_REPLAY_PATHS": [str(p) for p in self.files],
            # what was deferred in the original run is simply not in its files; no limit here
            "MAX_ARTICLES_PER_RUN": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
        }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warc",
        nargs="+",
        required=True,
        metavar="PATH",
        help="WARC files, or directories searched for *.warc.gz (e.g. ARCHIVE/warc)",
    )
    parser.add_argument("--archive", required=True, metavar="URI", help="archive to write to (ARCHIVE_URI)")
    add_crawl_options(parser, "override a setting (repeatable), e.g. PIPELINE_VERSION=0.2.0")


def find_warc_files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            found.extend(p for p in path.rglob("*.warc.gz") if not p.name.startswith("."))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"no such file or directory: {raw}")
    unique = sorted({p.resolve() for p in found})
    if not unique:
        raise UsageError(f"no WARC files (*.warc.gz) in {' '.join(paths)}")
    return unique


def recorded_runs(files: list[Path]) -> list[RecordedRun]:
    """Group files by the run that wrote them, oldest run first (run ids sort by start)."""
    from newsarchive.warc.reader import read_warcinfo

    runs: dict[str, RecordedRun] = {}
    for path in files:
        try:
            info = read_warcinfo(path)
        except Exception as exc:
            raise UsageError(f"{path}: not a readable WARC file ({type(exc).__name__}: {exc})") from exc
        if info is None or not info.run_id or not info.spider:
            raise UsageError(f"{path}: no newsarchive warcinfo record (which spider and run wrote it?)")
        run = runs.setdefault(info.run_id, RecordedRun(info.run_id, info.spider, info.settings))
        if run.spider != info.spider:
            raise UsageError(f"{path}: run {info.run_id} names two spiders ({run.spider}, {info.spider})")
        run.files.append(path)
    return [runs[k] for k in sorted(runs)]


def run(args: argparse.Namespace) -> int:
    out, started = sys.stdout, time.monotonic()
    overrides = pairs(args.settings, "-s")
    runs = recorded_runs(find_warc_files(args.warc))
    if len(runs) == 1:
        summary = reparse(runs[0], args.archive, overrides, loglevel=args.loglevel, verbose=args.verbose)
        what = f"reparse {runs[0].spider} (run {runs[0].run_id})"
    else:  # a Twisted reactor runs once per process: one process per recorded run
        summaries = [_reparse_in_subprocess(r, args) for r in runs]
        ok = all(s.get("status") == "complete" for s in summaries)
        summary = {
            "status": "complete" if ok else "partial",
            "runs": summaries,
            "articles_written": sum(s.get("articles_written", 0) for s in summaries),
            "quarantined": sum(s.get("quarantined", 0) for s in summaries),
            "nothing_to_do": all(s.get("nothing_to_do") for s in summaries),
        }
        if summary["nothing_to_do"]:
            summary["note"] = summaries[0]["note"]
        what = f"reparse of {len(runs)} runs"
    say(summary_line(what, summary, time.monotonic() - started))
    print(json.dumps(summary, ensure_ascii=False), file=out, flush=True)
    return EXIT_OK if summary["status"] == "complete" else EXIT_FAILED


def reparse(
    recorded: RecordedRun,
    archive: str,
    overrides: dict[str, Any] | None = None,
    *,
    loglevel: str | None = None,
    verbose: int = 0,
) -> dict[str, Any]:
    """Replay one recorded run into ``archive`` as a new run (in this process)."""
    settings = {**recorded.overrides(), "ARCHIVE_URI": archive, **(overrides or {})}
    summary = crawl(recorded.spider, settings, loglevel=loglevel, verbose=verbose)
    summary["reparsed_run_id"] = recorded.run_id
    # a rerun of the same reparse is normal (a DAG retry): say plainly that it found the work done
    summary["nothing_to_do"] = summary["status"] == "complete" and not (
        summary.get("articles_written") or summary.get("quarantined")
    )
    if summary["nothing_to_do"]:
        version = settings.get("PIPELINE_VERSION") or _pipeline_version()
        summary["note"] = (
            f"nothing to do: every row of run {recorded.run_id} is already archived "
            f"at pipeline version {version} or newer"
        )
    return summary


def _pipeline_version() -> str:
    """The version the run wrote at, as :class:`ArchiveRun` picks it."""
    from newsarchive import __version__
    from newsarchive.config import setting

    return str(setting("PIPELINE_VERSION") or __version__)


def _reparse_in_subprocess(recorded: RecordedRun, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "newsarchive", "reparse", "--warc", *map(str, recorded.files)]
    cmd += ["--archive", args.archive]
    for value in args.settings:
        cmd += ["-s", value]
    if args.loglevel:
        cmd += ["-L", args.loglevel]
    if args.verbose:
        cmd += ["-" + "v" * args.verbose]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"status": "failed", "reparsed_run_id": recorded.run_id, "exit_code": proc.returncode}
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary
