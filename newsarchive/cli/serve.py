"""Serve the bundled sample feeds on 127.0.0.1 (for the demo and for trying the spiders).

Serves the infoCode feeds, an East Money look-alike and a thepaper.cn look-alike, prints a
`newsarchive crawl` command line per spider that points it there (finews has no default
hosts: its line carries both FINEWS_LIST_URLS and FINEWS_TEXT_URL), then serves until
interrupted.
"""

from __future__ import annotations

import argparse
import json
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (0: any free)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container, for other containers)"
    )
    parser.add_argument(
        "--settings-json", action="store_true", help="print the settings as one JSON line instead of -s flags"
    )


def run(args: argparse.Namespace) -> int:
    from newsarchive.eastmoney_site import install_eastmoney
    from newsarchive.feedserver import FeedServer, install_finews
    from newsarchive.thepaper_site import install_thepaper

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
            flags = " ".join(f"-s '{k}={v}'" for k, v in settings.items())
            print(f"newsarchive crawl {spider} {flags}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
