"""A full disk fails the run honestly: the runs row counts what was committed, and the next
run, once there is space again, archives everything exactly once.

The end-to-end test mounts a small tmpfs (we run as root, locally and in CI) holding the
crawl's working directory and its embedded catalog, and fills it so that the run's article
files cannot be written; the run must fail (not be ``partial``) with finish reason
``archive_write_failed``, its ``runs`` row must count only the rows committed, and once
space is back the next run archives every article exactly once. Without ``mount`` the test
is skipped locally and fails in CI (``CI`` set), so the proof never silently disappears there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.expressions import EqualTo
from scrapy.crawler import Crawler

from newsarchive.tables.definitions import ensure_all
from pipelines.articles import WRITE_FAILED, ArticleWriterPipeline
from pipelines.quarantine import QuarantineWriterPipeline
from tests.helpers import open_catalog, read_table, run_crawl
from tests.items_fixture import PUBLISHED, commit, normalised

#: Room left on the filled disk: the quarantine's and the runs row's commits fit, the articles do not.
ROOM = 96 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        why = f"cannot mount a tmpfs to fill: {done.stderr.strip() or done.returncode}"
        if os.environ.get("CI"):
            pytest.fail(why + " (CI runs as root and must run this test)")
        pytest.skip(why)
    try:
        yield mount
    finally:
        # lazily if a reader still holds a file there: the mount never outlives the test
        if subprocess.run(["umount", str(mount)], check=False).returncode:
            subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """A file taking all but ``leave`` bytes of ``disk``."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def rows_of(archive: Path, table: str, run_id: str) -> int:
    return read_table(archive, table, row_filter=EqualTo("run_id", run_id)).num_rows


def data_files(archive: Path, table: str) -> set[Path]:
    return set((archive / "warehouse" / "newsarchive" / table / "data").rglob("*.parquet"))


def test_a_full_disk_fails_the_run_counts_only_what_is_committed_and_loses_nothing(
    small_disk: Path, sample_settings: dict[str, Any]
) -> None:
    archive = small_disk / "archive"
    archive.mkdir()
    catalog = open_catalog(archive)
    ensure_all(catalog, "newsarchive")  # the tables exist, as after any earlier run
    catalog.engine.dispose()  # no connection of ours keeps the disk busy
    settings = {
        **sample_settings,
        "ARCHIVE_URI": str(archive),
        "WARC_ENABLED": "False",
        # files are finished (and their buffered bytes reach the disk) while the crawl goes on
        "PARQUET_ROW_GROUP_SIZE": "4",
        "PARQUET_MAX_ROWS_PER_FILE": "4",
    }
    filler = fill(small_disk, ROOM)
    first = run_crawl("finews", settings)
    assert first.returncode == 1, first.stderr[-3000:]
    run_id = first.summary["run_id"]
    m = first.run  # the runs row is committed although the articles could not be
    assert (m["status"], m["finish_reason"]) == ("failed", WRITE_FAILED), m["problems"]
    assert any("No space left" in p for p in m["problems"]), m["problems"]
    assert first.summary["articles_written"] == m["articles_written"] == rows_of(archive, "articles", run_id)
    assert first.summary["quarantined"] == m["quarantined"] == rows_of(archive, "quarantine", run_id) > 0
    assert sum(m["quarantined_by_reason"].values()) == m["quarantined"]
    assert not [p for p in data_files(archive, "articles") if run_id in p.name]  # its files went

    filler.unlink()  # space is back: the next run archives what the failed one could not
    second = run_crawl("finews", settings)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.run["status"] == "complete"
    ids = read_table(archive, "articles", selected_fields=("source_id",)).column(0).to_pylist()
    assert len(ids) == len(set(ids)) == 44  # every article of the sample, once
    assert second.run["articles_written"] + m["articles_written"] == len(ids)
    third = run_crawl("finews", settings)
    assert third.returncode == 0 and third.run["articles_written"] == 0


def test_the_article_writer_counts_only_committed_rows(crawler: Crawler) -> None:
    """A partition whose file cannot be created (a file where its directory must go): the
    run fails, none of its article files stay, and the runs row says 0 articles."""
    articles, _ = ArticleWriterPipeline(crawler), QuarantineWriterPipeline(crawler)
    items = [normalised(n) for n in range(3)]
    items[2]["published_at"] = PUBLISHED.replace(year=2023)  # a partition of its own
    for item in items:
        articles.process_item(item)
    location = Path(articles.run.table("articles").location().removeprefix("file://"))
    blocker = location / "data" / "source=finews" / "published_month=2023-01"
    blocker.parent.mkdir(parents=True)
    blocker.write_bytes(b"x")
    run = commit(crawler)
    assert run.failures and "writing articles failed" in run.failures[0]
    assert crawler.stats.get_value("newsarchive/articles_written") == 0
    archive = Path(crawler.settings["ARCHIVE_URI"])
    assert read_table(archive, "articles").num_rows == 0
    assert {p for p in (location / "data").rglob("*") if p.is_file()} == {blocker}  # no file left behind
    (row,) = read_table(archive, "runs").to_pylist()
    assert (row["status"], row["articles_written"]) == ("failed", 0)
