"""Planted files, symlinks and bad S3 prefixes never hurt the archive.

Whatever someone (or a broken disk, or a half-finished copy) leaves in an archive, the next
crawl still archives every new article, nothing is written or read through a link out of
the archive, and ``newsarchive verify`` names what is wrong and exits 1.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsarchive.archive.layout import Layout
from tests.conftest import clean_env, run_cli, run_crawl, s3_env

PLANTED_RUN = "20200101T000000Z-0planted"
SAMPLE_ARTICLES = 44  # what one crawl of the sample feeds archives


def articles_in(archive: Path) -> int:
    """Rows under ``articles/`` read without following any link (the check of the test)."""
    total = 0
    for dirpath, _dirs, filenames in os.walk(archive / "articles"):
        for name in filenames:
            path = Path(dirpath, name)
            if name.endswith(".parquet") and not name.startswith(".") and not path.is_symlink():
                try:
                    total += pq.read_metadata(path).num_rows
                except pa.ArrowInvalid:
                    continue  # the planted file itself
    return total


def tree(path: Path) -> list[str]:
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*")) if path.exists() else []


# --- planted or corrupt files -----------------------------------------------------------------

GARBAGE = b"PAR1 this is not a parquet file PAR1"
PLANTED = {
    "garbage part": f"articles/source=finews/date=2022-01-01/part-{PLANTED_RUN}-0.parquet",
    "garbage quarantine part": f"quarantine/source=finews/date=2022-01-01/part-{PLANTED_RUN}-0.parquet",
    "garbage index part": f"index/articles/source=finews/part-{PLANTED_RUN}-0.parquet",
    "garbage quarantine index part": f"index/quarantine/source=finews/part-{PLANTED_RUN}-0.parquet",
}


@pytest.mark.parametrize("what", sorted(PLANTED))
def test_a_planted_unreadable_parquet_file_never_stops_the_next_crawl(tmp_path, sample_settings, what):
    archive = tmp_path / "archive"
    key = PLANTED[what]
    planted = archive / key
    planted.parent.mkdir(parents=True)
    planted.write_bytes(GARBAGE)
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.summary["status"] == "complete"
    assert articles_in(archive) == SAMPLE_ARTICLES
    assert planted.read_bytes() == GARBAGE  # left where it is, not adopted, not deleted
    assert not (archive / f"runs/{PLANTED_RUN}.json").exists()
    assert any(key in p for p in result.manifest["archive_problems"]), result.manifest["archive_problems"]
    assert key in result.stderr  # logged by name
    verify = run_cli("verify", "--archive", str(archive))
    assert verify.returncode == 1 and key in verify.stdout, verify.stdout + verify.stderr[-2000:]
    deep = run_cli("verify", "--archive", str(archive), "--deep")
    assert deep.returncode == 1 and key in deep.stdout


def test_a_truncated_orphan_is_skipped_and_its_intact_siblings_adopted(tmp_path, sample_archive, sample_settings):
    """A run killed between publishing parts and its manifest, one of whose parts was then
    cut short (disk full, a partial copy): the intact parts are adopted, the cut one named."""
    source, _ = sample_archive
    archive = tmp_path / "archive"
    parts = sorted((source / "articles").rglob("part-*.parquet"))[:2]
    keys = []
    for n, part in enumerate(parts):
        key = f"{part.parent.relative_to(source).as_posix()}/part-{PLANTED_RUN}-{n}.parquet"
        (archive / key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(part, archive / key)
        keys.append(key)
    cut = archive / keys[1]
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert result.returncode == 0, result.stderr[-3000:]
    recovered = json.loads((archive / f"runs/{PLANTED_RUN}.json").read_text())
    assert recovered["status"] == "recovered"
    listed = {f["key"] for f in recovered["files"]}
    assert keys[0] in listed and keys[1] not in listed
    assert any(keys[1] in p for p in result.manifest["archive_problems"])
    # the adopted rows are in the index, so this run did not fetch them again; the rows of
    # the cut file are not, so they were fetched and archived
    adopted = pq.read_metadata(archive / keys[0]).num_rows
    assert result.summary["articles_written"] == SAMPLE_ARTICLES - adopted
    assert articles_in(archive) == SAMPLE_ARTICLES
    verify = run_cli("verify", "--archive", str(archive))
    assert verify.returncode == 1 and keys[1] in verify.stdout and keys[0] not in verify.stdout


def test_json_garbage_in_runs_is_named_by_verify_and_skipped_by_readers(tmp_path, sample_settings):
    archive = tmp_path / "archive"
    (archive / "runs").mkdir(parents=True)
    (archive / f"runs/{PLANTED_RUN}.json").write_bytes(b'{"run_id": "x", "files": [')
    (archive / "runs/notes.json").write_bytes(b"\xff\xfe garbage")
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert result.returncode == 0, result.stderr[-3000:]
    verify = run_cli("verify", "--archive", str(archive))
    assert verify.returncode == 1
    assert f"runs/{PLANTED_RUN}.json" in verify.stdout and "runs/notes.json" in verify.stdout
    summary = run_cli("summary", "--archive", str(archive))
    assert summary.returncode == 0, summary.stderr[-2000:]
    sql = run_cli("sql", "--archive", str(archive), "--format", "csv", "SELECT count(*) AS n FROM runs")
    assert sql.returncode == 0 and sql.stdout.split() == ["n", "1"], sql.stdout + sql.stderr[-2000:]


def test_readers_skip_an_unreadable_part_and_name_it(tmp_path, sample_archive):
    source, _ = sample_archive
    archive = tmp_path / "archive"
    shutil.copytree(source, archive)
    key = f"articles/source=finews/date=2022-01-01/part-{PLANTED_RUN}-0.parquet"
    (archive / key).parent.mkdir(parents=True, exist_ok=True)
    (archive / key).write_bytes(GARBAGE)
    sql = run_cli("sql", "--archive", str(archive), "--format", "csv", "SELECT count(*) AS n FROM articles_all")
    assert sql.returncode == 0, sql.stderr[-2000:]
    assert sql.stdout.split() == ["n", str(SAMPLE_ARTICLES)]
    assert key in sql.stderr
    report = run_cli("report", "--archive", str(archive), "--out", str(tmp_path / "report.html"))
    assert report.returncode == 0 and key in report.stderr, report.stderr[-2000:]


# --- symlinks ---------------------------------------------------------------------------------

LINKED = [
    "warc",
    "articles",
    "articles/source=finews",
    "articles/source=finews/date=2022-01-12",
    "quarantine",
    "index",
    "index/articles/source=finews",
    "runs",
]


@pytest.mark.parametrize("linked", LINKED)
def test_a_link_out_of_the_archive_is_never_written_through(tmp_path, sample_settings, linked):
    archive, outside = tmp_path / "archive", tmp_path / "outside"
    outside.mkdir()
    link = archive / linked
    link.parent.mkdir(parents=True)
    link.symlink_to(outside, target_is_directory=True)
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert tree(outside) == []  # nothing written outside the archive
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.summary["status"] == "complete"
    assert articles_in(archive) == SAMPLE_ARTICLES
    assert any(linked in p for p in result.manifest["archive_problems"]), result.manifest["archive_problems"]
    assert linked in result.stderr
    assert not link.is_symlink()  # moved aside: the run wrote a real directory in its place
    verify = run_cli("verify", "--archive", str(archive))
    assert verify.returncode == 1 and linked in verify.stdout, verify.stdout
    again = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert again.returncode == 0 and again.summary["articles_written"] == 0
    assert tree(outside) == []


def test_a_linked_file_is_never_adopted_or_read(tmp_path, sample_archive, sample_settings):
    """A link under a part's final name to a real Parquet file outside: recovery must not
    adopt it (its ids would hide new articles from the crawl) and readers must not read it."""
    source, _ = sample_archive
    archive, outside = tmp_path / "archive", tmp_path / "outside"
    outside.mkdir()
    part = sorted((source / "articles").rglob("part-*.parquet"))[0]
    shutil.copyfile(part, outside / "real.parquet")
    key = f"{part.parent.relative_to(source).as_posix()}/part-{PLANTED_RUN}-0.parquet"
    (archive / key).parent.mkdir(parents=True)
    (archive / key).symlink_to(outside / "real.parquet")
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.summary["articles_written"] == SAMPLE_ARTICLES
    assert not (archive / f"runs/{PLANTED_RUN}.json").exists()
    assert any(key in p for p in result.manifest["archive_problems"])
    assert tree(outside) == ["real.parquet"]
    sql = run_cli("sql", "--archive", str(archive), "--format", "csv", "SELECT count(*) AS n FROM articles_all")
    assert sql.returncode == 0 and sql.stdout.split() == ["n", str(SAMPLE_ARTICLES)], sql.stdout + sql.stderr


def test_readers_and_verify_do_not_follow_a_link_out(tmp_path, sample_archive):
    """Links planted after the last crawl (no run has tidied them yet)."""
    source, _ = sample_archive
    archive, outside = tmp_path / "archive", tmp_path / "outside"
    (archive / "articles").mkdir(parents=True)
    shutil.copytree(source / "runs", archive / "runs")
    shutil.copytree(source / "articles", outside / "articles")
    (archive / "articles/source=finews").symlink_to(outside / "articles/source=finews", target_is_directory=True)
    sql = run_cli("sql", "--archive", str(archive), "--format", "csv", "SELECT count(*) AS n FROM articles_all")
    assert sql.returncode == 0 and sql.stdout.split() == ["n", "0"], sql.stdout + sql.stderr[-2000:]
    assert "articles/source=finews" in sql.stderr
    verify = run_cli("verify", "--archive", str(archive))
    assert verify.returncode == 1 and "link: articles/source=finews" in verify.stdout, verify.stdout


def test_upload_never_sends_a_file_reached_through_a_link(tmp_path, sample_archive, seaweed, bucket_uri):
    from newsarchive.storage.store import S3Store

    source, result = sample_archive
    archive, outside = tmp_path / "archive", tmp_path / "outside"
    shutil.copytree(source, archive)
    part = sorted((archive / "articles").rglob("part-*.parquet"))[0]
    key = part.relative_to(archive).as_posix()
    outside.mkdir()
    shutil.move(part, outside / part.name)  # same bytes, same SHA-256: only the link is wrong
    part.symlink_to(outside / part.name)
    proc = run_cli("upload", "--archive", str(archive), "--to", bucket_uri, env=s3_env(seaweed))
    assert proc.returncode == 1
    assert key in proc.stdout + proc.stderr
    store = S3Store(bucket_uri, seaweed.config)
    assert not store.exists(key)
    assert not store.exists(f"runs/{result.summary['run_id']}.json")


# --- S3 prefixes ------------------------------------------------------------------------------


class Listener:
    """A TCP port on 127.0.0.1 that counts the connections made to it (an S3 endpoint that
    must never be contacted)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join()
        self.sock.close()


BAD_URIS = [
    "s3://archive/../x",
    "s3://archive/x/./y",
    "s3://archive//x",
    "s3://archive/x\\y",
    "s3://archive/x\ny",
    "s3://archive/x\x1by",
    "s3:///x",
    "s3://Archive_Bucket/x",
    "s3://a/x",
    "s3://../x",
]
COMMANDS = {
    "upload": lambda uri, tmp: ["upload", "--archive", tmp, "--to", uri],
    "verify": lambda uri, tmp: ["verify", "--archive", uri],
    "sql": lambda uri, tmp: ["sql", "--archive", uri, "SELECT 1"],
    "report": lambda uri, tmp: ["report", "--archive", uri, "--out", f"{tmp}/report.html"],
    "compact": lambda uri, tmp: ["compact", "--archive", uri, "--all"],
    "pull-index": lambda uri, tmp: ["pull-index", "--from", uri, "--archive", tmp],
}
#: every bad URI through upload, and one of them through every other command that takes one
CASES = [("upload", uri) for uri in BAD_URIS] + [(c, "s3://archive/x/../y") for c in COMMANDS if c != "upload"]


@pytest.mark.parametrize(("command", "uri"), CASES)
def test_a_bad_s3_uri_is_refused_before_any_request(tmp_path, command, uri):
    Layout(tmp_path).path("runs").mkdir(parents=True)
    listener = Listener()
    try:
        env = clean_env(
            AWS_ENDPOINT_URL=listener.url,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test-secret",
            NEWSARCHIVE_UPLOAD_MAX_ATTEMPTS="5",
        )
        start = time.monotonic()
        proc = run_cli(*COMMANDS[command](uri, str(tmp_path)), env=env, timeout=120)
        elapsed = time.monotonic() - start
    finally:
        listener.close()
    assert proc.returncode == 2, proc.stdout + proc.stderr[-2000:]
    assert repr(uri) in proc.stderr, proc.stderr  # named, escapes and all
    assert listener.connections == 0
    assert elapsed < 30
