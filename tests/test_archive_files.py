"""The archive's files: streaming, atomic, never replaced, and tidied after a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from newsarchive.archive.files import FinalExistsError, publish
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.layout import Layout, run_id_of
from newsarchive.archive.locks import RunLock
from newsarchive.archive.recovery import recover
from newsarchive.archive.sink import PartitionedSink
from newsarchive.schema import ARTICLE_SCHEMA

RUN = "20261127T000000Z-0000abcd"


def row(i: int, day: int = 1) -> dict:
    return {
        "source": "finews",
        "source_id": f"NW2022010{day}{i:011d}",
        "title": f"t{i}",
        "published_at": datetime(2022, 1, day, 4, 0, tzinfo=UTC),
        "content_sha256": f"{i:064x}",
    }


def test_parts_are_hidden_until_published(tmp_path):
    layout = Layout(tmp_path)
    sink = PartitionedSink(
        layout, ARTICLE_SCHEMA, RUN, kind="articles", row_group_size=2, max_rows_per_file=4, max_open=2
    )
    for i in range(10):
        sink.write("articles/source=finews/date=2022-01-01", row(i))
    for day in (2, 3, 4):  # more partitions than max_open: the LRU writer is closed
        sink.write(f"articles/source=finews/date=2022-01-0{day}", row(100 + day, day))
    assert layout.data_files() == []  # nothing visible under a final name yet
    assert all(p.name.startswith(".") for p in tmp_path.rglob("*.parquet*"))
    files = sink.publish()
    assert sum(f.rows for f in files) == 13
    day1 = sorted(f.key for f in files if "2022-01-01" in f.key)
    assert [k.rsplit("/", 1)[1] for k in day1] == [f"part-{RUN}-{n}.parquet" for n in range(3)]
    for f in files:
        meta = pq.read_metadata(layout.path(f.key))
        assert meta.num_rows == f.rows and meta.row_group(0).num_rows <= 2
    assert layout.temp_files() == []


def test_no_writer_replaces_a_final_file(tmp_path):
    final = tmp_path / "part-x-0.parquet"
    final.write_bytes(b"archived")
    tmp = tmp_path / ".part-x-0.parquet.tmp"
    tmp.write_bytes(b"new")
    with pytest.raises(FinalExistsError):
        publish(tmp, final)
    assert final.read_bytes() == b"archived"


def test_recovery_removes_dead_temp_files_and_adopts_orphans(tmp_path):
    layout = Layout(tmp_path)
    dead = "20261127T000000Z-deaddead"
    live = RunLock(layout, "20261127T000000Z-11111111").acquire()
    d = tmp_path / "articles/source=finews/date=2022-01-01"
    d.mkdir(parents=True)
    (d / f".part-{dead}-0.parquet.tmp").write_bytes(b"partial")
    (d / ".part-20261127T000000Z-11111111-0.parquet.tmp").write_bytes(b"being written")
    # a run killed after publishing its part but before its manifest
    sink = PartitionedSink(layout, ARTICLE_SCHEMA, "20261127T000000Z-0rphan00", kind="articles")
    sink.write("articles/source=finews/date=2022-01-01", row(1))
    sink.publish()
    report = recover(layout, current_run_id="20261127T000000Z-22222222")
    assert [run_id_of(k) for k in report.temp_removed] == [dead]
    assert (d / ".part-20261127T000000Z-11111111-0.parquet.tmp").exists()  # live run untouched
    assert report.runs_recovered == ["20261127T000000Z-0rphan00"]
    manifest = json.loads((tmp_path / "runs/20261127T000000Z-0rphan00.json").read_text())
    assert manifest["status"] == "recovered"
    assert {f["kind"] for f in manifest["files"]} == {"articles", "index"}
    assert row(1)["source_id"] in ArchiveIndex.load(layout, "finews")
    assert recover(layout).runs_recovered == []  # idempotent
    live.release()


def test_index_rebuilds_from_article_id_columns(tmp_path):
    layout = Layout(tmp_path)
    sink = PartitionedSink(layout, ARTICLE_SCHEMA, RUN, kind="articles")
    for i in range(3):
        sink.write("articles/source=finews/date=2022-01-01", row(i))
    sink.publish()
    index = ArchiveIndex.rebuild(layout, "finews")
    assert len(index) == 3 and index.has_version(row(2)["source_id"], f"{2:064x}")


def test_a_manifest_quoting_a_lone_surrogate_is_written_and_reads_back(tmp_path):
    """A problem can quote a source's text; the run's manifest must be written anyway."""
    from newsarchive.archive.manifest import read_manifest, write_manifest

    layout = Layout.from_uri(str(tmp_path))
    path = write_manifest(
        layout,
        {"run_id": "20220112T000000Z-abcdef12", "status": "partial", "problems": ["list: bad_feed (keys: \ud800)"]},
    )
    assert read_manifest(path.read_bytes())["problems"] == ["list: bad_feed (keys: \ud800)"]
