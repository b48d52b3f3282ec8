"""``python -m newsarchive.writer``: the writer process of one crawl.

Started by :class:`~newsarchive.writer.client.WriterClient`, which writes to its stdin a
:class:`~newsarchive.writer.work.WriterConfig`, then batches of messages; it answers on
stdout (its ``print`` and stray output go to stderr, so the frames stay whole):

* crawler → writer: ``("x", seq, when, request, response)`` an exchange, ``("f", when,
  request, reason, detail)`` a request that got no response, ``("a", values)`` an article
  (its values in :data:`~newsarchive.schema.ARTICLE_FIELDS` order),
  ``("q", row)`` a quarantine row, ``("call", n, name)`` finish a table (``articles``,
  ``quarantine``), the WARC files (``warc``) or end (``bye``);
* writer → crawler: ``("log", level, logger, text)``, the :class:`~newsarchive.writer.work.Events`
  (``rejected``, ``row_failed``, ``warc_failed``, ``write_failed``) and ``("reply", n, result)``
  or ``("error", n, kind, text)`` for a call.

The crawler's end closing before ``bye`` (it crashed or was killed) means its run commits
nothing: the writer deletes its unfinished files and exits. It ignores SIGINT and SIGTERM: a
Ctrl-C or a scheduler's stop reaches the whole process group, and the crawler, which stops
gracefully, still needs its writer to finish the files it commits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import sys
import traceback
from typing import IO, Any

from newsarchive.errors import error_detail
from newsarchive.schema import ARTICLE_FIELDS
from newsarchive.tables.definitions import ARTICLES, QUARANTINE
from newsarchive.tables.sink import WriteFailed
from newsarchive.writer import frames
from newsarchive.writer.work import RunWriter, WriterConfig

#: Exit status when the crawler went away before ``bye``.
ORPHANED = 3


class Reporter(logging.Handler):
    """Events and log records, as frames to the crawler."""

    def __init__(self, out: IO[bytes]) -> None:
        super().__init__(logging.INFO)
        self.out = out
        self.failed: set[str] = set()

    def send(self, *message: Any) -> None:
        frames.write(self.out, message)

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        with contextlib.suppress(OSError, ValueError):  # the crawler is gone: nobody to tell
            self.send("log", record.levelno, record.name, text)

    # --- Events -------------------------------------------------------------------

    def rejected(self, row: dict[str, Any], error: str) -> None:
        self.send("rejected", row, error)

    def row_failed(self, row: dict[str, Any], stage: str, detail: str) -> None:
        self.send("row_failed", row, stage, detail)

    def warc_failed(self, problem: str) -> None:
        if "warc" not in self.failed:
            self.failed.add("warc")
            self.send("warc_failed", problem)

    def write_failed(self, table: str, problem: str) -> None:
        if table not in self.failed:  # once: the sink refuses every later row the same way
            self.failed.add(table)
            self.send("write_failed", table, problem)


def own_usage() -> dict[str, float]:
    """CPU seconds and peak RSS of this process so far (a crawl's cost is both processes')."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": round(usage.ru_utime + usage.ru_stime, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


class Child:
    def __init__(self, writer: RunWriter, reporter: Reporter) -> None:
        self.writer = writer
        self.reporter = reporter

    def handle(self, message: tuple[Any, ...]) -> bool:
        """One message; False once the crawler said ``bye``."""
        kind = message[0]
        if kind == "x":
            self.writer.exchange(*message[1:])
        elif kind == "f":
            self.writer.failure(*message[1:])
        elif kind == "a":
            self.row(kind, dict(zip(ARTICLE_FIELDS, message[1], strict=True)))
        elif kind == "q":
            self.row(kind, message[1])
        elif kind == "call":
            return self.call(message[1], message[2])
        else:
            raise ValueError(f"unknown message {kind!r}")
        return True

    def row(self, kind: str, row: dict[str, Any]) -> None:
        table = ARTICLES if kind == "a" else QUARANTINE
        try:
            if kind == "a":
                self.writer.article(row)
            else:
                self.writer.quarantine(row)
        except WriteFailed as exc:
            self.reporter.write_failed(table, str(exc))
        except Exception as exc:  # a bug for this row: it becomes an internal_error row, not a lost one
            logging.getLogger(__name__).error("Writing a %s row failed: %s", table, exc, exc_info=exc)
            kept = {k: v for k, v in row.items() if k not in ("content_html", "content_text")}
            self.reporter.row_failed(kept, "write", error_detail(exc, f"writer process ({table})"))

    def call(self, n: int, name: str) -> bool:
        if name == "bye":  # its answer: what this process used (the crawl's stats and summary say it)
            self.reporter.send("reply", n, own_usage())
            return False
        try:
            result: Any = self.writer.finish_warc() if name == "warc" else self.writer.finish(name)
        except Exception as exc:
            self.reporter.send("error", n, type(exc).__name__, str(exc))
        else:
            self.reporter.send("reply", n, result)
        return True


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stdin = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt a frame
    reporter = Reporter(out)
    root = logging.getLogger()
    root.handlers[:] = [reporter]
    root.setLevel(logging.INFO)
    try:
        config: WriterConfig = frames.read(stdin)
    except frames.PeerGone:
        return ORPHANED
    writer = RunWriter(config, reporter)
    child = Child(writer, reporter)
    try:
        while True:
            batch = frames.read(stdin)
            for message in batch:
                if not child.handle(message):
                    out.flush()
                    os._exit(0)  # every file is closed and answered for: skip the interpreter's teardown
    except frames.PeerGone:
        writer.abort()  # the crawler is gone: its run will commit none of these files
        return ORPHANED
