"""The writer process changes where the write work runs, not what it writes: a crawl with
``WRITER_PROCESS`` on archives the very rows, quarantine rows and WARC evidence the same
crawl writes in-process (the kills of either process: tests/test_faults_process.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newsarchive.samples.feedserver import FeedServer, finews_settings, install_finews
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
