"""Writing a run's WARC files: one gzip member per record, rotated at a size limit, atomic.

Records are built by warcio (WARC/1.1, SHA-256 block and payload digests) and compressed
here, one gzip member each (:func:`gzip_member`), so that the offset and length of a record
in its file are known the moment it is written, and those bytes alone decompress to exactly
that record (Common Crawl's convention). Each file starts with a ``warcinfo`` record and is written under a
hidden temporary name; :meth:`RotatingWarcWriter.publish` gives every file its final name at
the end of the run, like the Parquet parts.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from isal import isal_zlib
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from newsarchive.workdir import WorkDir, publish, temp_name, warc_key

WARC_VERSION = "WARC/1.1"
#: Headers that describe how the bytes travelled, not the payload recorded: Scrapy hands over
#: the body de-chunked, so a record keeping ``Transfer-Encoding: chunked`` would lie about
#: its payload. The original value is kept under this prefix (pywb's convention).
_RENAMED_HEADERS = {"transfer-encoding"}
ORIG_PREFIX = "X-Archive-Orig-"


@dataclass(frozen=True)
class WarcPointer:
    """Where a response is recorded: the four evidence columns, and the record's WARC-Date."""

    filename: str  # key relative to the archive root (the file's final name)
    offset: int
    length: int
    raw_sha256: str  # SHA-256 (hex) of the HTTP payload as received
    date: datetime  # WARC-Date of the response record (UTC)

    def columns(self) -> dict[str, Any]:
        return {
            "warc_filename": self.filename,
            "warc_record_offset": self.offset,
            "warc_record_length": self.length,
            "raw_sha256": self.raw_sha256,
        }


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    protocol: str = "HTTP/1.1"
    reason: str = ""
    ip_address: str | None = None


class _RecordBuilder(WARCWriter):  # type: ignore[misc]
    """warcio's record writer with SHA-256 digests (``raw_sha256`` is the payload digest)."""

    @staticmethod
    def _create_digester() -> Any:
        return Digester("sha256")


def warc_date(when: datetime) -> str:
    """WARC/1.1 date with microseconds: ``fetched_at`` round-trips exactly."""
    return str(datetime_to_iso_date(when.astimezone(UTC).replace(tzinfo=None), use_micros=True))


def gzip_member(level: int) -> Callable[[bytes], bytes]:
    """Compress bytes as one complete gzip member at ``level``: ISA-L for 0-3 (the levels it
    has; its 1 is about zlib's 1 in size), zlib for 4-9. Any gzip reader reads either."""
    if 0 <= level <= isal_zlib.ISAL_BEST_COMPRESSION:
        return lambda data: isal_zlib.compress(data, level, zlib.MAX_WBITS | 16)
    return lambda data: zlib.compress(data, level, zlib.MAX_WBITS | 16)


def sha256_label(digest: bytes) -> str:
    """A digest as WARC writes it: ``sha256:<base32>``."""
    return "sha256:" + base64.b32encode(digest).decode("ascii")


@dataclass
class _File:
    key: str
    tmp: Path
    fh: IO[bytes]
    warcinfo_id: str
    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    records: int = 0


@dataclass(frozen=True)
class FinishedWarc:
    key: str
    sha256: str
    bytes: int
    records: int


class RotatingWarcWriter:
    """Writes ``warc/date=<day>/<run_id>-<n>.warc.gz`` files; a new file starts once the
    current one has reached ``max_size`` bytes (an exchange is never split)."""

    def __init__(
        self,
        layout: WorkDir,
        run_id: str,
        day: date,
        *,
        max_size: int = 1 << 30,
        gzip_level: int = 6,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.layout = layout
        self.run_id = run_id
        self.day = day
        self.max_size = max(1, max_size)
        self.gzip_level = gzip_level
        self._compress = gzip_member(gzip_level)
        self.info = dict(info or {})
        self._buffer = io.BytesIO()
        self._builder = _RecordBuilder(self._buffer, gzip=False, warc_version=WARC_VERSION)
        self._current: _File | None = None
        self._done: list[_File] = []
        self._next_n = 0

    # --- records --------------------------------------------------------------------

    def write_exchange(self, request: HttpRequest, response: HttpResponse, when: datetime) -> WarcPointer:
        """Append a ``request`` and its ``response`` record; return where the response is."""
        out = self._file()
        req_id, resp_id = self._builder._make_warc_id(), self._builder._make_warc_id()
        stamp = warc_date(when)
        payload = hashlib.sha256(response.body).digest()
        common = {"WARC-Date": stamp, "WARC-Warcinfo-ID": out.warcinfo_id}
        resp_headers: dict[str, str] = {
            "WARC-Type": "response",
            "WARC-Record-ID": resp_id,
            **common,
            "WARC-Concurrent-To": req_id,
            "WARC-Payload-Digest": sha256_label(payload),
        }
        if response.ip_address:
            resp_headers["WARC-IP-Address"] = response.ip_address
        status_line = f"{response.status} {response.reason}".rstrip()
        http = StatusAndHeaders(status_line, _recorded_headers(response.headers), protocol=response.protocol)
        resp = self._builder.create_warc_record(
            request.url,
            "response",
            payload=io.BytesIO(response.body),
            length=len(response.body),
            http_headers=http,
            warc_headers_dict=resp_headers,
        )
        self._append(out, self._request_record(request, req_id, common, concurrent_to=resp_id))
        offset, length = self._append(out, resp)
        return WarcPointer(out.key, offset, length, payload.hex(), when.astimezone(UTC))

    def write_failure(self, request: HttpRequest, when: datetime, reason: str, detail: str) -> None:
        """Append a ``request`` that got no response, and a ``metadata`` record saying why."""
        out = self._file()
        req_id, meta_id = self._builder._make_warc_id(), self._builder._make_warc_id()
        common = {"WARC-Date": warc_date(when), "WARC-Warcinfo-ID": out.warcinfo_id}
        self._append(out, self._request_record(request, req_id, common))
        # the detail as a JSON string: one line, and replayed exactly as the spider saw it
        fields = _warc_fields({"fetch-error": reason, "fetch-error-detail": json.dumps(detail, ensure_ascii=False)})
        meta = self._builder.create_warc_record(
            request.url,
            "metadata",
            payload=io.BytesIO(fields),
            length=len(fields),
            warc_content_type="application/warc-fields",
            warc_headers_dict={
                "WARC-Type": "metadata",
                "WARC-Record-ID": meta_id,
                **common,
                "WARC-Concurrent-To": req_id,
            },
        )
        self._append(out, meta)

    def _request_record(
        self, request: HttpRequest, record_id: str, common: dict[str, str], concurrent_to: str | None = None
    ) -> Any:
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = list(request.headers)
        if not any(name.lower() == "host" for name, _ in headers):
            headers.insert(0, ("Host", parts.netloc.rsplit("@", 1)[-1]))
        http = StatusAndHeaders(f"{request.method} {target} {request.protocol}", headers, is_http_request=True)
        warc_headers = {"WARC-Type": "request", "WARC-Record-ID": record_id, **common}
        if concurrent_to:
            warc_headers["WARC-Concurrent-To"] = concurrent_to
        return self._builder.create_warc_record(
            request.url,
            "request",
            payload=io.BytesIO(request.body),
            length=len(request.body),
            http_headers=http,
            warc_headers_dict=warc_headers,
        )

    def _append(self, out: _File, record: Any) -> tuple[int, int]:
        """Serialise ``record`` as one gzip member at the end of ``out``: (offset, length)."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._builder.write_record(record)
        member = self._compress(self._buffer.getvalue())
        out.fh.write(member)
        out.digest.update(member)
        offset = out.size
        out.size += len(member)
        out.records += 1
        return offset, len(member)

    # --- files ----------------------------------------------------------------------

    def _file(self) -> _File:
        if self._current is not None and self._current.size >= self.max_size:
            self._finish()
        if self._current is None:
            key = warc_key(self.day, self.run_id, self._next_n)
            self._next_n += 1
            final = self.layout.path(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.with_name(temp_name(final.name))
            info = self._builder.create_warcinfo_record(final.name, {**self.info, "newsarchive-key": key})
            out = _File(key, tmp, tmp.open("xb"), info.rec_headers.get_header("WARC-Record-ID"))
            self._append(out, info)
            self._current = out
        return self._current

    def _finish(self) -> None:
        if self._current is not None:
            self._current.fh.close()
            self._done.append(self._current)
            self._current = None

    @property
    def files(self) -> int:
        return len(self._done) + (self._current is not None)

    def publish(self) -> list[FinishedWarc]:
        """Close the current file and give every file its final name (for the runs row)."""
        self._finish()
        out: list[FinishedWarc] = []
        for f in self._done:
            publish(f.tmp, self.layout.path(f.key))
            out.append(FinishedWarc(f.key, f.digest.hexdigest(), f.size, f.records))
        self._done = []
        return out

    def abort(self) -> None:
        """Close and delete every unpublished file."""
        self._finish()
        for f in self._done:
            f.tmp.unlink(missing_ok=True)
        self._done = []


def _recorded_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(ORIG_PREFIX + k if k.lower() in _RENAMED_HEADERS else k, v) for k, v in headers]


def _warc_fields(fields: Mapping[str, Any]) -> bytes:
    """``application/warc-fields``: one ``name: value`` line each (values on one line)."""

    def one_line(value: Any) -> str:
        return str(value).replace("\r", " ").replace("\n", " ")

    lines = (f"{k}: {one_line(v)}\r\n" for k, v in fields.items() if v not in (None, ""))
    return "".join(lines).encode("utf-8")
