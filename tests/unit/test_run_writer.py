"""newsarchive/writer: the write work (RunWriter) and the frames it travels in, in-process.

The writer process runs the same RunWriter (tests/test_faults_process.py kills it and its
crawler for real); here each rule is checked on its own: a pending WARC pointer becomes the
record's real one, text that cannot be derived is reported (never lost), a crawl with a feed
writes in-process, and a frame cut short is the other end gone.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from crawler import article, build, feed
from hypothesis import given
from hypothesis import strategies as st
from scrapy.crawler import Crawler

from newsarchive.schema import ARTICLE_FIELDS
from newsarchive.tables.definitions import ARTICLES
from newsarchive.writer import frames
from newsarchive.writer.client import WriterClient
from newsarchive.writer.work import PendingPointer, RunWriter, TableTarget, WarcTarget, WriterConfig, pending_seq
from pipelines.normalise import NormalisePipeline
from pipelines.validate import ValidatePipeline

WHEN = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
REQUEST = ("GET", "http://127.0.0.1:8765/text/1", [(b"Accept", b"*/*")], b"", "HTTP/1.1")
RESPONSE = (200, [(b"Content-Type", b"application/json")], b'{"text": "<p>x</p>"}', "HTTP/1.1", "127.0.0.1")


class Recorded:
    """Events, kept for the test to read."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def rejected(self, row: dict[str, Any], error: str) -> None:
        self.seen.append(("rejected", error))

    def row_failed(self, row: dict[str, Any], stage: str, detail: str) -> None:
        self.seen.append(("row_failed", (row.get("source_id"), stage, "content_html" in row)))

    def warc_failed(self, problem: str) -> None:
        self.seen.append(("warc_failed", problem))

    def write_failed(self, table: str, problem: str) -> None:
        self.seen.append(("write_failed", table))


def writer(tmp_path: Path, events: Recorded) -> RunWriter:
    (tmp_path / "work").mkdir(parents=True, exist_ok=True)
    config = WriterConfig(
        run_id="20261127T090000Z-test",
        tables={ARTICLES: TableTarget((tmp_path / "articles").as_uri(), {})},
        sink_options={"row_group_size": 10, "max_rows_per_file": 1000, "max_open": 4, "compression": "zstd"},
        warc=WarcTarget(str(tmp_path / "work"), date(2026, 11, 27), 1 << 20, 1, {"software": "test"}),
    )
    return RunWriter(config, events)


def row(crawler: Crawler, **overrides: Any) -> dict[str, Any]:
    """A valid article as it leaves the crawler's pipelines (its text left to the writer)."""
    item = feed([build(ValidatePipeline, crawler), build(NormalisePipeline, crawler)], article(**overrides))
    out = {name: item.get(name) for name in ARTICLE_FIELDS}
    out.update(content_text=None, media_credit=None, story_id=None)
    return out


def test_a_pending_pointer_becomes_the_records_own(tmp_path: Path, crawler: Crawler) -> None:
    events = Recorded()
    w = writer(tmp_path, events)
    pointer = w.exchange(7, WHEN, REQUEST, RESPONSE)
    assert pointer is not None
    pending = row(crawler, **PendingPointer(7, WHEN).columns())
    assert pending_seq(pending) == 7
    assert w.article(pending)
    assert {k: pending[k] for k in pointer.columns()} == pointer.columns()
    assert pending["content_text"] == "正文 text"  # derived by the writer, as the crawler left it
    unknown = row(crawler, info_code="NW202611270000000002", **PendingPointer(8, WHEN).columns())
    w.resolve(unknown)  # its record was never written: no pointer rather than a wrong one
    assert unknown["warc_filename"] is None and unknown["warc_record_offset"] is None
    assert events.seen == []


def test_finished_files_hold_the_rows_and_abort_deletes_them(tmp_path: Path, crawler: Crawler) -> None:
    w = writer(tmp_path, Recorded())
    for n in range(3):
        assert w.article(row(crawler, info_code=f"NW20261127000000000{n}"))
    [data] = w.finish(ARTICLES)
    path = Path(data.path.removeprefix("file://"))
    assert data.rows == 3 and pq.read_table(path).num_rows == 3
    other = writer(tmp_path / "second", Recorded())
    other.article(row(crawler))
    other.exchange(0, WHEN, REQUEST, RESPONSE)
    other.abort()  # the crawler went away: none of these files may stay
    assert not [p for p in (tmp_path / "second").rglob("*") if p.is_file()]


def test_text_that_cannot_be_derived_is_reported_not_lost(tmp_path: Path, crawler: Crawler) -> None:
    events = Recorded()
    w = writer(tmp_path, events)
    bad = row(crawler)
    bad["content_html"] = 12345  # not text: the lxml walk fails for this row only
    assert w.article(bad) is False
    assert events.seen == [("row_failed", ("NW202611270000000001", "normalise", False))]
    assert w.article(row(crawler, info_code="NW202611270000000002"))  # the next row is written
    assert [f.rows for f in w.finish(ARTICLES)] == [1]


def test_a_crawl_with_a_feed_writes_in_process(new_crawler: Any, tmp_path: Path) -> None:
    remote = new_crawler({"WRITER_PROCESS": True})
    assert WriterClient.of(remote).remote
    feeds = new_crawler({"WRITER_PROCESS": True, "FEEDS": {str(tmp_path / "out.jsonl"): {"format": "jsonl"}}})
    assert not WriterClient.of(feeds).remote  # a feed needs each item whole as it leaves the pipelines


messages = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.binary() | st.datetimes(timezones=st.just(UTC)),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.lists(messages, max_size=5))
def test_frames_round_trip_and_a_cut_frame_is_the_peer_gone(sent: list[Any]) -> None:
    stream = io.BytesIO()
    for message in sent:
        frames.write(stream, message)
    data = stream.getvalue()
    reader = io.BytesIO(data)
    assert [frames.read(reader) for _ in sent] == sent
    with pytest.raises(frames.PeerGone):
        frames.read(reader)
    if data:  # the last frame one byte short: every whole one before it still reads
        cut = io.BytesIO(data[:-1])
        assert [frames.read(cut) for _ in sent[:-1]] == sent[:-1]
        with pytest.raises(frames.PeerGone):
            frames.read(cut)


def test_the_writer_process_is_niced_from_its_start_not_from_its_configuration() -> None:
    """``--niceness`` is applied first thing (before the imports, pyarrow and pyiceberg), so
    the start-up already yields to the crawler: it holds while the writer still waits for
    its configuration, which this test never sends."""
    import os
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "newsarchive.writer", "--niceness", "7"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        nice = None
        while time.monotonic() < deadline:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            nice = int(fields[16])  # field 19 of proc(5), counted after the command's ")"
            if nice == os.getpriority(os.PRIO_PROCESS, 0) + 7:
                break
            time.sleep(0.01)
        assert nice == os.getpriority(os.PRIO_PROCESS, 0) + 7
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # no configuration: an orphan, it exits
        assert proc.wait(timeout=60) != 0


@given(st.binary(max_size=5000), st.integers(0, 9))
def test_each_record_is_one_gzip_member_at_any_level(data: bytes, level: int) -> None:
    """ISA-L (levels 0-3) or zlib (4-9): one member, which alone decompresses to the record."""
    import gzip
    import zlib

    from newsarchive.warc.writer import gzip_member

    member = gzip_member(level)(data)
    assert gzip.decompress(member) == data
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    assert d.decompress(member) == data and d.eof and not d.unused_data
