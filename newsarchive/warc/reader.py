"""Reading the WARC files a run wrote: one record by offset and length, a file's warcinfo,
and every exchange of a file (what a reparse replays)."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_datetime


def read_member(path: Path, offset: int, length: int) -> bytes:
    """The raw bytes of one record (a gzip member), as a ranged GET would fetch them."""
    with path.open("rb") as fh:
        fh.seek(offset)
        data = fh.read(length)
    if len(data) != length:
        raise ValueError(f"{path}: {length} bytes at {offset} run past the end of the file")
    return data


def record_at(path: Path, offset: int, length: int) -> Any:
    """The one WARC record stored at ``offset``/``length`` (a warcio ``ArcWarcRecord`` whose
    payload has been read into memory: ``record.raw_stream`` is a BytesIO)."""
    records = ArchiveIterator(io.BytesIO(read_member(path, offset, length)))
    record = next(records)
    record.raw_stream = io.BytesIO(record.raw_stream.read())
    return record


def parse_date(value: str) -> datetime:
    """A WARC-Date as an aware UTC datetime (microseconds kept)."""
    parsed: datetime = iso_date_to_datetime(value)
    return parsed.replace(tzinfo=UTC)


def parse_fields(data: bytes) -> dict[str, str]:
    """``application/warc-fields`` (``name: value`` lines) as a dict."""
    out: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            out[name.strip()] = value.strip()
    return out


def _json_text(value: str) -> str:
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str) else value


@dataclass(frozen=True)
class WarcInfo:
    """Who wrote a WARC file: the run, spider and settings recorded in its ``warcinfo``."""

    path: Path
    fields: dict[str, str]

    @property
    def run_id(self) -> str | None:
        return self.fields.get("newsarchive-run-id")

    @property
    def spider(self) -> str | None:
        return self.fields.get("newsarchive-spider")

    @property
    def key(self) -> str | None:
        return self.fields.get("newsarchive-key")

    @property
    def settings(self) -> dict[str, Any]:
        raw = self.fields.get("newsarchive-settings")
        value = json.loads(raw) if raw else {}
        return value if isinstance(value, dict) else {}


def read_warcinfo(path: Path) -> WarcInfo | None:
    """The first record's fields if it is a ``warcinfo`` record, else None."""
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type != "warcinfo":
                return None
            return WarcInfo(path, parse_fields(record.content_stream().read()))
    return None


@dataclass(frozen=True)
class Outcome:
    """What one recorded request got: a response record (where, and its WARC-Date) or a
    failure (the quarantine reason and detail recorded at capture time)."""

    method: str
    url: str
    body_sha256: str
    path: Path
    offset: int = 0
    length: int = 0
    raw_sha256: str | None = None
    date: datetime | None = None
    failure: tuple[str, str] | None = None


def body_key(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest() if body else ""


def iter_outcomes(path: Path) -> Iterator[Outcome]:
    """Every response and recorded failure of a WARC file, in file order, each keyed by the
    request that asked for it (method, URL, body)."""
    requests: dict[str, tuple[str, str, str]] = {}
    with path.open("rb") as fh:
        records = ArchiveIterator(fh)
        for record in records:
            kind = record.rec_type
            headers = record.rec_headers
            url = headers.get_header("WARC-Target-URI") or ""
            if kind == "request":
                method = (record.http_headers.protocol if record.http_headers else "GET") or "GET"
                body = record.raw_stream.read()
                requests[headers.get_header("WARC-Record-ID")] = (method.upper(), url, body_key(body))
            elif kind == "response":
                method, target, body_sha = requests.get(
                    headers.get_header("WARC-Concurrent-To") or "", ("GET", url, "")
                )
                payload = hashlib.sha256(record.raw_stream.read()).hexdigest()
                yield Outcome(
                    method,
                    target,
                    body_sha,
                    path=path,
                    offset=records.get_record_offset(),
                    length=records.get_record_length(),
                    raw_sha256=payload,
                    date=parse_date(headers.get_header("WARC-Date")),
                )
            elif kind == "metadata":
                fields = parse_fields(record.raw_stream.read())
                asked = requests.get(headers.get_header("WARC-Concurrent-To") or "")
                if asked is not None and "fetch-error" in fields:
                    failure = (fields["fetch-error"], _json_text(fields.get("fetch-error-detail", "")))
                    yield Outcome(asked[0], asked[1], asked[2], path=path, failure=failure)
