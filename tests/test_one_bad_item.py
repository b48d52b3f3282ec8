"""One bad item never stops the run: any exception in a callback or a pipeline, and any row
the writer cannot store, costs that item only (one quarantine row that names it).

Fast in-process tests drive the real pipelines, sink and middleware with Scrapy's test
crawler; end-to-end crawls run the real spider (and a test-only subclass whose parsers
raise on marked input, ``tests/poison_spiders.py``) against the feed server on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pyiceberg.io.pyarrow import PyArrowFileIO
from scrapy.crawler import Crawler
from scrapy.http import Request, TextResponse
from scrapy.utils.test import get_crawler

from newsarchive.extensions.archiverun import ArchiveRun
from newsarchive.items import Article, Quarantined, quarantine
from newsarchive.middlewares.contain import ContainCallbackErrors
from newsarchive.samples.feedserver import FeedServer
from newsarchive.tables.definitions import ARTICLES, TABLES
from newsarchive.tables.sink import TableSink
from pipelines.articles import ArticleWriterPipeline
from pipelines.dedupe import DedupePipeline
from pipelines.normalise import NormalisePipeline
from pipelines.quarantine import QuarantineWriterPipeline
from pipelines.validate import ValidatePipeline, problem
from spiders.finews import FinewsSpider
from tests.fault_plan import code, record, text_ok
from tests.helpers import FAST, run_crawl
from tests.helpers import rows as table_rows
from tests.items_fixture import article, commit, normalised, project
from tests.poison_spiders import PoisonError, PoisonFinewsSpider

# PUBLISHED, article, normalised, commit and the crawler fixture: tests/items_fixture.py


# --- lone surrogates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "标题\ud800"), ("digest", "\udfff"), ("media_name", "x\udc80y"), ("tags", ["ok", "a\ud83d"])],
)
def test_validate_quarantines_a_lone_surrogate_naming_the_field(field: str, value: Any) -> None:
    found = problem(article(1, **{field: value}))
    assert found is not None
    reason, detail = found
    assert reason == "invalid_text"
    assert detail.startswith(f"{field} ")
    assert "U+D" in detail


def test_validate_lets_proper_text_through() -> None:
    assert problem(article(1, title="emoji 😀 and 中文")) is None


def test_quarantine_rows_holding_lone_surrogates_are_stored_escaped(crawler: Crawler) -> None:
    writer = QuarantineWriterPipeline.from_crawler(crawler)
    made = quarantine(
        "finews",
        "list",
        "missing_time",
        "title \ud800 has no time",
        info_code_raw="NW\udc00",
        url="http://127.0.0.1:1/list?\ud800",
        raw={"title": "坏\ud800", "infoCode": "NW\udc00"},
    )
    direct = Quarantined(source="finews", stage="text", reason="bad_json", detail="built by hand \udfff")
    for item in (made, direct):
        writer.process_item(item)
    commit(crawler)
    rows = {r["stage"]: r for r in table_rows(Path(crawler.settings["ARCHIVE_URI"]), "quarantine")}
    assert set(rows) == {"list", "text"}
    assert rows["list"]["detail"] == "title \\ud800 has no time"
    assert rows["list"]["info_code_raw"] == "NW\\udc00"
    assert rows["list"]["url"].endswith("?\\ud800")
    assert json.loads(rows["list"]["raw"]) == {
        "title": "坏\ud800",
        "infoCode": "NW\udc00",
    }  # the JSON escape it came as
    assert rows["text"]["detail"] == "built by hand \\udfff"


def test_the_sink_isolates_a_row_it_cannot_convert_and_writes_the_rest(tmp_path: Path) -> None:
    rejected: list[tuple[str, str]] = []

    def on_reject(row: dict[str, Any], exc: Exception) -> None:
        rejected.append((row["source_id"], type(exc).__name__))

    sink = TableSink(
        PyArrowFileIO(),
        str(tmp_path),
        TABLES[ARTICLES].schema,
        "20220112T000000Z-00000000",
        kind="articles",
        month_field="published_month",
        on_reject=on_reject,
    )
    for n in range(5):
        row = dict(normalised(n))
        if n == 2:
            row["title"] = "坏\ud800"
        sink.write(("finews", "2022-01"), row)
    files = sink.close()
    assert rejected == [(code(2), "UnicodeEncodeError")]
    assert sink.rejected == 1
    ids = pq.read_table(files[0].path).column("source_id").to_pylist()
    assert ids == [code(n) for n in (0, 1, 3, 4)]
    assert files[0].rows == 4


def test_the_article_writer_quarantines_a_row_it_cannot_store_and_keeps_the_run(crawler: Crawler) -> None:
    """Defence in depth: a row validation let through (here: it never saw it) must not abort
    the run nor delete its other rows."""
    crawler.settings.frozen = False
    crawler.settings.set("PARQUET_ROW_GROUP_SIZE", 3)  # the bad row shares a row group, flushed mid-run
    articles, quarantined = ArticleWriterPipeline(crawler), QuarantineWriterPipeline(crawler)
    for n in range(7):
        item = normalised(n, title="坏\ud800") if n == 4 else normalised(n)
        assert quarantined.process_item(articles.process_item(item)) is item
    run = commit(crawler)
    archive = Path(crawler.settings["ARCHIVE_URI"])
    assert sorted(r["source_id"] for r in table_rows(archive, "articles")) == [code(n) for n in range(7) if n != 4]
    bad = table_rows(archive, "quarantine")
    assert [(r["reason"], r["info_code_raw"], r["stage"]) for r in bad] == [("invalid_text", code(4), "write")]
    assert "title" in bad[0]["detail"]
    assert crawler.stats.get_value("newsarchive/articles_written") == 6
    assert not run.failures and run.committed
    (row,) = table_rows(archive, "runs")  # the runs row counts what the tables took
    assert (row["articles_written"], row["quarantined"], row["status"]) == (6, 1, "complete")


# --- exceptions in pipelines ---------------------------------------------------------------


def test_an_exception_in_any_pipeline_becomes_an_internal_error_row(crawler: Crawler) -> None:
    """Real items that make real stages raise: each becomes one internal_error row that the
    quarantine writer stores; the good article goes through every stage."""
    stages = [
        ValidatePipeline(crawler),
        NormalisePipeline(crawler),
        DedupePipeline(crawler),
        ArticleWriterPipeline(crawler),
        QuarantineWriterPipeline(crawler),
    ]
    no_sha = normalised(2)
    del no_sha["content_sha256"]  # the dedupe stage reads it
    no_time = normalised(3, published_at=None)  # its column cannot be null: found when its row group is written
    items = [article(1), no_sha, no_time]
    out = []
    for item in items:
        # each item enters at the first stage that has not seen it yet (2 and 3 are normalised)
        for stage in stages[2:] if item is not items[0] else stages:
            item = stage.process_item(item)
        out.append(item)
    commit(crawler)
    assert isinstance(out[0], Article)
    assert [isinstance(o, Quarantined) for o in out] == [False, True, False]
    archive = Path(crawler.settings["ARCHIVE_URI"])
    rows = {r["info_code_raw"]: r for r in table_rows(archive, "quarantine")}
    assert set(rows) == {code(2), code(3)}
    assert rows[code(2)]["reason"] == rows[code(3)]["reason"] == "internal_error"
    assert rows[code(2)]["stage"] == "dedupe" and rows[code(2)]["detail"].startswith("KeyError")
    assert "DedupePipeline.process_item" in rows[code(2)]["detail"]
    assert rows[code(3)]["stage"] == "write" and "published_at" in rows[code(3)]["detail"]
    assert [r["source_id"] for r in table_rows(archive, "articles")] == [code(1)]
    assert crawler.stats.get_value("newsarchive/internal_errors") == 1
    assert crawler.stats.get_value("newsarchive/rows_rejected") == 1
    assert not ArchiveRun.of(crawler).failures  # one row's fault, not the run's


def test_an_exception_in_normalise_is_an_internal_error_of_that_stage(crawler: Crawler) -> None:
    """Normalise has no catch-all of its own: the shared guard names the stage."""
    broken = article(5, content_html=12345)  # no text extraction can read a number
    out = NormalisePipeline(crawler).process_item(broken)
    assert isinstance(out, Quarantined)
    assert (out["reason"], out["stage"]) == ("internal_error", "normalise")
    assert "NormalisePipeline.process_item" in out["detail"]


# --- exceptions in spider callbacks ----------------------------------------------------------


def finews_spider(tmp_path: Path, urls: list[str], cls: type[FinewsSpider] = FinewsSpider) -> FinewsSpider:
    """The real finews spider (or its poisoned subclass) for ``urls`` on a port nothing
    listens on: no request is ever sent, the test calls back the way Scrapy does."""
    crawler = get_crawler(
        cls,
        project(
            ARCHIVE_URI=str(tmp_path / "archive"),
            FINEWS_LIST_URLS=",".join(urls),
            FINEWS_TEXT_URL="http://127.0.0.1:9/text?id={info_code}",
        ),
    )
    spider = cls.from_crawler(crawler)
    crawler.spider = spider
    return spider


@pytest.fixture
def finews(tmp_path: Path) -> FinewsSpider:
    return finews_spider(tmp_path, ["http://127.0.0.1:9/a"])


def list_response(url: str, records: list[Any]) -> TextResponse:
    request = Request(url, meta={"newsarchive_kind": "list"})
    return TextResponse(url, body=json.dumps({"record": records}).encode(), request=request)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_list_callback_that_raises_becomes_one_row_and_the_other_lists_go_on(tmp_path: Path, when: str) -> None:
    """Raised before the callback counted the list's answer, or after (as a parser failing
    on the body would): either way the answer is counted once and the articles of the
    other list are requested."""
    poisoned = f"http://127.0.0.1:9/b?raise={when}"
    finews = finews_spider(tmp_path, ["http://127.0.0.1:9/a", poisoned], PoisonFinewsSpider)
    middleware = ContainCallbackErrors.from_crawler(finews.crawler)
    good = list_response("http://127.0.0.1:9/a", [record(1, "好文章1"), record(2, "好文章2")])
    assert list(finews.parse_list(good)) == []  # the other list has not answered yet
    bad = list_response(poisoned, [record(3, "好文章3")])
    with pytest.raises(PoisonError) as raised:
        list(finews.parse_list(bad))
    out = list(middleware.process_spider_exception(bad, raised.value) or [])
    rows = [o for o in out if isinstance(o, Quarantined)]
    requests = [o for o in out if isinstance(o, Request)]
    assert [(r["reason"], r["stage"], r["url"]) for r in rows] == [("internal_error", "list", bad.url)]
    assert rows[0]["detail"].startswith("PoisonError: poisoned list")
    assert sorted(r.url.rsplit("=", 1)[1] for r in requests) == [code(1), code(2)]  # the good list's articles
    assert finews._pending_lists == 0
    assert finews.run.problems and "internal_error" in finews.run.problems[0]
    assert finews.crawler.stats.get_value("newsarchive/internal_errors/list") == 1


def test_a_paging_spider_recovers_a_list_callback_that_raised(tmp_path: Path) -> None:
    """The list-then-articles bookkeeping the paging spiders share (``spiders/listing.py``,
    here eastmoney's): a column page whose callback raised is one row, and the other
    column's articles are still requested once the last list has answered."""
    from newsarchive.samples.eastmoney_site import column_entry
    from spiders.eastmoney import EastmoneySpider

    crawler = get_crawler(
        EastmoneySpider,
        project(
            ARCHIVE_URI=str(tmp_path / "archive"),
            EASTMONEY_LIST_BASE="http://127.0.0.1:9",
            EASTMONEY_FAST_BASE="http://127.0.0.1:9",
            EASTMONEY_WEB_BASE="http://127.0.0.1:9",
            EASTMONEY_COLUMNS="1,2",
            EASTMONEY_FAST=False,
            EASTMONEY_MAX_PAGES=1,
            EASTMONEY_DOWNLOAD_DELAY=0,  # a real crawl sets it before the settings freeze
        ),
    )
    spider = EastmoneySpider.from_crawler(crawler)
    crawler.spider = spider
    middleware = ContainCallbackErrors.from_crawler(crawler)
    good, bad = spider._list_request("column:1", 1), spider._list_request("column:2", 1)
    entries = [column_entry(f"2022011200000000{n:02d}", f"好文章{n}", "2022-01-12 10:00:00") for n in (1, 2)]
    body = json.dumps({"code": "1", "message": "success", "data": {"list": entries}}).encode()
    assert not [o for o in spider.parse_list(TextResponse(good.url, body=body, request=good)) if isinstance(o, Request)]
    response = TextResponse(bad.url, body=b"{}", request=bad)
    spider.list_answered(response.meta)  # the callback counted the answer, then raised
    out = list(middleware.process_spider_exception(response, RecursionError("too deep")) or [])
    rows = [o for o in out if isinstance(o, Quarantined)]
    assert [(r["reason"], r["stage"]) for r in rows] == [("internal_error", "list")]
    assert sorted(o.url for o in out if isinstance(o, Request)) == [
        f"http://127.0.0.1:9/a/2022011200000000{n:02d}.html" for n in (1, 2)
    ]
    assert spider._pending == 0 and spider.run.problems


def test_a_text_callback_that_raises_becomes_one_row_naming_the_article(finews: FinewsSpider) -> None:
    middleware = ContainCallbackErrors.from_crawler(finews.crawler)
    rec = type("Rec", (), {"info_code": code(5)})()
    url = f"http://127.0.0.1:9/text?id={code(5)}"
    response = TextResponse(
        url, body=b'{"text": "<p>x</p>"}', request=Request(url, meta={"newsarchive_kind": "text", "record": rec})
    )
    out = list(middleware.process_spider_exception(response, ValueError("no such field")) or [])
    assert len(out) == 1 and isinstance(out[0], Quarantined)
    assert (out[0]["reason"], out[0]["stage"], out[0]["info_code_raw"], out[0]["url"]) == (
        "internal_error",
        "text",
        code(5),
        url,
    )
    assert "ValueError: no such field" in out[0]["detail"]
    assert not finews.run.problems  # an article's error leaves the run complete


def test_scrapy_control_flow_exceptions_pass_through(finews: FinewsSpider) -> None:
    from scrapy.spidermiddlewares.httperror import HttpError

    middleware = ContainCallbackErrors.from_crawler(finews.crawler)
    response = list_response("http://127.0.0.1:9/a", [])
    assert middleware.process_spider_exception(response, HttpError(response, "ignored")) is None


# --- end to end ------------------------------------------------------------------------------


def serve_lists(server: FeedServer, lists: dict[str, list[Any]], texts: dict[int, str]) -> dict[str, str]:
    for path, records in lists.items():
        server.add(path, json.dumps({"record": records}, ensure_ascii=True).encode())
    for n, title in texts.items():
        server.add(f"/text?id={code(n)}", text_ok(title))
    return {
        **FAST,
        "FINEWS_LIST_URLS": ",".join(server.url(p) for p in lists),
        "FINEWS_TEXT_URL": server.url("/text?id={info_code}"),
        "WARC_ENABLED": "False",
    }


def test_exceptions_in_list_and_text_callbacks_cost_only_their_response(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A list callback that raises before counting its answer, one that raises after, and
    a text callback that raises: three internal_error rows, every other article archived,
    the run partial (two lists unusable) but finished."""
    good = {1: "好文章1", 2: "好文章2", 3: "好文章3"}
    settings = serve_lists(
        feed_server,
        {
            "/good?marketType=37": [record(n, t) for n, t in good.items()] + [record(999, "毒文")],
            "/poison?raise=before": [record(4, "好文章4")],
            "/poison?raise=after": [record(5, "好文章5")],
        },
        {**good, 999: "毒文"},
    )
    settings.update(ARCHIVE_URI=str(tmp_path / "archive"), SPIDER_MODULES="spiders,tests.poison_spiders")
    settings["WARC_ENABLED"] = "True"  # the rows point to the responses that raised
    result = run_crawl("finews_poison", settings)
    assert result.returncode == 1, result.stderr[-3000:]
    m = result.run
    assert (m["status"], m["finish_reason"]) == ("partial", "finished")
    archived = sorted(r["source_id"] for r in table_rows(tmp_path / "archive", "articles"))
    assert archived == [code(n) for n in good]
    errors = [r for r in table_rows(tmp_path / "archive", "quarantine") if r["reason"] == "internal_error"]
    assert sorted((r["stage"], r["url"].split("/", 3)[-1]) for r in errors) == [
        ("list", "poison?raise=after"),
        ("list", "poison?raise=before"),
        ("text", f"text?id={code(999)}"),
    ]
    assert all("PoisonError: poisoned" in r["detail"] for r in errors)
    assert all(r["warc_filename"] and r["warc_record_offset"] is not None for r in errors)
    assert m["counts"]["internal_errors"] == 3 and m["articles_written"] == 3
    assert m["quarantined_by_reason"]["internal_error"] == 3
    assert len(m["problems"]) == 2


def test_an_exception_in_an_article_callback_leaves_the_run_complete(feed_server: FeedServer, tmp_path: Path) -> None:
    """In the callback of a text, or in the errback of a text that failed (which Scrapy
    passes to no spider middleware): one internal_error row each, the run complete."""
    from newsarchive.samples.feedserver import Reply

    records = [record(1, "好文章1"), record(999, "毒文"), record(998, "毒错")]
    settings = serve_lists(feed_server, {"/good?marketType=37": records}, {1: "好文章1", 999: "毒文"})
    feed_server.add(f"/text?id={code(998)}", Reply(status=404, body=b"{}"))
    settings.update(ARCHIVE_URI=str(tmp_path / "archive"), SPIDER_MODULES="spiders,tests.poison_spiders")
    result = run_crawl("finews_poison", settings)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.run["status"] == "complete"
    assert [r["source_id"] for r in table_rows(tmp_path / "archive", "articles")] == [code(1)]
    rows = table_rows(tmp_path / "archive", "quarantine")
    assert sorted((r["reason"], r["info_code_raw"]) for r in rows) == [
        ("internal_error", code(998)),
        ("internal_error", code(999)),
    ]
    assert {r["detail"].rsplit("(in ", 1)[1] for r in rows} == {
        "PoisonFinewsSpider.parse_text)",
        "PoisonFinewsSpider.text_failed)",
    }


def test_a_lone_surrogate_in_a_title_costs_that_article_only(feed_server: FeedServer, tmp_path: Path) -> None:
    """``"\\ud800"`` in a feed's JSON: one invalid_text row, every other article archived."""
    titles = {1: "好文章1", 2: "坏\ud800标题", 3: "好文章3"}
    settings = serve_lists(
        feed_server, {"/list?marketType=37": [record(n, t) for n, t in titles.items()]}, {1: "a", 2: "b", 3: "c"}
    )
    settings["ARCHIVE_URI"] = str(tmp_path / "archive")
    result = run_crawl("finews", settings)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.run["status"] == "complete"
    assert sorted(r["source_id"] for r in table_rows(tmp_path / "archive", "articles")) == [code(1), code(3)]
    bad = table_rows(tmp_path / "archive", "quarantine")
    assert [(r["reason"], r["info_code_raw"]) for r in bad] == [("invalid_text", code(2))]
    assert "title" in bad[0]["detail"]
    assert result.summary["articles_written"] == result.run["articles_written"] == 2


def test_an_exception_importing_one_post_costs_that_post_only(tmp_path: Path) -> None:
    from tests.helpers import REFERENCE

    posts = REFERENCE / "finews-posts"
    plain = run_crawl("jekyll", {**FAST, "ARCHIVE_URI": str(tmp_path / "plain")}, extra_args=["-a", f"paths={posts}"])
    assert plain.returncode == 0, plain.stderr[-3000:]
    codes = sorted({r["source_id"] for r in table_rows(tmp_path / "plain", "articles")})
    poison = codes[len(codes) // 2]
    settings = {**FAST, "ARCHIVE_URI": str(tmp_path / "archive"), "SPIDER_MODULES": "spiders,tests.poison_spiders"}
    result = run_crawl("jekyll_poison", settings, extra_args=["-a", f"paths={posts}", "-a", f"poison={poison}"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.run["status"] == "complete"
    assert sorted({r["source_id"] for r in table_rows(tmp_path / "archive", "articles")}) == [
        c for c in codes if c != poison
    ]
    errors = [r for r in table_rows(tmp_path / "archive", "quarantine") if r["reason"] == "internal_error"]
    assert len(errors) == 1 and "PoisonError: poisoned post" in errors[0]["detail"]
    assert errors[0]["url"].startswith("file://")


def test_two_articles_with_the_same_bad_text_are_two_rows_once_each(tmp_path, feed_server):
    """The quarantine's fingerprint keeps a bad record from being written on every run; two
    articles that answer the same bad body are still two problems, one row each."""
    codes = ["NW202201120000000901", "NW202201120000000902"]
    records = [
        {"infoCode": c, "medianame": "澎湃新闻", "datetime": "2022-01-12 10:00:00", "title": f"标题{c[-3:]}"}
        for c in codes
    ]
    feed_server.add("/l?marketType=37", json.dumps({"record": records}, ensure_ascii=False).encode())
    for c in codes:
        feed_server.add(f"/t?id={c}", b'{"text": null}')
    settings = {
        **FAST,
        "FINEWS_LIST_URLS": feed_server.url("/l?marketType=37"),
        "FINEWS_TEXT_URL": feed_server.url("/t?id={info_code}"),
        "ARCHIVE_URI": tmp_path,
    }
    first = run_crawl("finews", settings)
    rows = table_rows(tmp_path, "quarantine")
    assert sorted(r["info_code_raw"] for r in rows) == codes
    assert {r["reason"] for r in rows} == {"empty_text"}
    assert first.run["counts"].get("quarantine_repeats", 0) == 0
    assert first.run["quarantined_by_reason"] == {"empty_text": 2}
    second = run_crawl("finews", settings)
    assert len(table_rows(tmp_path, "quarantine")) == 2  # not written again
    assert second.run["counts"]["quarantine_repeats"] == 2 and second.run["quarantined"] == 0
