"""The crawler's side of the writer: a Scrapy extension that hands the write work over.

With ``WRITER_PROCESS`` on (the default), the run's WARC records, derived text and Parquet
files are made by a writer process (:mod:`newsarchive.writer.child`) on another core: the
reactor thread only appends each message to a batch; a feeder thread pickles full batches
into the writer's pipe. The queue of batches is bounded (``WRITER_QUEUE_BATCHES`` ×
``WRITER_BATCH_SIZE`` messages): when the writer falls behind, the crawl waits for it, so
memory stays bounded. What the writer reports (a rejected row, a disk that is full, its own
death) comes back through a reader thread and is handled on the reactor thread, as if the
work had been done there. At the end of the run the writers' ``finish`` calls wait for the
writer to drain and answer; the run then commits what it answered, as before.

With ``WRITER_PROCESS`` off, or when the crawl exports a feed (a feed needs each item
complete as it leaves the pipelines), :class:`~newsarchive.writer.work.RunWriter` runs in
the crawler's own process and every call returns (or raises) at once.

Either process dying loses nothing a rerun does not redo: the crawler commits only the files
the writer finished and answered for; a writer that dies fails the run (finish reason
``archive_write_failed``), and a writer whose crawler dies deletes its unfinished files.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import itertools
import logging
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

from scrapy import signals
from scrapy.crawler import Crawler

from newsarchive.extensions.archiverun import ArchiveRun
from newsarchive.schema import ARTICLE_FIELDS
from newsarchive.tables.definitions import ARTICLES, QUARANTINE
from newsarchive.tables.sink import DataFile, WriteFailed
from newsarchive.warc.writer import FinishedWarc, WarcPointer
from newsarchive.writer import frames
from newsarchive.writer.work import (
    PendingPointer,
    RawRequest,
    RawResponse,
    RunWriter,
    TableTarget,
    WarcTarget,
    WriterConfig,
)

logger = logging.getLogger(__name__)

#: Finish reason of a crawl stopped because its rows cannot be written.
WRITE_FAILED = "archive_write_failed"
#: Linux: fcntl's F_SETPIPE_SZ (Python 3.10+ names it; kept for clarity).
_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_GONE = object()


def sink_options(settings: Any) -> dict[str, Any]:
    """The Parquet settings of the run's sinks (:class:`~newsarchive.tables.sink.TableSink`)."""
    return {
        "row_group_size": settings.getint("PARQUET_ROW_GROUP_SIZE"),
        "max_rows_per_file": settings.getint("PARQUET_MAX_ROWS_PER_FILE"),
        "max_open": settings.getint("PARQUET_MAX_OPEN_PARTITIONS"),
        "compression": settings.get("PARQUET_COMPRESSION"),
        "compression_level": settings.getint("PARQUET_COMPRESSION_LEVEL") or None,
    }


class WriterGone(WriteFailed):
    """The writer process ended, or stopped answering, before the run's files were finished."""


class _Process:
    """The writer process and the two threads that talk to it."""

    def __init__(
        self, config: WriterConfig, max_batches: int, on_message: Callable[[], None], niceness: int = 0
    ) -> None:
        self.proc = subprocess.Popen(  # niceness: so that it never takes the crawler's core
            [sys.executable, "-m", "newsarchive.writer", "--niceness", str(niceness)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
        )
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):  # 1 MiB, the unprivileged maximum: fewer wake-ups
                fcntl.fcntl(pipe.fileno(), _SETPIPE_SZ, 1 << 20)
        self.outbox: queue.Queue[Any] = queue.Queue(maxsize=max(1, max_batches))
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        #: Seconds the crawl waited for room in the queue (the writer was its bottleneck).
        self.waited_s = 0.0
        self.dead: str | None = None
        self.on_message = on_message
        self.outbox.put(config)
        self.threads = [
            threading.Thread(target=self._feed, args=(self.proc.stdin,), name="newsarchive-writer-feed", daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stdout,), name="newsarchive-writer-read", daemon=True),
            threading.Thread(target=self._err, args=(self.proc.stderr,), name="newsarchive-writer-err", daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def _feed(self, pipe: IO[bytes]) -> None:
        while True:
            batch = self.outbox.get()
            if batch is None:
                break
            if self.dead is not None:
                continue  # the writer is gone: drain, so that the crawl never waits for it
            try:
                pipe.write(frames.encode(batch))
                pipe.flush()
            except (BrokenPipeError, OSError, ValueError) as exc:
                self.dead = self.dead or f"its pipe broke ({type(exc).__name__})"
        with contextlib.suppress(OSError):
            pipe.close()

    def _read(self, pipe: IO[bytes]) -> None:
        while True:
            try:
                message = frames.read(pipe)
            except (frames.PeerGone, OSError, ValueError):
                break
            except Exception as exc:  # a frame that cannot be read: the stream is lost
                self.dead = f"an unreadable answer ({type(exc).__name__}: {exc})"
                break
            self.inbox.put(message)
            self.on_message()
        self.inbox.put(_GONE)
        self.on_message()

    def _err(self, pipe: IO[bytes]) -> None:
        for line in pipe:
            text = line.decode("utf-8", "replace").rstrip()
            self.stderr_tail.append(text)
            logger.warning("writer process: %s", text)

    def send(self, batch: list[Any]) -> None:
        try:
            self.outbox.put_nowait(batch)
        except queue.Full:  # the writer is behind: the crawl waits for it (bounded memory)
            started = time.perf_counter()
            self.outbox.put(batch)
            self.waited_s += time.perf_counter() - started

    def close(self, timeout: float) -> int | None:
        self.outbox.put(None)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        for thread in self.threads:
            thread.join(timeout=5)
        return code

    def describe_end(self) -> str:
        code = self.proc.poll()
        why = self.dead or (f"exit status {code}" if code is not None else "no answer")
        tail = " | ".join(self.stderr_tail)
        return f"the writer process ended unexpectedly ({why})" + (f": {tail[-500:]}" if tail else "")


class WriterClient:
    """Extension: the run's writer, in a process of its own or in this one (module docstring)."""

    def __init__(
        self,
        crawler: Crawler,
        *,
        remote: bool,
        batch_size: int,
        max_batches: int,
        timeout: float,
        sink_options: dict[str, Any],
        niceness: int = 0,
    ) -> None:
        self.crawler = crawler
        self.remote = remote
        self.batch_size = max(1, batch_size)
        self.max_batches = max_batches
        self.timeout = timeout
        self.sink_options = sink_options
        self.niceness = niceness
        #: What the run writes: table names, and the WARC target (given by the capture).
        self.uses: set[str] = set()
        self.warc_target: Callable[[], WarcTarget] | None = None
        #: Components' handlers of what the writer could not do.
        self.on_rejected: Callable[[dict[str, Any], str], None] | None = None
        self.on_row_failed: Callable[[dict[str, Any], str, str], None] | None = None
        self._local: RunWriter | None = None
        self._proc: _Process | None = None
        self._batch: list[Any] = []
        self._seq = itertools.count()
        self._calls = itertools.count()
        self._gone: str | None = None
        self._closed = False
        self._ending = False
        self._flusher: Any = None
        self._last_flush = time.monotonic()
        self._finish_wait_s = 0.0  # seconds the run's end waited for the writer's answers

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WriterClient:
        settings = crawler.settings
        feeds = bool(settings.getdict("FEEDS"))
        client = cls(
            crawler,
            remote=settings.getbool("WRITER_PROCESS") and not feeds,
            batch_size=settings.getint("WRITER_BATCH_SIZE"),
            max_batches=settings.getint("WRITER_QUEUE_BATCHES"),
            timeout=settings.getfloat("WRITER_TIMEOUT"),
            sink_options=sink_options(settings),
            niceness=settings.getint("WRITER_NICENESS"),
        )
        crawler.signals.connect(client.engine_started, signal=signals.engine_started)
        crawler.signals.connect(client.spider_closed, signal=signals.spider_closed)
        return client

    @classmethod
    def of(cls, crawler: Crawler) -> WriterClient:
        found = crawler.get_extension(cls)
        if found is None:
            raise RuntimeError(f"{cls.__module__}.{cls.__name__} is not in EXTENSIONS: nothing could be written")
        return found

    @property
    def run(self) -> ArchiveRun:
        """The run (an extension too: known once every extension is built)."""
        return ArchiveRun.of(self.crawler)

    def use(self, what: str) -> None:
        """A component will write ``what`` (a table name, or ``warc``)."""
        self.uses.add(what)

    # --- starting -----------------------------------------------------------------

    def config(self) -> WriterConfig:
        tables = {}
        for name in (ARTICLES, QUARANTINE):
            table = self.run.table(name)
            if table is not None:
                tables[name] = TableTarget(table.location(), dict(table.io.properties))
        return WriterConfig(
            run_id=self.run.run_id,
            tables=tables,
            sink_options=self.sink_options,
            warc=self.warc_target() if self.warc_target is not None else None,
            secrets=frozenset(self.run.secrets),
        )

    def engine_started(self) -> None:
        if self.remote and self.uses and self.run.catalog is not None:
            self._start()  # now, while the lists are fetched: the interpreter starts on the other core

    def _writer(self) -> RunWriter:
        if self._local is None:
            self._local = RunWriter(self.config(), self, io_for=self._table_io)
        return self._local

    def _table_io(self, name: str) -> Any:
        table = self.run.table(name)
        assert table is not None
        return table.io

    def _start(self) -> _Process | None:
        if self._proc is None and self._gone is None and not self._closed:
            self._proc = _Process(self.config(), self.max_batches, self._wake, self.niceness)
            from twisted.internet import reactor, task

            if reactor.running:
                self._flusher = task.LoopingCall(self._flush_stale)
                self._flusher.start(0.5, now=False)
        return self._proc

    # --- during the run -----------------------------------------------------------

    def _send(self, message: tuple[Any, ...]) -> None:
        if self._gone is not None or self._closed:
            return  # the run has failed already; nothing more can be written
        if self._start() is None:
            return
        self._batch.append(message)
        if len(self._batch) >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        if self._batch and self._proc is not None:
            batch, self._batch = self._batch, []
            self._proc.send(batch)
        self._last_flush = time.monotonic()

    def _flush_stale(self) -> None:
        """A slow crawl's rows reach the writer within a second (and its errors come back)."""
        if time.monotonic() - self._last_flush >= 0.5:
            self._flush()

    def exchange(
        self, request: RawRequest, response: RawResponse, when: datetime
    ) -> WarcPointer | PendingPointer | None:
        """Record a response; its pointer (pending until the writer writes it)."""
        seq = next(self._seq)
        if not self.remote:
            return self._writer().exchange(seq, when, request, response)
        self._send(("x", seq, when, request, response))
        return PendingPointer(seq, when)

    def failure(self, request: RawRequest, when: datetime, reason: str, detail: str) -> bool:
        if not self.remote:
            return self._writer().failure(when, request, reason, detail)
        self._send(("f", when, request, reason, detail))
        return True

    def article(self, values: tuple[Any, ...]) -> None:
        """Write an article row, its values in :data:`~newsarchive.schema.ARTICLE_FIELDS`
        order (a third of the pickling of a dict); in-process, raises :class:`WriteFailed`
        when it cannot."""
        if not self.remote:
            self._writer().article(dict(zip(ARTICLE_FIELDS, values, strict=True)))
        else:
            self._send(("a", values))

    def quarantine(self, row: dict[str, Any]) -> None:
        if not self.remote:
            self._writer().quarantine(row)
        else:
            self._send(("q", row))

    # --- what the writer reports (Events) -------------------------------------------

    def _wake(self) -> None:
        """Called by the reader thread: handle the news on the reactor thread."""
        from twisted.internet import reactor

        if reactor.running:
            reactor.callFromThread(self._drain)

    def _drain(self, wanted: int | None = None, deadline: float | None = None) -> Any:
        """Handle the writer's messages; with ``wanted``, until the answer to that call."""
        proc = self._proc
        if proc is None:
            return None
        while True:
            try:
                if wanted is None:
                    message = proc.inbox.get_nowait()
                else:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise WriterGone(f"the writer process gave no answer in {self.timeout:.0f} s")
                    message = proc.inbox.get(timeout=left)
            except queue.Empty:
                if wanted is None:
                    return None
                raise WriterGone(f"the writer process gave no answer in {self.timeout:.0f} s") from None
            if message is _GONE:
                if self._ending:  # it answered "bye" and exited, as it should
                    return None
                self._writer_gone(proc.describe_end())
                if wanted is not None:
                    raise WriterGone(self._gone or "the writer process ended")
                return None
            kind = message[0]
            if kind in ("reply", "error") and message[1] == wanted:
                if kind == "error":
                    raise (WriteFailed if message[2] == "WriteFailed" else RuntimeError)(message[3])
                return message[2]
            self._handle(message)

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "log":
            logging.getLogger(message[2]).log(message[1], "%s", message[3])
        elif kind == "rejected":
            self.rejected(message[1], message[2])
        elif kind == "row_failed":
            self.row_failed(message[1], message[2], message[3])
        elif kind == "warc_failed":
            self.warc_failed(message[1])
        elif kind == "write_failed":
            self.write_failed(message[1], message[2])

    def rejected(self, row: dict[str, Any], error: str) -> None:
        if self.on_rejected is not None:
            self.on_rejected(row, error)
        else:
            self.run.problems.append(f"row {row.get('source')}/{row.get('source_id')} could not be stored: {error}")

    def row_failed(self, row: dict[str, Any], stage: str, detail: str) -> None:
        if self.on_row_failed is not None:
            self.on_row_failed(row, stage, detail)
        else:
            self.run.problems.append(f"row {row.get('source')}/{row.get('source_id')} not written: {detail}")

    def warc_failed(self, problem: str) -> None:
        if problem not in self.run.problems:
            self.run.problems.append(problem)

    def write_failed(self, table: str, problem: str) -> None:
        """A sink cannot write: the run fails; for articles it stops (nothing fetched for nothing)."""
        logger.error("The archive cannot be written, the run fails: %s", problem)
        self.run.fail(f"writing {table} failed: {problem}")
        if table == ARTICLES:
            self.run.stop_crawl(WRITE_FAILED)

    def _writer_gone(self, problem: str) -> None:
        if self._gone is not None:
            return
        self._gone = problem
        logger.error("Run %s: %s", self.run.run_id, problem)
        self.run.fail(problem)
        self.run.stop_crawl(WRITE_FAILED)

    # --- the end ------------------------------------------------------------------

    def _call(self, name: str) -> Any:
        if self._gone is not None:
            raise WriterGone(self._gone)
        self._send(("call", n := next(self._calls), name))
        self._flush()
        started = time.perf_counter()
        try:
            return self._drain(wanted=n, deadline=time.monotonic() + self.timeout)
        finally:
            self._finish_wait_s += time.perf_counter() - started

    def finish(self, table: str) -> list[DataFile]:
        """Finish ``table``'s files and return them (for the run to commit). Everything sent
        before is written first; what the writer reports on the way is handled here."""
        if not self.remote:
            return self._local.finish(table) if self._local is not None else []
        if self._proc is None:
            return []
        files: list[DataFile] = self._call(table)
        return files

    def finish_warc(self) -> list[FinishedWarc]:
        if not self.remote:
            return self._local.finish_warc() if self._local is not None else []
        if self._proc is None:
            return []
        warcs: list[FinishedWarc] = self._call("warc")
        return warcs

    def abort(self) -> None:
        """In-process: delete every unfinished file (the run commits none)."""
        if self._local is not None:
            self._local.abort()

    def spider_closed(self) -> None:
        """After the run's commits (ArchiveRun's handler runs first): the writer may go."""
        self._close()

    def _record_usage(self, usage: Any) -> None:
        """The writer's CPU and peak RSS, in the crawl's stats (its summary and log show them):
        the crawler's own rusage counts the writer's CPU once it is reaped, but its peak RSS
        is the larger of the two processes', not their sum."""
        if not isinstance(usage, dict):
            return
        stats = self.crawler.stats
        assert stats is not None and self._proc is not None
        for key in ("cpu_s", "peak_rss_mb"):
            if isinstance(usage.get(key), int | float):
                stats.set_value(f"newsarchive/writer/{key}", usage[key])
        stats.set_value("newsarchive/writer/queue_wait_s", round(self._proc.waited_s, 3))
        stats.set_value("newsarchive/writer/finish_wait_s", round(self._finish_wait_s, 3))
        logger.info(
            "Writer process: %s s CPU, peak RSS %s MB; the crawl waited %.2f s for room in its queue, "
            "its end %.2f s for the last files",
            usage.get("cpu_s"),
            usage.get("peak_rss_mb"),
            self._proc.waited_s,
            self._finish_wait_s,
        )

    def _close(self) -> None:
        if self._closed:
            return
        if self._flusher is not None and self._flusher.running:
            self._flusher.stop()
        proc = self._proc
        if proc is not None and self._gone is None:
            try:
                usage = self._call("bye")
                self._ending = True
                self._record_usage(usage)
            except WriteFailed as exc:
                logger.warning("The writer process did not end cleanly: %s", exc)
        self._closed = True
        if proc is not None:
            code = proc.close(timeout=self.timeout)
            if code not in (0, None) and self._gone is None:
                logger.warning("The writer process exited with status %s", code)
