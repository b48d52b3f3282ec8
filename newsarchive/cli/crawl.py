"""Run a spider, like scrapy crawl, with an exit code that says how the run went.

Exit codes: 0 the run completed; 1 it failed or was partial (a feed down, an error,
interrupted); 2 bad usage (unknown spider, malformed -s, a spider that is not configured).

The console shows warnings and errors, a live progress line when stderr is a terminal, and
one summary line at the end (-v: Scrapy's full INFO log, -vv: DEBUG). With -s LOG_FILE=PATH
the file gets the full log at LOG_LEVEL (default INFO) whatever the console shows. The last
line on stdout is a JSON summary (status, run id, catalog, counts) for schedulers.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.cli import console as con
from newsarchive.surrogates import escape

#: Failures of a list that mean its host could not be reached (failures.classify's reasons).
UNREACHABLE = ("connection_error", "timeout")
_LIST_PROBLEM = re.compile(r"^list (?P<url>\S+): (?P<reason>[a-z_]+) \(")


def add_crawl_options(parser: argparse.ArgumentParser, settings_help: str = "override a setting (repeatable)") -> None:
    """``-s NAME=VALUE`` and ``-L LEVEL``, shared by every command that runs a spider."""
    parser.add_argument(
        "-s", "--set", dest="settings", action="append", default=[], metavar="NAME=VALUE", help=settings_help
    )
    parser.add_argument(
        "-L",
        "--loglevel",
        metavar="LEVEL",
        help="LOG_LEVEL: the level of the LOG_FILE if one is set, else of the console (default: WARNING on "
        "the console, INFO in a LOG_FILE)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spider", help="spider name (finews, ...)")
    add_crawl_options(parser)
    parser.add_argument(
        "-a",
        dest="spargs",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="spider argument (repeatable)",
    )
    parser.add_argument(
        "-O",
        "--overwrite-output",
        metavar="FILE",
        help="also export the articles to FILE (format from its extension)",
    )


def pairs(values: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, val = value.partition("=")
        if not sep or not name:
            raise UsageError(f"{what} must be NAME=VALUE, got {value!r}")
        out[name] = val
    return out


def run(args: argparse.Namespace) -> int:
    out = sys.stdout  # LOG_STDOUT sends sys.stdout to the log: the JSON line must not follow it
    started = time.monotonic()
    summary = crawl(
        args.spider,
        pairs(args.settings, "-s"),
        pairs(args.spargs, "-a"),
        output=args.overwrite_output,
        loglevel=args.loglevel,
        verbose=args.verbose,
    )
    con.say(summary_line(f"crawl {args.spider}", summary, time.monotonic() - started))
    print(escape(json.dumps(summary, ensure_ascii=False)), file=out, flush=True)  # a lone surrogate in a problem
    return EXIT_OK if summary["status"] == "complete" else EXIT_FAILED


def summary_line(what: str, summary: dict[str, Any], elapsed: float) -> str:
    """The one human line a crawl ends with: "crawl finews: complete, 44 articles, 0
    quarantined, run ..., 3.1 s", and why, when there is something to say."""
    parts = [
        str(summary.get("status", "failed")),
        f"{summary.get('articles_written', 0)} articles",
        f"{summary.get('quarantined', 0)} quarantined",
    ]
    if summary.get("run_id"):
        parts.append(f"run {summary['run_id']}")
    parts.append(con.seconds(elapsed))
    line = f"{what}: {', '.join(parts)}"
    return f"{line}; {summary['note']}" if summary.get("note") else line


def console_level(settings: Any, overrides: dict[str, Any], loglevel: str | None, verbose: int) -> int:
    """-v/-vv, else an explicit LOG_LEVEL (-L, -s, NEWSARCHIVE_LOG_LEVEL) when there is no
    LOG_FILE (the console is then the log), else WARNING."""
    if verbose:
        return con.level_of(verbose)
    explicit = loglevel or "LOG_LEVEL" in overrides or "NEWSARCHIVE_LOG_LEVEL" in os.environ
    if explicit and not settings.get("LOG_FILE"):
        level = logging.getLevelName(str(settings.get("LOG_LEVEL")).upper())
        if isinstance(level, int):
            return level
    return logging.WARNING


def crawl(
    spider: str,
    overrides: dict[str, Any] | None = None,
    spargs: dict[str, Any] | None = None,
    *,
    output: str | None = None,
    loglevel: str | None = None,
    verbose: int = 0,
) -> dict[str, Any]:
    """Run one spider in this process with the project settings plus ``overrides``
    (cmdline priority) and return the run summary. Other commands (import, reparse) reuse
    it. Once per process: a Twisted reactor cannot restart.

    Logging: a LOG_FILE gets Scrapy's own root handler at LOG_LEVEL (the full log); the
    console is one handler of ours at :func:`console_level`. Without a LOG_FILE Scrapy
    installs no handler (LOG_INSTALL_ROOT_HANDLER off), so nothing is printed twice."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsarchive.settings")
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.exceptions import NotConfigured
    from scrapy.spiderloader import get_spider_loader
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict(overrides or {}, priority="cmdline")
    if loglevel:
        settings.set("LOG_LEVEL", loglevel.upper(), priority="cmdline")
    level = console_level(settings, overrides or {}, loglevel, verbose)
    if not settings.get("LOG_FILE"):
        settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    if "PROGRESS_ENABLED" not in (overrides or {}) and "NEWSARCHIVE_PROGRESS_ENABLED" not in os.environ:
        settings.set("PROGRESS_ENABLED", True, priority="cmdline")
    if output:
        fmt = Path(output).suffix.lstrip(".") or "jsonl"
        settings.set("FEEDS", {output: {"format": fmt, "overwrite": True}}, priority="cmdline")
    loader = get_spider_loader(settings)
    if spider not in loader.list():
        known = ", ".join(sorted(loader.list()))
        raise UsageError(f"unknown spider {spider!r} (known: {known})")
    process = AsyncCrawlerProcess(settings)
    from newsarchive import redaction

    # after Scrapy configured logging: mask secrets in every line, passwords in URLs included
    redaction.install(redaction.secrets_from_env() | redaction.setting_secrets(settings.copy_to_dict()))
    con.install_console(level, fmt=str(settings.get("LOG_FORMAT")), datefmt=str(settings.get("LOG_DATEFORMAT")))
    crawler = process.create_crawler(spider)
    failures: list[BaseException] = []

    def bootstrap(task: Any) -> None:
        if not task.cancelled() and task.exception() is not None:
            failures.append(task.exception())

    process.crawl(crawler, **(spargs or {})).add_done_callback(bootstrap)
    process.start()
    for exc in failures:
        if isinstance(exc, NotConfigured):  # a setting or argument the spider cannot run with
            raise UsageError(f"spider {spider!r} is not configured: {exc}")
        traceback.print_exception(exc)
    return summarise(crawler)


#: Stats the writer process's client sets as the crawl ends (its CPU, peak RSS, waits).
WRITER_STATS = "newsarchive/writer/"


def summarise(crawler: Any) -> dict[str, Any]:
    """What the run committed, from its stats and its ``runs`` row's snapshot ids."""
    from newsarchive.extensions.archiverun import ArchiveRun

    # ``crawler.stats`` raises before the crawl started (a component's from_crawler failed):
    # the summary must still say "failed" and leave the real error, printed above, in view
    collector = getattr(crawler, "_stats", None)
    stats = collector.get_stats() if collector is not None else {}
    status = stats.get("newsarchive/status") or "failed"
    out: dict[str, Any] = {"status": status, "spider": crawler.spidercls.name}
    try:
        run = crawler.get_extension(ArchiveRun)
    except RuntimeError:  # the extensions were never built (a component's from_crawler failed)
        run = None
    if run is not None:
        out["run_id"] = run.run_id
        out["catalog"] = run.spec.describe()
        out["committed"] = "runs" in run.outcomes
    out["articles_written"] = stats.get("newsarchive/articles_written", 0)
    out["quarantined"] = stats.get("newsarchive/quarantined", 0)
    writer = {k.removeprefix(WRITER_STATS): v for k, v in stats.items() if k.startswith(WRITER_STATS)}
    if writer:  # the writer process's own cost (WRITER_PROCESS)
        out["writer"] = writer
    note = unreachable_note(run.problems if run is not None else [], stats)
    if note:
        out["note"] = note
    return out


def unreachable_note(problems: list[str], stats: dict[str, Any]) -> str:
    """Why a run got nothing from its feeds when their hosts did not answer, naming them."""
    failed: dict[str, set[str]] = {}
    for problem in problems:
        m = _LIST_PROBLEM.match(problem)
        if m and m["reason"] in UNREACHABLE:
            failed.setdefault(urlsplit(m["url"]).netloc or m["url"], set()).add(m["reason"])
    if not failed:
        return ""
    hosts = ", ".join(f"{host} ({'/'.join(sorted(reasons))})" for host, reasons in sorted(failed.items()))
    if stats.get("newsarchive/lists/ok", 0):
        return f"some feeds could not be reached: {hosts}"
    return f"the feeds could not be reached: {hosts}"
