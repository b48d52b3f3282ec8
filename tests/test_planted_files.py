"""Planted files and symbolic links never hurt the archive.

Whatever someone (or a broken disk, or a half-finished copy) leaves in a crawl's working
directory (ARCHIVE_URI: WARC files, the embedded catalog and its warehouse), the next crawl
still archives every new article and nothing is written or read through a link out of it:
a crawl moves the links it finds aside and names them in its ``runs`` row. A file in a
table's location that no snapshot names is no row: readers never see it.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import clean_env, read_table, run_cli, run_crawl

PLANTED_RUN = "20200101T000000Z-0planted"
SAMPLE_ARTICLES = 44  # what one crawl of the sample feeds archives
WAREHOUSE = "warehouse/newsarchive"


def tree(path: Path) -> list[str]:
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*")) if path.exists() else []


def article_ids(archive: Path) -> list[str]:
    return sorted(read_table(archive, selected_fields=("source_id",)).column(0).to_pylist())


# --- symlinks ---------------------------------------------------------------------------------

LINKED = [
    "warc",
    "warehouse",
    f"{WAREHOUSE}/articles",
    f"{WAREHOUSE}/articles/data/source=finews",
    f"{WAREHOUSE}/quarantine/metadata",
    f"{WAREHOUSE}/runs/data",
]


@pytest.mark.parametrize("linked", LINKED)
def test_a_link_out_of_the_working_directory_is_never_written_through(tmp_path, sample_settings, linked):
    archive, outside = tmp_path / "archive", tmp_path / "outside"
    outside.mkdir()
    link = archive / linked
    link.parent.mkdir(parents=True)
    link.symlink_to(outside, target_is_directory=True)
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert tree(outside) == []  # nothing written outside the archive
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.summary["status"] == "complete"
    assert len(article_ids(archive)) == SAMPLE_ARTICLES
    run = result.run
    assert [p for p in run["archive_problems"] if p.startswith(f"symbolic link {linked} -> {outside}")], run[
        "archive_problems"
    ]
    assert linked in result.stderr  # logged by name
    assert not link.is_symlink()  # moved aside: the run wrote a real directory in its place
    assert (link.parent / f".{link.name}.link-{run['run_id']}").is_symlink()
    if linked == LINKED[2]:  # the next run is not blocked, and reports nothing new
        again = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
        assert again.returncode == 0 and again.summary["articles_written"] == 0
        assert again.run["archive_problems"] == []
        assert tree(outside) == []


def test_a_linked_catalog_or_data_file_is_never_written_or_read(tmp_path, sample_settings):
    """Links under the catalog's name and under a data file's name, to real files outside:
    neither is opened nor changed; the crawl makes its own catalog and archives everything."""
    archive, outside = tmp_path / "archive", tmp_path / "outside"
    outside.mkdir()
    (outside / "catalog.db").write_bytes(b"someone else's database")
    (outside / "real.parquet").write_bytes(b"PAR1 someone else's rows PAR1")
    archive.mkdir()
    (archive / "catalog.db").symlink_to(outside / "catalog.db")
    part = archive / WAREHOUSE / "articles/data/source=finews/published_month=2022-01" / f"{PLANTED_RUN}-0.parquet"
    part.parent.mkdir(parents=True)
    part.symlink_to(outside / "real.parquet")
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.summary["articles_written"] == SAMPLE_ARTICLES == len(article_ids(archive))
    problems = result.run["archive_problems"]
    key = part.relative_to(archive).as_posix()
    assert sorted(p.split(" ->")[0] for p in problems) == ["symbolic link catalog.db", f"symbolic link {key}"]
    assert (archive / "catalog.db").is_file() and not (archive / "catalog.db").is_symlink()
    assert tree(outside) == ["catalog.db", "real.parquet"]
    assert (outside / "catalog.db").read_bytes() == b"someone else's database"


# --- planted or corrupt files -----------------------------------------------------------------

GARBAGE = b"PAR1 this is not a parquet file PAR1"


def test_planted_files_in_a_tables_location_never_block_a_crawl_nor_reach_a_reader(tmp_path, sample_settings):
    archive = tmp_path / "archive"
    settings = {**sample_settings, "ARCHIVE_URI": archive}
    first = run_crawl("finews", settings)
    assert first.returncode == 0, first.stderr[-3000:]
    before = article_ids(archive)
    assert len(before) == SAMPLE_ARTICLES
    data = archive / WAREHOUSE / "articles" / "data"
    real = sorted(data.rglob("*.parquet"))[0]
    planted = {
        real.parent / f"{PLANTED_RUN}-0.parquet": GARBAGE,  # beside real files, a data file's name
        real.parent / f"{PLANTED_RUN}-1.parquet": real.read_bytes()[: real.stat().st_size // 2],  # cut short
        real.parent / f"{PLANTED_RUN}-2.parquet": real.read_bytes(),  # a whole copy: still no row
        data / "notes.txt": b"not parquet at all",
        data / "source=finews" / "published_month=2099-01" / f"{PLANTED_RUN}-0.parquet": GARBAGE,
        archive / WAREHOUSE / "quarantine" / "data" / f"{PLANTED_RUN}-0.parquet": GARBAGE,
        archive / WAREHOUSE / "runs" / "metadata" / "99999-planted.metadata.json": b'{"format-version": ',
    }
    for path, content in planted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    assert article_ids(archive) == before  # no snapshot names them: no reader sees them
    assert read_table(archive, "runs").num_rows == 1
    second = run_crawl("finews", settings)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.summary["status"] == "complete" and second.summary["articles_written"] == 0
    assert second.run["quarantined"] == 0  # the same bad records: not again
    assert article_ids(archive) == before
    assert read_table(archive, "runs").num_rows == 2
    for path, content in planted.items():  # left where they are, neither read nor deleted
        assert path.read_bytes() == content, path


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


@pytest.mark.parametrize("uri", BAD_URIS)
def test_e2e_a_bad_s3_uri_is_refused_before_any_request(tmp_path, uri):
    """WARC files go to a bucket prefix (``upload``): a bad one costs no request."""
    (tmp_path / "warc").mkdir()
    listener = Listener()
    try:
        env = clean_env(
            AWS_ENDPOINT_URL=listener.url,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test-secret",
            NEWSARCHIVE_UPLOAD_MAX_ATTEMPTS="5",
        )
        start = time.monotonic()
        proc = run_cli("upload", "--archive", str(tmp_path), "--to", uri, env=env, timeout=120)
        elapsed = time.monotonic() - start
    finally:
        listener.close()
    assert proc.returncode == 2, proc.stdout + proc.stderr[-2000:]
    assert repr(uri) in proc.stderr, proc.stderr  # named, escapes and all
    assert listener.connections == 0
    assert elapsed < 30
