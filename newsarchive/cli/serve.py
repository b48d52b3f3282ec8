"""Serve the bundled sample feeds on 127.0.0.1 (for the demo and for trying the spider).

Prints the -s settings that point the finews spider at it, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import json
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument(
        "--settings-json", action="store_true", help="print the settings as one JSON line instead of -s flags"
    )


def run(args: argparse.Namespace) -> int:
    from newsarchive.feedserver import FeedServer, install_finews

    server = FeedServer(port=args.port).start()
    settings = install_finews(server)
    if args.settings_json:
        print(json.dumps(settings), flush=True)
    else:
        print(" ".join(f"-s {k}={v}" for k, v in settings.items()), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
