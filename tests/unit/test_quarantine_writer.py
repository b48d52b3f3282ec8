"""pipelines/quarantine.py: rows committed with the run, a bad record written once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawler import build, close, start

from newsarchive.items import quarantine
from newsarchive.tables.catalog import embedded_properties
from pipelines.quarantine import QuarantineWriterPipeline, fingerprint


def rows(archive: Path, name: str = "quarantine") -> list[dict[str, Any]]:
    from pyiceberg.catalog import load_catalog

    table = load_catalog("newsarchive", **embedded_properties(str(archive))).load_table(("newsarchive", name))
    return table.scan().to_arrow().to_pylist()


def bad(raw: Any = None, **kw: Any) -> Any:
    return quarantine("finews", "list", "invalid_info_code", "bad code", raw=raw, **kw)


def test_fingerprint_names_a_record_not_an_event() -> None:
    assert fingerprint("finews", "r", None) is None
    assert fingerprint("finews", "r", "x") == fingerprint("finews", "r", "x")
    assert fingerprint("finews", "r", "x", about="1") != fingerprint("finews", "r", "x", about="2")


def test_rows_commit_with_the_run_and_a_record_is_written_once(new_crawler: Any, archive: Path) -> None:
    crawler = new_crawler()
    start(crawler)
    writer = build(QuarantineWriterPipeline, crawler)
    writer.process_item(bad(raw={"infoCode": "X"}))
    writer.process_item(bad(raw={"infoCode": "X"}))  # the same record again: not written again
    writer.process_item(bad(url="http://127.0.0.1/down"))  # an event (no raw): every time
    writer.process_item(bad(url="http://127.0.0.1/down"))
    assert rows(archive) == []
    run = close(crawler)
    got = rows(archive)
    assert len(got) == 3
    assert {r["run_id"] for r in got} == {run.run_id}
    assert crawler.stats.get_value("newsarchive/quarantine_repeats") == 1  # type: ignore[union-attr]
    assert crawler.stats.get_value("newsarchive/quarantined/invalid_info_code") == 3  # type: ignore[union-attr]
    # the next run meets the same record: the commit leaves it out
    again = new_crawler()
    start(again)
    build(QuarantineWriterPipeline, again).process_item(bad(raw={"infoCode": "X"}))
    close(again)
    assert len(rows(archive)) == 3


def test_secrets_are_redacted(new_crawler: Any, archive: Path) -> None:
    crawler = new_crawler({"FINEWS_LIST_BASE": "http://user:hunter2@127.0.0.1:1/"})
    start(crawler)
    build(QuarantineWriterPipeline, crawler).process_item(bad(url="http://user:hunter2@127.0.0.1:1/x"))
    close(crawler)
    [row] = rows(archive)
    assert "hunter2" not in row["url"]
