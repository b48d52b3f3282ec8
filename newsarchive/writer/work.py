"""The run's write work: WARC records, derived text, Parquet rows, whatever process runs it.

:class:`RunWriter` takes the messages the crawl produces, in the order it produced them:
an exchange (request and response, or a request that got no answer) becomes WARC records;
an article row gets its text columns (when the crawler left them) and its WARC pointer
(when the crawler only knew the record's sequence number), then goes to the ``articles``
sink; a quarantine row goes to the ``quarantine`` sink. It runs in the writer process
(:mod:`newsarchive.writer.child`) or, with ``WRITER_PROCESS`` off, inside the crawler
(:class:`~newsarchive.writer.client.WriterClient` calls it directly); the work is the same.

What goes wrong is told to :class:`Events`, never swallowed: a row pyarrow cannot store
(``rejected``: the crawler quarantines it), a row that cannot be written for another reason
(``row_failed``: an ``internal_error`` row, e.g. text that cannot be derived),
a WARC record that cannot be written (``warc_failed``: the run is partial), a sink that cannot
write (``write_failed``: the run fails and that sink's files are deleted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from newsarchive.derived import fill_text_columns, needs_text
from newsarchive.errors import error_detail
from newsarchive.redaction import MASK, redact, redact_value
from newsarchive.surrogates import escaped
from newsarchive.tables.definitions import ARTICLES, QUARANTINE, TABLES
from newsarchive.tables.sink import DataFile, TableSink, WriteFailed, month_of
from newsarchive.warc.writer import FinishedWarc, HttpRequest, HttpResponse, RotatingWarcWriter, WarcPointer
from newsarchive.workdir import WorkDir

if TYPE_CHECKING:
    from pyiceberg.io import FileIO

logger = logging.getLogger(__name__)

#: Request headers that carry a credential (``HTTPAUTH_USER``/``HTTPAUTH_PASS`` become a Basic
#: ``Authorization``: base64, not encryption): recorded by name, their value masked.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})

#: (method, url, [(name, value)] as bytes, body, protocol): a request as Scrapy sent it.
RawRequest = tuple[str, str, list[tuple[bytes, bytes]], bytes, str]
#: (status, [(name, value)] as bytes, body, protocol, ip address): as received.
RawResponse = tuple[int, list[tuple[bytes, bytes]], bytes, str, "str | None"]


class PendingPointer(NamedTuple):
    """The WARC pointer of a response whose records the writer process has yet to write:
    the crawler knows its sequence number and WARC-Date only. On a row it is the
    ``warc_record_offset`` ``-1 - seq`` (the other columns unset) until the writer puts
    the real pointer in its place (:meth:`RunWriter.resolve`)."""

    seq: int
    date: datetime

    def columns(self) -> dict[str, Any]:
        return {"warc_record_offset": -1 - self.seq}  # the other columns stay unset until resolved


def pending_seq(row: Any) -> int | None:
    """The sequence number a row's pending pointer names, or None (no pointer, or a real one)."""
    offset = row.get("warc_record_offset")
    if row.get("warc_filename") is None and isinstance(offset, int) and offset < 0:
        return -1 - offset
    return None


def recorded_request(raw: RawRequest, secrets: frozenset[str] = frozenset()) -> HttpRequest:
    """The request as it is recorded: what we send is ours, so its credentials (userinfo in
    the URL, the run's secrets, credential headers) are masked; responses are evidence and
    are kept as received."""
    method, url, headers, body, protocol = raw

    def clean(text: str) -> str:
        return redact(redact_value(text), secrets)

    recorded = []
    for name, value in headers:
        key = name.decode("latin-1")
        recorded.append((key, MASK if key.lower() in CREDENTIAL_HEADERS else clean(value.decode("latin-1"))))
    return HttpRequest(method, clean(url), recorded, body, protocol or "HTTP/1.1")


def recorded_response(raw: RawResponse) -> HttpResponse:
    status, headers, body, protocol, ip = raw
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    decoded = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
    return HttpResponse(status, decoded, body, protocol=protocol or "HTTP/1.1", reason=reason, ip_address=ip)


@dataclass(frozen=True)
class TableTarget:
    """Where a table's files go: its location and the FileIO properties to reach it (a
    local warehouse or an object store; credentials travel only over the writer's pipe)."""

    location: str
    io_properties: dict[str, str]


@dataclass(frozen=True)
class WarcTarget:
    root: str  # the run's working directory (ARCHIVE_URI, resolved)
    day: date
    max_size: int
    gzip_level: int
    info: dict[str, Any]


@dataclass(frozen=True)
class WriterConfig:
    run_id: str
    tables: dict[str, TableTarget]  # ``articles`` and ``quarantine``; absent: catalog unavailable
    sink_options: dict[str, Any]
    warc: WarcTarget | None = None
    secrets: frozenset[str] = frozenset()


class Events(Protocol):
    """Where :class:`RunWriter` reports what it could not do (see the module docstring)."""

    def rejected(self, row: dict[str, Any], error: str) -> None: ...
    def row_failed(self, row: dict[str, Any], stage: str, detail: str) -> None: ...
    def warc_failed(self, problem: str) -> None: ...
    def write_failed(self, table: str, problem: str) -> None: ...


def _without_text(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("content_html", "content_text")}


def load_io(target: TableTarget) -> FileIO:
    from pyiceberg.io import load_file_io

    return load_file_io(target.io_properties, target.location)


@dataclass
class RunWriter:
    """The write work of one run (see the module docstring)."""

    config: WriterConfig
    events: Events
    #: The FileIO of a table (in-process: the table's own; in the writer process: rebuilt).
    io_for: Callable[[str], FileIO] | None = None
    _sinks: dict[str, TableSink] = field(default_factory=dict)
    _warc: RotatingWarcWriter | None = None
    #: seq → pointer of each response this writer recorded (what a pending pointer names).
    _pointers: dict[int, WarcPointer] = field(default_factory=dict)
    _warc_failed: bool = False

    # --- WARC ---------------------------------------------------------------------

    def warc(self) -> RotatingWarcWriter:
        if self._warc is None:
            target = self.config.warc
            if target is None:
                raise RuntimeError("this run records no WARC files")
            self._warc = RotatingWarcWriter(
                WorkDir(Path(target.root)),
                self.config.run_id,
                target.day,
                max_size=target.max_size,
                gzip_level=target.gzip_level,
                info=target.info,
            )
        return self._warc

    def exchange(self, seq: int, when: datetime, request: RawRequest, response: RawResponse) -> WarcPointer | None:
        try:
            pointer = self.warc().write_exchange(
                recorded_request(request, self.config.secrets), recorded_response(response), when
            )
        except Exception as exc:
            self._record_failed(exc)
            return None
        self._pointers[seq] = pointer
        return pointer

    def failure(self, when: datetime, request: RawRequest, reason: str, detail: str) -> bool:
        try:
            self.warc().write_failure(recorded_request(request, self.config.secrets), when, reason, detail)
        except Exception as exc:
            self._record_failed(exc)
            return False
        return True

    def _record_failed(self, exc: Exception) -> None:
        if not self._warc_failed:
            self._warc_failed = True
            logger.error("WARC capture failed: %s: %s", type(exc).__name__, exc, exc_info=exc)
        self.events.warc_failed(f"WARC capture failed: {type(exc).__name__}: {exc}")

    def resolve(self, row: dict[str, Any]) -> None:
        """Put the real WARC pointer in place of a pending one (unset if that record failed)."""
        seq = pending_seq(row)
        if seq is None:
            return
        pointer = self._pointers.get(seq)
        if pointer is None:
            row.update(warc_filename=None, warc_record_offset=None, warc_record_length=None, raw_sha256=None)
        else:
            row.update(pointer.columns())

    def finish_warc(self) -> list[FinishedWarc]:
        """Give every WARC file its final name (the runs row lists them)."""
        if self._warc is None:
            return []
        try:
            return self._warc.publish()
        except Exception:
            self._warc.abort()
            raise

    # --- rows ---------------------------------------------------------------------

    def sink(self, name: str) -> TableSink:
        found = self._sinks.get(name)
        if found is not None:
            return found
        target = self.config.tables.get(name)
        if target is None:
            raise WriteFailed(f"{name}: the catalog could not be opened")
        io = self.io_for(name) if self.io_for is not None else load_io(target)
        definition = TABLES[name]
        on_reject = self._unstorable_article if name == ARTICLES else self._escape_quarantine
        found = self._sinks[name] = TableSink(
            io,
            target.location,
            definition.schema,
            self.config.run_id,
            kind=name,
            month_field=definition.month_field,
            on_reject=on_reject,
            **self.config.sink_options,
        )
        return found

    def article(self, row: dict[str, Any]) -> bool:
        """Write one article row; False when it is not written (its text could not be
        derived: ``row_failed``). Raises :class:`WriteFailed` when the sink cannot write."""
        self.resolve(row)
        if needs_text(row):
            try:
                fill_text_columns(row)
            except Exception as exc:
                logger.error("Deriving the text of %s/%s failed: %s", row.get("source"), row.get("source_id"), exc)
                self.events.row_failed(_without_text(row), "normalise", error_detail(exc, "fill_text_columns"))
                return False
        self._write(ARTICLES, (row["source"], month_of(row["published_at"])), row)
        return True

    def quarantine(self, row: dict[str, Any]) -> None:
        self.resolve(row)
        self._write(QUARANTINE, (row["source"], month_of(row["seen_at"])), row)

    def _write(self, name: str, key: Any, row: dict[str, Any]) -> None:
        sink = self.sink(name)
        try:
            sink.write(key, row)
        except WriteFailed as exc:
            sink.abort()  # at once: a full disk then still takes the other table's rows
            raise exc

    def _unstorable_article(self, row: dict[str, Any], exc: Exception) -> None:
        """A row pyarrow cannot store: the crawler quarantines it; the rest of its row group is written."""
        self.events.rejected(_without_text(row), f"{type(exc).__name__}: {exc}")
        return None

    @staticmethod
    def _escape_quarantine(row: dict[str, Any], exc: Exception) -> dict[str, Any]:
        """A quarantine row the sink cannot convert: its text escaped (lone surrogates as ``\\uXXXX``)."""
        logger.warning("Quarantine row of %s stored escaped: %s", row.get("url") or row.get("info_code_raw"), exc)
        return {k: escaped(v) for k, v in row.items()}

    def finish(self, name: str) -> list[DataFile]:
        """Finish table ``name``'s files (to commit); a sink that failed has none."""
        sink = self._sinks.get(name)
        if sink is None:
            return []
        if sink.failed is not None:
            sink.abort()
            return []
        try:
            return sink.close()
        except WriteFailed:
            sink.abort()
            raise

    def abort(self) -> None:
        """Delete every file not yet committed or published (the crawl will commit none)."""
        for sink in self._sinks.values():
            sink.abort()
        if self._warc is not None:
            self._warc.abort()
