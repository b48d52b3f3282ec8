"""Import posts written by the original Jekyll site (folders or files) into the archive.

Runs the jekyll spider, so the usual pipelines, quarantine, commits (a runs row) and exit
codes apply: every post becomes a row of source jekyll (provenance: file URI, SHA-256,
template recognised) or a quarantine record with its reason. Importing the same posts
again adds nothing. A progress line while it runs (on a terminal), one summary line on
stderr at the end; the last line on stdout is a JSON summary.
Exit codes: 0 complete, 1 failed or partial, 2 bad usage (e.g. a PATH that does not exist).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from newsarchive.cli import EXIT_FAILED, EXIT_OK, UsageError
from newsarchive.cli.console import say
from newsarchive.cli.crawl import add_crawl_options, pairs, summary_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="folder of posts, or a post file")
    parser.add_argument("--archive", default=None, help="archive directory (default: ARCHIVE_URI)")
    add_crawl_options(parser)


def run(args: argparse.Namespace) -> int:
    from newsarchive.cli.crawl import crawl

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    overrides: dict[str, str] = pairs(args.settings, "-s")
    if args.archive:
        overrides["ARCHIVE_URI"] = args.archive
    out, started = sys.stdout, time.monotonic()
    summary = crawl(
        "jekyll",
        overrides,
        {"paths": [str(p.resolve()) for p in args.paths]},
        loglevel=args.loglevel,
        verbose=args.verbose,
    )
    say(summary_line("import-jekyll", summary, time.monotonic() - started))
    print(json.dumps(summary, ensure_ascii=False), file=out, flush=True)
    return EXIT_OK if summary["status"] == "complete" else EXIT_FAILED
