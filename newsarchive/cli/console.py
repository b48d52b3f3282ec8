"""What the newsarchive command shows on the terminal: a short log, progress, one summary line.

The console log is WARNING and above from every logger by default (``-v``: INFO of
everything, Scrapy's start-up dumps and botocore's "Found credentials" included; ``-vv``:
DEBUG), with a traceback cut to its last line unless ``-v``. A log file (a crawl's
``LOG_FILE``) keeps its own level and full tracebacks: the console never decides what it gets.
Long work shows a live progress line on stderr, only when stderr is a terminal (rich,
transient: it leaves nothing behind), so logs, pipes and CI stay clean. Each command ends
with one human line on stderr; the JSON summary stays the last line on stdout.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from types import TracebackType
from typing import Any, TextIO

#: ``-v`` count → console level.
LEVELS = {0: logging.WARNING, 1: logging.INFO}
#: Scrapy's own line format, so that the console and a LOG_FILE read alike.
LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
LOG_DATEFORMAT = "%Y-%m-%d %H:%M:%S"


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log on stderr: -v shows INFO of every library, -vv DEBUG (default: warnings and errors only)",
    )


def level_of(verbose: int) -> int:
    return LEVELS.get(verbose, logging.DEBUG)


def is_terminal(stream: TextIO | None = None) -> bool:
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a record comes, not when the handler was made:
    while a progress line is live, rich routes stderr above it, and log lines must follow."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # logging assigns it; the live one is used instead
        pass


class ConsoleFormatter(logging.Formatter):
    """Scrapy's format; a traceback only with ``-v`` (else its last line, and where the rest is)."""

    def __init__(self, fmt: str = LOG_FORMAT, datefmt: str = LOG_DATEFORMAT, *, tracebacks: bool = False) -> None:
        super().__init__(fmt=fmt, datefmt=datefmt)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks or not (record.exc_info or record.exc_text):
            return super().format(record)
        last = _last_line(record)
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            text = super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
        said = last.split(": ", 1)[-1]  # "Type: message": the message alone may be in the line already
        return f"{text} [{last}; traceback with -v]" if last and said not in text else text


def _last_line(record: logging.LogRecord) -> str:
    from newsarchive import redaction

    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        line = traceback.format_exception_only(type(exc), exc)[-1].strip()
    else:
        lines = [ln for ln in (record.exc_text or "").splitlines() if ln.strip()]
        line = lines[-1].strip() if lines else ""
    return redaction.mask(line)


class DisabledComponents(logging.Filter):
    """Scrapy's "Disabled <component>: <reason>" is a WARNING, yet says a component turned
    itself off as configured (WARC capture in a reparse): shown on the console with -v only
    (a LOG_FILE keeps it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "scrapy.middleware" and str(record.msg).startswith("Disabled "))


_installed: logging.Handler | None = None


def install_console(level: int, *, fmt: str = LOG_FORMAT, datefmt: str = LOG_DATEFORMAT) -> logging.Handler:
    """The one console handler of this process on the root logger (replacing an earlier one),
    secrets masked in every record; lowers the root logger's level to ``level`` if needed."""
    global _installed
    from newsarchive import redaction

    redaction.install()
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
    handler = StderrHandler()
    handler.setLevel(level)
    handler.setFormatter(ConsoleFormatter(fmt, datefmt, tracebacks=level <= logging.INFO))
    if level > logging.INFO:
        handler.addFilter(DisabledComponents())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    _installed = handler
    return handler


def setup(args: argparse.Namespace) -> int:
    """Console logging for a command that runs no spider; returns the console level."""
    level = level_of(int(getattr(args, "verbose", 0) or 0))
    install_console(level)
    return level


def say(text: str) -> None:
    """One human line on stderr (the summary, or why there is nothing to do)."""
    print(text, file=sys.stderr, flush=True)


def seconds(elapsed: float) -> str:
    return f"{elapsed:.1f} s" if elapsed < 120 else f"{elapsed / 60:.1f} min"


class Meter:
    """A live progress line for one long job, on stderr only when it is a terminal.

    ``with Meter("upload", total=n, unit="files") as m: m.advance()``. When stderr is not a
    terminal every call does nothing, so callers need no test of their own.
    """

    def __init__(self, description: str, *, total: float | None = None, bytes_total: int | None = None) -> None:
        self.description = description
        self.total = total
        self.bytes_total = bytes_total
        self.live = is_terminal()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Meter:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        if not self.live or self._progress is not None:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if self.total is not None:
            columns += [BarColumn(), MofNCompleteColumn()]
        columns += [TextColumn("{task.fields[detail]}"), TimeElapsedColumn()]
        self._progress = Progress(*columns, console=Console(stderr=True), transient=True)
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=self.total, detail="")

    def advance(self, n: float = 1, *, detail: str | None = None) -> None:
        if self._progress is None:
            return
        fields = {} if detail is None else {"detail": detail}
        self._progress.update(self._task, advance=n, **fields)

    def update(
        self,
        *,
        detail: str | None = None,
        description: str | None = None,
        completed: float | None = None,
        total: float | None = None,
    ) -> None:
        if self._progress is None:
            return
        fields: dict[str, Any] = {} if detail is None else {"detail": detail}
        if description is not None:
            fields["description"] = description
        if completed is not None:
            fields["completed"] = completed
        if total is not None:
            fields["total"] = total
        self._progress.update(self._task, **fields)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
