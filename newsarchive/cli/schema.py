"""Print the archive schema; ``--update docs/schema.md`` rewrites its generated tables."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

BEGIN, END = "<!-- schema:begin -->", "<!-- schema:end -->"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", action="store_true", help="render as Markdown tables")
    parser.add_argument(
        "--update", metavar="FILE", type=Path, help=f"replace the text between {BEGIN} and {END} in FILE"
    )


def run(args: argparse.Namespace) -> int:
    from newsarchive import schema

    if args.update:
        text = args.update.read_text(encoding="utf-8")
        block = f"{BEGIN}\n{schema.markdown()}{END}"
        new, n = re.subn(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
        if n != 1:
            print(f"{args.update}: expected one {BEGIN} … {END} block")
            return 1
        args.update.write_text(new, encoding="utf-8")
    elif args.markdown:
        print(schema.markdown(), end="")
    else:
        print(f"# schema version {schema.SCHEMA_VERSION}")
        print("## articles\n" + str(schema.ARTICLE_SCHEMA.remove_metadata()))
        print("## quarantine\n" + str(schema.QUARANTINE_SCHEMA.remove_metadata()))
    return 0
