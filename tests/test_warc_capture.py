"""Raw capture: every request and response of a run in WARC files, every row pointing to its record."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.samples.feedserver import FeedServer, install_finews
from newsarchive.timeparse import beijing_date
from newsarchive.warc.reader import parse_date, read_warcinfo
from newsarchive.workdir import WARC_NAME_RE
from spiders.finews_feeds import parse_text
from tests.helpers import FAST, CrawlResult, install_finews_faults, read_table, run_crawl, the_record_at


def records(path: Path) -> list[dict]:
    """Every record of a WARC file, with its offset and length."""
    out = []
    with path.open("rb") as fh:
        it = ArchiveIterator(fh)
        for rec in it:
            payload = rec.raw_stream.read()
            out.append(
                {
                    "type": rec.rec_type,
                    "uri": rec.rec_headers.get_header("WARC-Target-URI"),
                    "id": rec.rec_headers.get_header("WARC-Record-ID"),
                    "concurrent": rec.rec_headers.get_header("WARC-Concurrent-To"),
                    "method": rec.http_headers.protocol if rec.rec_type == "request" else None,
                    "status": rec.http_headers.get_statuscode() if rec.rec_type == "response" else None,
                    "payload": payload,
                    "offset": it.get_record_offset(),
                    "length": it.get_record_length(),
                }
            )
    return out


def warc_files(archive: Path) -> list[Path]:
    return sorted((archive / "warc").rglob("*.warc.gz"))


@pytest.fixture(scope="module")
def faulty() -> tuple[FeedServer, dict[str, str], dict[str, str]]:
    with FeedServer() as server:
        settings = install_finews(server)
        codes = install_finews_faults(server)
        yield server, settings, codes


@pytest.fixture(scope="module")
def captured(tmp_path_factory, faulty) -> tuple[Path, CrawlResult, FeedServer, dict[str, str]]:
    server, settings, codes = faulty
    archive = tmp_path_factory.mktemp("captured")
    result = run_crawl("finews", {**FAST, **settings, "ARCHIVE_URI": archive})
    assert result.summary.get("run_id"), result.stderr[-3000:]
    return archive, result, server, codes


def test_every_request_of_the_run_is_recorded(captured):
    archive, _, server, codes = captured
    recs = [r for f in warc_files(archive) for r in records(f)]
    asked = Counter((r["method"], r["uri"]) for r in recs if r["type"] == "request")
    served = Counter((method, server.url(path)) for method, path, _ in server.requests)
    reset = ("GET", server.url(f"/NewsData/GetNewsText.do?id={codes['reset']}"))
    # Twisted's connection pool silently repeats a request whose persistent connection drops
    # before any answer: the server sees those repeats, Scrapy (and the WARC) one attempt each
    assert asked.pop(reset) == 3 and served.pop(reset) >= 3  # RETRY_TIMES=2
    assert asked == served  # robots.txt, the 5 lists, every text attempt, retries included
    asked[reset] = 3
    paths = Counter(re.sub(r"\?.*", "", uri).rsplit("/", 1)[1] for _, uri in asked.elements())
    assert paths["robots.txt"] == 1 and paths["webapi"] == 5 and paths["GetNewsText.do"] == 44 + 1 + 2
    by_id = {r["id"]: r for r in recs}
    responses = [r for r in recs if r["type"] == "response"]
    assert len(responses) == sum(asked.values()) - 3  # the three dropped connections got none
    for resp in responses:  # each response is paired with the request it answers
        req = by_id[resp["concurrent"]]
        assert req["type"] == "request" and req["uri"] == resp["uri"] and req["concurrent"] == resp["id"]
    retried = [r["status"] for r in responses if r["uri"].endswith(codes["retried"])]
    assert retried == ["503", "200"]
    failures = [r for r in recs if r["type"] == "metadata"]
    assert len(failures) == 3 and {r["uri"] for r in failures} == {
        server.url(f"/NewsData/GetNewsText.do?id={codes['reset']}")
    }
    for meta in failures:
        assert by_id[meta["concurrent"]]["type"] == "request"
        assert b"fetch-error: connection_error" in meta["payload"]


def test_warcio_checker_validates_every_file(captured):
    archive, *_ = captured
    files = warc_files(archive)
    proc = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    n_records = sum(len(records(f)) for f in files)
    assert proc.stdout.count("digest pass") == n_records
    assert "fail" not in proc.stdout.lower()


def test_files_are_listed_in_the_runs_row(captured):
    archive, result, *_ = captured
    run_id = result.summary["run_id"]
    run = result.run
    listed = run["warc_files"]
    day = beijing_date(run["started_at"])
    assert [f["path"] for f in listed] == [f"warc/date={day.isoformat()}/{run_id}-0.warc.gz"]
    for f in listed:
        data = (archive / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]
        assert f["records"] == len(records(archive / f["path"]))
    assert not [p for p in (archive / "warc").rglob(".*")]  # no temporary file left
    info = read_warcinfo(archive / listed[0]["path"])
    assert info is not None and info.run_id == run_id and info.spider == "finews"
    assert info.key == listed[0]["path"]
    assert info.settings["FINEWS_TEXT_URL"] == json.loads(run["settings"])["FINEWS_TEXT_URL"]
    assert records(archive / listed[0]["path"])[0]["type"] == "warcinfo"


def test_every_article_points_to_its_response_record(captured):
    archive, _, _, codes = captured
    rows = read_table(archive).to_pylist()
    assert len(rows) == 42  # 44 texts, one 404, one dropped connection
    for row in rows:
        rec, payload = the_record_at(
            archive, row["warc_filename"], row["warc_record_offset"], row["warc_record_length"]
        )
        assert rec.rec_type == "response"
        assert rec.rec_headers.get_header("WARC-Target-URI") == row["source_url"]
        assert rec.http_headers.get_statuscode() == "200"  # the retried one: the 200, not the 503
        assert hashlib.sha256(payload).hexdigest() == row["raw_sha256"]
        digest = "sha256:" + base64.b32encode(bytes.fromhex(row["raw_sha256"])).decode()
        assert rec.rec_headers.get_header("WARC-Payload-Digest") == digest
        assert parse_date(rec.rec_headers.get_header("WARC-Date")) == row["fetched_at"]
        encoding = rec.http_headers.get_header("Content-Encoding")
        assert (encoding == "gzip") == (row["source_id"] == codes["gzipped"])  # as received
        body = gzip.decompress(payload) if encoding else payload
        assert parse_text(body) == row["content_html"]  # the evidence holds what was parsed
    assert {codes["retried"], codes["gzipped"]} <= {r["source_id"] for r in rows}


def test_quarantined_records_point_to_the_response_they_came_from(captured):
    archive, _, _, codes = captured
    rows = {r["reason"]: r for r in read_table(archive, "quarantine").to_pylist()}
    assert set(rows) == {"invalid_info_code", "missing_time", "http_error", "connection_error"}
    gone, _ = the_record_at(
        archive,
        rows["http_error"]["warc_filename"],
        rows["http_error"]["warc_record_offset"],
        rows["http_error"]["warc_record_length"],
    )
    assert gone.http_headers.get_statuscode() == "404"
    assert gone.rec_headers.get_header("WARC-Target-URI") == rows["http_error"]["url"]
    assert rows["http_error"]["info_code_raw"] == codes["missing"]
    for reason in ("invalid_info_code", "missing_time"):  # bad records: the list that held them
        row = rows[reason]
        rec, payload = the_record_at(
            archive, row["warc_filename"], row["warc_record_offset"], row["warc_record_length"]
        )
        assert rec.rec_headers.get_header("WARC-Target-URI") == row["url"]
        assert row["info_code_raw"].encode() in payload
        assert hashlib.sha256(payload).hexdigest() == row["raw_sha256"]
    reset = rows["connection_error"]  # no response, nothing to point to
    assert reset["warc_filename"] is None and reset["raw_sha256"] is None


def test_files_rotate_at_the_size_limit(tmp_path, sample_settings):
    archive = tmp_path / "archive"
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive, "WARC_MAX_SIZE": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    run_id = result.summary["run_id"]
    listed = [f["path"] for f in result.run["warc_files"]]
    assert len(listed) == 1 + 5 + 44  # one exchange per file once a file holds anything
    assert sorted(int(k.rsplit("-", 1)[1].split(".")[0]) for k in listed) == list(range(len(listed)))
    assert sorted(listed) == sorted(k.relative_to(archive).as_posix() for k in warc_files(archive))
    for key in listed:
        kinds = [r["type"] for r in records(archive / key)]
        assert kinds == ["warcinfo", "request", "response"]
        name = WARC_NAME_RE.fullmatch(key.rsplit("/", 1)[1])
        assert name is not None and name["run_id"] == run_id
    proc = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *(str(archive / k) for k in listed)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout
    for row in read_table(archive).to_pylist():
        rec, _ = the_record_at(archive, row["warc_filename"], row["warc_record_offset"], row["warc_record_length"])
        assert rec.rec_headers.get_header("WARC-Target-URI") == row["source_url"]


def test_capture_can_be_switched_off(tmp_path, sample_settings):
    archive = tmp_path / "archive"
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive, "WARC_ENABLED": "False"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (archive / "warc").exists()
    table = read_table(archive)
    assert result.run["warc_files"] == [] and result.run["articles_written"] == table.num_rows > 0
    for column in ("warc_filename", "warc_record_offset", "warc_record_length", "raw_sha256"):
        assert table[column].null_count == table.num_rows
