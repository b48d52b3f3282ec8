"""Run a spider, like ``scrapy crawl``, with an exit code that says how the run went.

0: the run completed; 1: it failed or was partial (a feed down, an error, interrupted);
2: bad usage (unknown spider, malformed -s). The last line on stdout is a JSON summary
(run id, status, manifest path) for schedulers.
"""

from __future__ import annotations

import argparse
import json
import os
import traceback
from pathlib import Path
from typing import Any

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.surrogates import escape


def add_crawl_options(parser: argparse.ArgumentParser, settings_help: str = "override a setting (repeatable)") -> None:
    """``-s NAME=VALUE`` and ``-L LEVEL``, shared by every command that runs a spider."""
    parser.add_argument(
        "-s", "--set", dest="settings", action="append", default=[], metavar="NAME=VALUE", help=settings_help
    )
    parser.add_argument("-L", "--loglevel", help="log level (default: LOG_LEVEL)")


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
    summary = crawl(
        args.spider,
        pairs(args.settings, "-s"),
        pairs(args.spargs, "-a"),
        output=args.overwrite_output,
        loglevel=args.loglevel,
    )
    print(escape(json.dumps(summary, ensure_ascii=False)))  # a lone surrogate in a problem
    return EXIT_OK if summary["status"] == "complete" else EXIT_FAILED


def crawl(
    spider: str,
    overrides: dict[str, Any] | None = None,
    spargs: dict[str, Any] | None = None,
    *,
    output: str | None = None,
    loglevel: str | None = None,
) -> dict[str, Any]:
    """Run one spider in this process with the project settings plus ``overrides``
    (cmdline priority) and return the run summary. Other commands (import, reparse) reuse
    it. Once per process: a Twisted reactor cannot restart."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsarchive.settings")
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.exceptions import NotConfigured
    from scrapy.spiderloader import get_spider_loader
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict(overrides or {}, priority="cmdline")
    if loglevel:
        settings.set("LOG_LEVEL", loglevel.upper(), priority="cmdline")
    if output:
        fmt = Path(output).suffix.lstrip(".") or "jsonl"
        settings.set("FEEDS", {output: {"format": fmt, "overwrite": True}}, priority="cmdline")
    loader = get_spider_loader(settings)
    if spider not in loader.list():
        known = ", ".join(sorted(loader.list()))
        raise UsageError(f"unknown spider {spider!r} (known: {known})")
    process = AsyncCrawlerProcess(settings)
    from newsarchive import logredact

    # after Scrapy configured logging: mask secrets in every line, passwords in URLs included
    logredact.install(logredact.secrets_from_env() | logredact.setting_secrets(settings.copy_to_dict()))
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


def summarise(crawler: Any) -> dict[str, Any]:
    """What the run committed, from its stats and its ``runs`` row's snapshot ids."""
    from newsarchive.extensions.archiverun import ArchiveRun

    # ``crawler.stats`` raises before the crawl started (a component's from_crawler failed):
    # the summary must still say "failed" and leave the real error, printed above, in view
    collector = getattr(crawler, "_stats", None)
    stats = collector.get_stats() if collector is not None else {}
    status = stats.get("newsarchive/status") or "failed"
    out: dict[str, Any] = {"status": status, "spider": crawler.spidercls.name}
    run = crawler.get_extension(ArchiveRun) if getattr(crawler, "_extensions", None) is not None else None
    if run is not None:
        out["run_id"] = run.run_id
        out["catalog"] = run.spec.describe()
        out["committed"] = "runs" in run.outcomes
    out["articles_written"] = stats.get("newsarchive/articles_written", 0)
    out["quarantined"] = stats.get("newsarchive/quarantined", 0)
    return out
