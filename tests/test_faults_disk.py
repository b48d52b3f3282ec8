"""A full disk fails the run honestly: counts say what is on disk, and nothing published goes.

The end-to-end test mounts a small tmpfs (we run as root, locally and in CI) and fills it so
that the run's article files cannot be written; the run must fail (not be ``partial``), its
manifest and summary must count only the rows in files it published, and once space is back
the next run archives every article exactly once. Without ``mount`` the test is skipped
locally and fails in CI (``CI`` set), so the proof never silently disappears there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from scrapy.crawler import Crawler

from newsarchive.archive.layout import Layout
from newsarchive.archive.reader import open_dataset
from newsarchive.archive.sink import PartitionedSink, WriteFailed
from newsarchive.run import Run
from newsarchive.schema import ARTICLE_SCHEMA
from pipelines.articles import ArticleWriterPipeline
from pipelines.quarantine import QuarantineWriterPipeline
from tests.conftest import run_crawl
from tests.test_one_bad_item import PUBLISHED, crawler, normalised  # noqa: F401 (fixture)

#: Room left on the filled disk: the lock, the quarantine and the manifest fit, the articles do not.
ROOM = 48 * 1024


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
        subprocess.run(["umount", str(mount)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """A file taking all but ``leave`` bytes of ``disk``."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def rows_on_disk(archive: Path, table: str) -> int:
    return sum(pq.read_metadata(p).num_rows for p in (archive / table).rglob("part-*.parquet"))


def test_a_full_disk_fails_the_run_counts_only_what_is_on_disk_and_loses_nothing(
    small_disk: Path, sample_settings: dict[str, Any]
) -> None:
    archive = small_disk / "archive"
    settings = {**sample_settings, "ARCHIVE_URI": str(archive), "WARC_ENABLED": "False"}
    filler = fill(small_disk, ROOM)
    first = run_crawl("finews", settings)
    assert first.returncode == 1, first.stderr[-3000:]
    m = first.manifest
    assert m["status"] == "failed"
    assert any("No space left" in p for p in m["problems"]), m["problems"]
    on_disk = rows_on_disk(archive, "articles")
    assert first.summary["articles_written"] == m["counts"]["articles_written"] == on_disk
    for f in m["files"]:  # what the manifest names is there, with the rows it says
        path = archive / f["key"]
        assert path.exists(), f
        if f["rows"] is not None:
            assert pq.read_metadata(path).num_rows == f["rows"]
    assert first.summary["quarantined"] == rows_on_disk(archive, "quarantine")

    filler.unlink()  # space is back: the next run archives what the failed one could not
    second = run_crawl("finews", settings)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.manifest["status"] == "complete"
    ids = open_dataset(str(archive), "articles").to_table(columns=["source_id"]).column(0).to_pylist()
    assert len(ids) == len(set(ids)) == rows_on_disk(archive, "articles")
    assert second.manifest["counts"]["articles_written"] + on_disk == len(ids) > 0


def test_a_failed_publish_keeps_the_files_already_published(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    run_id = "20220112T000000Z-00000000"
    sink = PartitionedSink(layout, ARTICLE_SCHEMA, run_id, kind="articles")
    for n, day in enumerate(("2022-01-11", "2022-01-12")):
        sink.write(f"articles/source=finews/date={day}", dict(normalised(n)))
    clash = layout.path(f"articles/source=finews/date=2022-01-12/part-{run_id}-0.parquet")
    clash.parent.mkdir(parents=True)
    clash.write_bytes(b"someone else's file")  # the second publish cannot link its name
    with pytest.raises(WriteFailed, match="publishing"):
        sink.publish()
    sink.abort()
    assert [f.key for f in sink.published] == [f"articles/source=finews/date=2022-01-11/part-{run_id}-0.parquet"]
    assert pq.read_metadata(layout.path(sink.published[0].key)).num_rows == 1
    assert clash.read_bytes() == b"someone else's file"
    assert not layout.temp_files()


def test_the_article_writer_counts_and_indexes_only_published_rows(crawler: Crawler) -> None:  # noqa: F811
    run = Run.of(crawler)
    articles, quarantined = ArticleWriterPipeline(crawler), QuarantineWriterPipeline(crawler)
    items = [normalised(n) for n in range(3)]
    items[2]["published_at"] = PUBLISHED.replace(year=2023)  # a partition of its own, published last
    for item in items:
        articles.process_item(item)
    later = run.layout.path(f"articles/source=finews/date=2023-01-12/part-{run.run_id}-0.parquet")
    later.parent.mkdir(parents=True)
    later.write_bytes(b"x")
    quarantined.close_spider()
    articles.close_spider()
    assert run.failures and "publishing" in run.failures[0]
    assert crawler.stats.get_value("newsarchive/articles_written") == 2
    assert [f.rows for f in run.files if f.kind == "articles"] == [2]
    index = next((run.layout.root / "index" / "articles").rglob("*.parquet"))
    assert sorted(pq.read_table(index).column("source_id").to_pylist()) == sorted(i["source_id"] for i in items[:2])
