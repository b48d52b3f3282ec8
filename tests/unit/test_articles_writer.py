"""pipelines/articles.py (with dedupe and the run): rows reach the table only at commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from crawler import article, build, close, feed, start
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsarchive.tables.catalog import embedded_properties
from pipelines.articles import ArticleWriterPipeline
from pipelines.dedupe import DedupePipeline
from pipelines.normalise import NormalisePipeline
from pipelines.quarantine import QuarantineWriterPipeline
from pipelines.validate import ValidatePipeline

STAGES = (ValidatePipeline, NormalisePipeline, DedupePipeline, ArticleWriterPipeline, QuarantineWriterPipeline)


def chain(crawler: Crawler) -> list[Any]:
    return [build(stage, crawler) for stage in STAGES]


def rows(archive: Path, name: str = "articles") -> list[dict[str, Any]]:
    from pyiceberg.catalog import load_catalog

    table = load_catalog("newsarchive", **embedded_properties(str(archive))).load_table(("newsarchive", name))
    return table.scan().to_arrow().to_pylist()


def test_rows_are_visible_only_after_the_commit(crawler: Crawler, archive: Path) -> None:
    start(crawler)
    stages = chain(crawler)
    feed(stages, article())
    feed(stages, article(info_code="NW202611270000000002"))
    assert rows(archive) == []  # streamed to files, not committed
    run = close(crawler)
    got = rows(archive)
    assert sorted(r["source_id"] for r in got) == ["NW202611270000000001", "NW202611270000000002"]
    assert {r["run_id"] for r in got} == {run.run_id}
    assert crawler.stats.get_value("newsarchive/articles_written") == 2  # type: ignore[union-attr]
    [runs] = rows(archive, "runs")
    assert (runs["run_id"], runs["status"], runs["articles_written"]) == (run.run_id, "complete", 2)


def test_duplicates_are_skipped_in_a_run_and_across_runs(new_crawler: Any, archive: Path) -> None:
    first = new_crawler()
    start(first)
    stages = chain(first)
    feed(stages, article())
    with pytest.raises(DropItem):
        feed(stages, article())
    close(first)
    second = new_crawler()
    start(second)
    with pytest.raises(DropItem):
        feed(chain(second), article())
    feed(chain(second), article(content_html="<p>changed</p>"))  # a new version is written
    close(second)
    assert len(rows(archive)) == 2
    assert second.stats.get_value("newsarchive/duplicates") == 1  # type: ignore[union-attr]


def test_an_invalid_article_reaches_the_quarantine_table(crawler: Crawler, archive: Path) -> None:
    start(crawler)
    feed(chain(crawler), article(title=""))
    close(crawler)
    assert rows(archive) == []
    [row] = rows(archive, "quarantine")
    assert (row["stage"], row["reason"], row["source"]) == ("validate", "missing_title", "finews")


def test_a_run_that_never_closes_commits_nothing(crawler: Crawler, archive: Path) -> None:
    start(crawler)
    feed(chain(crawler), article())
    assert rows(archive) == [] and rows(archive, "runs") == []


_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1).filter(lambda s: s.strip())


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=_text, html=_text, media=st.one_of(st.none(), _text))
def test_the_writer_round_trips_any_valid_article(
    new_crawler: Any, archive: Path, title: str, html: str, media: str | None
) -> None:
    crawler = new_crawler()
    start(crawler)
    code = f"NW2026112700{abs(hash((title, html, media))) % 10**8:08d}"
    stages = chain(crawler)
    written = feed(stages, article(info_code=code, title=title, content_html=html, media_name=media))
    run = close(crawler)
    [row] = [r for r in rows(archive) if r["run_id"] == run.run_id]
    for name in ("source_id", "title", "content_html", "media_name", "content_sha256", "published_at"):
        assert row[name] == written.get(name), name


def test_a_write_failure_fails_the_run_and_stops_the_crawl(
    crawler: Crawler, archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsarchive.tables.sink import TableSink, WriteFailed
    from pipelines.articles import WRITE_FAILED

    def full(self: Any, key: Any, row: Any) -> None:
        raise WriteFailed("No space left on device")

    start(crawler)
    stages = chain(crawler)
    monkeypatch.setattr(TableSink, "write", full)
    with pytest.raises(DropItem, match="cannot be written"):
        feed(stages, article())
    assert crawler.engine.close_reasons == [WRITE_FAILED]  # type: ignore[attr-defined]
    monkeypatch.undo()
    run = close(crawler)
    assert rows(archive) == []
    [row] = rows(archive, "runs")
    assert (row["run_id"], row["status"]) == (run.run_id, "failed")
