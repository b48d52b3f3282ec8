"""The writer process changes where the write work runs, not what it writes: a crawl with
``WRITER_PROCESS`` on archives the very rows, quarantine rows and WARC evidence the same
crawl writes in-process (the kills of either process: tests/test_faults_process.py), and
what the writer process could not do (a row pyarrow refuses, files it cannot create) comes
back to the crawl: the row quarantined, the run failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newsarchive.extensions.archiverun import ArchiveRun
from newsarchive.samples.feedserver import FeedServer, finews_settings, install_finews
from newsarchive.writer.client import WriterClient
from tests.fault_plan import code
from tests.helpers import FAST, install_finews_faults, read_table, run_crawl, the_record_at

#: Columns that differ between any two runs (their ids, clocks and file names).
PER_RUN = {
    "run_id",
    "dag_run_id",
    "fetched_at",
    "ingested_at",
    "seen_at",
    "warc_filename",
    "warc_record_offset",
    "warc_record_length",
}


def crawl(feed_server: FeedServer, archive: Path, remote: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    settings = {**FAST, **finews_settings(feed_server), "ARCHIVE_URI": str(archive), "WRITER_PROCESS": str(remote)}
    result = run_crawl("finews", settings)
    assert result.returncode == 0, result.stderr[-3000:]
    assert ("writer" in result.summary) is remote  # only a writer process reports its own cost
    articles = read_table(archive, "articles").to_pylist()
    for row in articles:  # every row points to the record it was parsed from, in either mode
        record, _ = the_record_at(archive, row["warc_filename"], row["warc_record_offset"], row["warc_record_length"])
        assert record.rec_headers.get_header("WARC-Type") == "response"
    quarantine = read_table(archive, "quarantine").to_pylist()

    def stable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = [{k: v for k, v in r.items() if k not in PER_RUN} for r in rows]
        return sorted(kept, key=repr)

    return stable(articles), stable(quarantine)


def test_the_writer_process_writes_what_the_crawler_would(feed_server: FeedServer, tmp_path: Path) -> None:
    install_finews(feed_server)
    install_finews_faults(feed_server)
    remote = crawl(feed_server, tmp_path / "remote", True)
    local = crawl(feed_server, tmp_path / "local", False)
    assert remote[0] and remote[1]  # articles and quarantine rows both
    assert remote == local


# --- what the writer process reports comes back to the crawl ------------------------------
# The in-process layer's crawler (tests/unit/crawler.py) with a real writer process: the
# pipelines hand it rows, the run's end drains what it reported, then commits.


def remote_crawler(tmp_path: Path) -> Any:
    from tests.unit.crawler import make_crawler, start

    crawler = make_crawler(tmp_path / "archive", {"WRITER_PROCESS": True, "PARQUET_ROW_GROUP_SIZE": 3})
    start(crawler)
    return crawler


def writer_pipelines(crawler: Any) -> list[Any]:
    from pipelines.articles import ArticleWriterPipeline
    from pipelines.quarantine import QuarantineWriterPipeline
    from tests.unit.crawler import build

    pipelines = [build(ArticleWriterPipeline, crawler), build(QuarantineWriterPipeline, crawler)]
    WriterClient.of(crawler).engine_started()  # the writer process starts, as in a crawl
    return pipelines


def test_a_row_the_writer_process_cannot_store_is_quarantined_by_the_crawl(tmp_path: Path) -> None:
    """pyarrow refuses the row in the writer process (validation never saw it): the crawl
    quarantines it before the commit, and the other rows of its row group are archived."""
    from tests.items_fixture import normalised
    from tests.unit.crawler import close, feed

    crawler = remote_crawler(tmp_path)
    pipelines = writer_pipelines(crawler)
    for n in range(7):
        feed(pipelines, normalised(n, title="坏\ud800") if n == 4 else normalised(n))
    run = close(crawler)
    WriterClient.of(crawler).spider_closed()
    archive = tmp_path / "archive"
    assert sorted(r["source_id"] for r in read_table(archive, "articles").to_pylist()) == [
        code(n) for n in range(7) if n != 4
    ]
    bad = read_table(archive, "quarantine").to_pylist()
    assert [(r["reason"], r["stage"], r["info_code_raw"]) for r in bad] == [("invalid_text", "write", code(4))]
    assert "title" in bad[0]["detail"]
    assert not run.failures and crawler.stats.get_value("newsarchive/rows_rejected") == 1
    assert crawler.stats.get_value("newsarchive/writer/cpu_s") > 0  # it answered "bye" with its usage


def test_a_sink_that_cannot_write_in_the_writer_process_fails_the_run(tmp_path: Path) -> None:
    """The writer cannot create the articles' files (their folder is a file): it deletes that
    sink's files and says so; the run fails and stops (``archive_write_failed``), commits no
    article, and the quarantine (another sink) is still written."""
    from newsarchive.items import quarantine
    from newsarchive.tables.definitions import ARTICLES
    from newsarchive.writer.client import WRITE_FAILED
    from tests.items_fixture import normalised
    from tests.unit.crawler import close, feed

    crawler = remote_crawler(tmp_path)
    location = ArchiveRun.of(crawler).table(ARTICLES).location()
    Path(location.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    Path(location.removeprefix("file://"), "data").write_text("not a folder")
    pipelines = writer_pipelines(crawler)
    for n in range(4):
        feed(pipelines, normalised(n))
    feed(pipelines, quarantine("finews", "validate", "invalid", "a record", info_code_raw="x", raw={"id": "x"}))
    run = close(crawler)
    WriterClient.of(crawler).spider_closed()
    assert run.failures and "writing articles failed" in run.failures[0]
    assert WRITE_FAILED in crawler.engine.close_reasons
    archive = tmp_path / "archive"
    assert read_table(archive, "articles").num_rows == 0
    assert [r["reason"] for r in read_table(archive, "quarantine").to_pylist()] == ["invalid"]
    (row,) = read_table(archive, "runs").to_pylist()
    assert row["status"] == "failed"
    leftovers = [p for p in Path(location.removeprefix("file://")).rglob("*.parquet")]
    assert leftovers == []
