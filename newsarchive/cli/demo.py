"""Run the main job on the bundled sample feeds, with embedded defaults, and show the result.

Starts the sample feed server on 127.0.0.1, crawls it with the finews spider into
``--archive`` (default ./archive) and prints what landed. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--archive", default="./archive", help="archive directory")


def run(args: argparse.Namespace) -> int:
    from newsarchive.cli import summary
    from newsarchive.feedserver import FeedServer, install_finews

    with FeedServer() as server:
        settings = install_finews(server)
        print(f"Sample feeds served at {server.url()}", flush=True)
        cmd = [
            sys.executable,
            "-m",
            "newsarchive",
            "crawl",
            "finews",
            "-L",
            "WARNING",
            "-s",
            f"ARCHIVE_URI={args.archive}",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
        ]
        for name, value in settings.items():
            cmd += ["-s", f"{name}={value}"]
        code = subprocess.call(cmd)
    print(f"\ncrawl exited {code}\n")
    summary.run(argparse.Namespace(archive=args.archive, run=None))
    return code
