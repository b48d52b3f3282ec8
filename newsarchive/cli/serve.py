"""Serve the bundled sample feeds on 127.0.0.1, for the demo and for trying the spiders.

Serves the infoCode feeds, an East Money look-alike and a thepaper.cn look-alike, then prints
one newsarchive crawl command per spider that points it there, ready to copy and paste
(finews has no default hosts: its line carries both FINEWS_LIST_URLS and FINEWS_TEXT_URL).
Serves until interrupted: Ctrl-C to stop.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 in a container)",
    )
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (default: 8765; 0: any free port)")
    parser.add_argument(
        "--settings-json", action="store_true", help="print the settings as one JSON line instead of -s flags"
    )


def command_line(spider: str, settings: dict[str, str]) -> str:
    """A crawl command a shell runs as printed (every value quoted)."""
    flags = " ".join(f"-s {shlex.quote(f'{k}={v}')}" for k, v in settings.items())
    return f"newsarchive crawl {spider} {flags}"


def run(args: argparse.Namespace) -> int:
    from newsarchive.samples.eastmoney_site import install_eastmoney
    from newsarchive.samples.feedserver import FeedServer, install_finews
    from newsarchive.samples.thepaper_site import install_thepaper

    server = FeedServer(host=args.host, port=args.port).start()
    sites = {
        "finews": install_finews(server),
        "eastmoney": install_eastmoney(server),
        "thepaper": install_thepaper(server),
    }
    if args.settings_json:
        print(json.dumps(sites), flush=True)
    else:
        for spider, settings in sites.items():
            print(command_line(spider, settings), flush=True)
    print(f"Serving the sample sites on {server.url()} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
