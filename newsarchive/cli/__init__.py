"""The ``newsarchive`` command: one subcommand per module in this package.

Exit codes: 0 the job completed, 1 it failed or was partial, 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Sequence

#: Subcommand name → module (each defines ``add_arguments(parser)`` and ``run(args) -> int``).
COMMANDS: dict[str, str] = {
    "crawl": "newsarchive.cli.crawl",
    "summary": "newsarchive.cli.summary",
    "schema": "newsarchive.cli.schema",
    "serve-samples": "newsarchive.cli.serve",
    "demo": "newsarchive.cli.demo",
    "upload": "newsarchive.cli.upload",
    "verify": "newsarchive.cli.verify",
    "compact": "newsarchive.cli.compact",
    "migrate": "newsarchive.cli.migrate",
    "export-jekyll": "newsarchive.cli.export_jekyll",
    "import-jekyll": "newsarchive.cli.import_jekyll",
    "reparse": "newsarchive.cli.reparse",
    "sql": "newsarchive.cli.sql",
    "changes": "newsarchive.cli.changes",
    "report": "newsarchive.cli.report",
}

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


#: reStructuredText inline markup of the docstrings, and what ``--help`` shows instead.
_RST = (
    (re.compile(r":[a-z]+(?::[a-z]+)?:`~[^`]*?([^`.]+)`"), r"\1"),  # :func:`~a.b` is b
    (re.compile(r":[a-z]+(?::[a-z]+)?:`([^`]+)`"), r"\1"),  # :class:`x`
    (re.compile(r"``([^`]+)``"), r"\1"),
    (re.compile(r"`([^`]+)`_?"), r"\1"),
    (re.compile(r"(?<![\w*])\*\*(\w[^*\n]*?)\*\*(?!\w)"), r"\1"),
    (re.compile(r"(?<![\w*])\*(\w[^*\n]*?)\*(?!\w)"), r"\1"),
)


def plain(text: str) -> str:
    """A docstring as ``--help`` prints it: plain text, no reStructuredText markup."""
    for pattern, repl in _RST:
        text = pattern.sub(repl, text)
    return text


class UsageError(Exception):
    """Bad arguments: reported on stderr, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsarchive", description=__doc__.splitlines()[0])
    from newsarchive import __version__
    from newsarchive.cli.console import add_verbosity

    parser.add_argument("--version", action="version", version=f"newsarchive {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        text = plain(module.__doc__ or "").strip()
        cmd = sub.add_parser(
            name,
            help=text.splitlines()[0] if text else None,
            description=text or None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(cmd)
        add_verbosity(cmd)
        cmd.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    from newsarchive.cli import console
    from newsarchive.storage.s3 import InvalidS3URIError

    console.setup(args)  # WARNING and above unless -v; a command running a spider sets its own
    try:
        return int(args._module.run(args))
    except (UsageError, InvalidS3URIError) as exc:
        print(f"newsarchive {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE


def entrypoint() -> None:
    sys.exit(main())
