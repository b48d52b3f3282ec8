"""The run's data files (newsarchive/tables/sink.py): streamed with bounded memory, one file per
partition, bad rows cost only themselves, an abort leaves nothing, an I/O error fails the sink."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.io.pyarrow import PyArrowFileIO

from newsarchive.schema import ARTICLE_FIELDS
from newsarchive.tables.commit import commit_files
from newsarchive.tables.definitions import ARTICLES, TABLES, ensure_all
from newsarchive.tables.sink import TableSink, WriteFailed, month_of
from tests.helpers import open_catalog

RUN = "20261127T000000Z-0000abcd"


def row(i: int, month: int | None = 1, source: str = "finews") -> dict[str, Any]:
    published = datetime(2022, month, 1, 4, 0, tzinfo=UTC) if month else None
    values: dict[str, Any] = dict.fromkeys(ARTICLE_FIELDS)
    values.update(
        source=source,
        source_id=f"NW20220{month or 1:02d}01{i:011d}",
        title=f"t{i}",
        published_at=published,
        content_sha256=f"{i:064x}",
        run_id=RUN,
    )
    return values


def key(r: dict[str, Any]) -> tuple[str, str | None]:
    return (r["source"], month_of(r["published_at"]))


def sink(location: Path, schema: pa.Schema | None = None, **options: Any) -> TableSink:
    return TableSink(
        PyArrowFileIO(),
        str(location),
        schema or TABLES[ARTICLES].schema,
        RUN,
        kind="articles",
        month_field="published_month",
        **options,
    )


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def test_memory_stays_bounded_however_many_rows_and_partitions(tmp_path):
    out = sink(tmp_path / "t", row_group_size=20, max_open=4)
    most_buffered = most_open = 0
    for i in range(3000):  # 12 partitions taking turns, then 30 (each idle longer than a row group)
        month, source = (1 + i % 12, "finews") if i < 2000 else (1 + i % 10, f"s{i % 3}")
        out.write(key(r := row(i, month=month, source=source)), r)
        most_buffered = max(most_buffered, sum(len(p.buffer) for p in out._partitions.values()))
        most_open = max(most_open, len(out._open))
    assert most_buffered <= 12 * 20  # a bound of the row group size and partitions, not of the run
    assert most_open <= 4
    files = out.close()
    assert sum(f.rows for f in files) == 3000
    assert sum(pq.read_metadata(f.path).num_rows for f in files) == 3000


def test_one_file_per_partition_with_row_groups_and_a_null_month(tmp_path):
    # no table of ours has a nullable partition time; the sink still names the partition
    nullable = pa.schema([f.with_nullable(True) if f.name == "published_at" else f for f in TABLES[ARTICLES].schema])
    out = sink(tmp_path / "t", row_group_size=2, schema=nullable)
    rows = [row(i, month=1 + i % 3) for i in range(12)] + [row(100, month=None), row(101, month=None)]
    for r in rows:
        out.write(key(r), r)
    assert files_under(tmp_path) == [Path(p) for p in out.created]  # streamed, not held
    files = out.close()
    assert sorted(f.partition for f in files if f.partition[1]) == [("finews", f"2022-0{m}") for m in (1, 2, 3)]
    assert len(files) == 4
    for f in files:
        month = f.partition[1] or "null"
        assert f.path == f"{tmp_path}/t/data/source=finews/published_month={month}/{f.path.rsplit('/', 1)[1]}"
        assert f.path.rsplit("/", 1)[1].startswith(f"{RUN}-")
        meta = pq.read_metadata(f.path)
        assert meta.num_rows == f.rows and all(meta.row_group(g).num_rows <= 2 for g in range(meta.num_row_groups))
    assert {f.partition: f.rows for f in files}[("finews", None)] == 2
    assert sum(f.rows for f in files) == len(rows) == out.rows


def test_a_file_is_finished_at_its_row_limit_and_the_next_one_started(tmp_path):
    out = sink(tmp_path / "t", row_group_size=2, max_rows_per_file=4)
    for i in range(10):
        out.write(key(r := row(i)), r)
    files = out.close()
    assert [f.rows for f in files] == [4, 4, 2]
    assert [f.path.rsplit("/", 1)[1] for f in files] == [f"{RUN}-{n}.parquet" for n in range(3)]


def test_a_row_that_cannot_be_converted_costs_only_that_row(tmp_path):
    seen: list[str] = []

    def drop(bad: dict[str, Any], exc: Exception) -> None:
        seen.append(bad["source_id"])

    out = sink(tmp_path / "t", row_group_size=4, on_reject=drop)
    rows = [row(i) for i in range(6)]
    rows[2]["title"] = "bad \udc80 text"  # a lone surrogate: no UTF-8 for it
    rows[4]["title"] = "kept \udc81 escaped"
    for r in rows:
        out.write(key(r), r)
    files = out.close()
    assert seen == [rows[2]["source_id"], rows[4]["source_id"]] and out.rejected == 2
    written = {r["source_id"] for f in files for r in pq.read_table(f.path).to_pylist()}
    assert written == {r["source_id"] for i, r in enumerate(rows) if i not in (2, 4)}


def test_on_reject_can_store_a_row_instead(tmp_path):
    def escape(bad: dict[str, Any], exc: Exception) -> dict[str, Any]:
        return {**bad, "title": bad["title"].encode("utf-8", "backslashreplace").decode()}

    out = sink(tmp_path / "t", on_reject=escape)
    r = row(1)
    r["title"] = "x\udc80y"
    out.write(key(r), r)
    (f,) = out.close()
    assert pq.read_table(f.path).to_pylist()[0]["title"] == "x\\udc80y" and out.rejected == 0


def test_without_on_reject_a_bad_row_is_the_callers_error(tmp_path):
    out = sink(tmp_path / "t")
    r = row(1)
    r["title"] = "x\udc80y"
    out.write(key(r), r)
    with pytest.raises(UnicodeEncodeError):
        out.close()


def test_abort_deletes_every_file_finished_or_not(tmp_path):
    out = sink(tmp_path / "t", row_group_size=2, max_rows_per_file=4)
    for i in range(10):
        out.write(key(r := row(i)), r)
    assert out.finished and len(out.created) > len(out.finished)  # some finished, one open
    out.abort()
    assert files_under(tmp_path) == [] and out.finished == []


def test_an_io_error_is_a_write_failure_and_the_sink_refuses_more_rows(tmp_path):
    blocker = tmp_path / "t"
    blocker.write_bytes(b"a file where the table's directory should be")
    out = sink(blocker, row_group_size=1)
    with pytest.raises(WriteFailed, match=r"articles: writing .*published_month=2022-01 failed"):
        out.write(key(r := row(1)), r)
    with pytest.raises(WriteFailed):  # the same failure, not another attempt
        out.write(key(r), r)
    with pytest.raises(WriteFailed):
        out.close()
    out.abort()
    assert blocker.read_bytes().startswith(b"a file")


def test_the_files_commit_to_their_table_partitions(tmp_path):
    """What the sink writes is what the table's hidden partitioning expects: committed as is."""
    catalog = open_catalog(tmp_path)
    table = ensure_all(catalog, "newsarchive")[ARTICLES]
    out = TableSink(
        table.io, table.location(), TABLES[ARTICLES].schema, RUN, kind="articles", month_field="published_month"
    )
    rows = [row(1, 1), row(2, 2), row(3, 3)]
    for r in rows:
        out.write(key(r), r)
    files = out.close()
    outcome = commit_files(lambda: catalog.load_table(("newsarchive", ARTICLES)), [f.path for f in files], run_id=RUN)
    assert outcome.rows == 3
    loaded = catalog.load_table(("newsarchive", ARTICLES))
    assert sorted(loaded.scan().to_arrow().column("source_id").to_pylist()) == sorted(r["source_id"] for r in rows)
    partitions = {(t.file.partition[0], t.file.partition[1]) for t in loaded.scan().plan_files()}
    assert len(partitions) == 3 and {p[0] for p in partitions} == {"finews"}
