"""The core slice end to end: sample feeds over HTTP → finews spider → Iceberg tables."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from newsarchive.schema import ARTICLE_FIELDS, ARTICLE_SCHEMA, QUARANTINE_FIELDS
from newsarchive.tables.commit import RUN_ID
from tests.helpers import REFERENCE, SEED_POST, open_catalog, read_table, run_crawl, snapshots


def articles(archive: Path) -> Any:
    return read_table(archive, "articles")


def seed_body() -> str:
    text = SEED_POST.read_bytes().decode("utf-8")
    body = text.split("\n---\n", 1)[1]
    return body[: body.index("\n\n<http://finews.zning.xyz/html_News/NewsShare.html")]


def test_seed_article_is_archived_as_served(sample_archive):
    from pyiceberg.expressions import EqualTo

    archive, _ = sample_archive
    rows = read_table(archive, "articles", row_filter=EqualTo("info_code", "NW202201122245299970")).to_pylist()
    assert len(rows) == 1
    row = rows[0]
    html = row["content_html"]
    assert html == seed_body()
    assert row["published_at"] == datetime(2022, 1, 12, 7, 51, 41, tzinfo=UTC)
    assert row["media_slug"] == "pengpaixinwen" and row["media_name"] == "澎湃新闻"
    assert row["title"] == "上海推进城市数字化转型 启动首席数据官制度研究和试点"
    # listed by market-37, the media feed and the rolling feed: the market record wins
    # (a media name, more fields, earlier in FINEWS_LIST_URLS than the media twin)
    feed, list_url = row["feed"], row["list_url"]
    assert (feed in {"market-37", "media"} and "marketType=37" in list_url) or "type=45" in list_url
    assert row["share_url"] == "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202201122245299970"
    assert row["source_url"].endswith("GetNewsText.do?id=NW202201122245299970")
    assert row["info_code"] == row["source_id"] == "NW202201122245299970"
    assert row["content_sha256"] == hashlib.sha256(html.encode()).hexdigest()


def test_every_market_post_category_equals_media_slug(sample_archive):
    archive, _ = sample_archive
    table = articles(archive)
    slugs = dict(zip(table["info_code"].to_pylist(), table["media_slug"].to_pylist(), strict=True))
    with (REFERENCE / "finews-posts" / "INDEX.tsv").open(encoding="utf-8") as fh:
        market = [r for r in csv.DictReader(fh, delimiter="\t") if r["template"] == "market"]
    assert len(market) == 8
    for row in market:
        code = re.search(r"NW\d{18}", row["file"])[0]
        assert slugs[code] == row["category"], row["file"]


def test_schema_and_provenance(sample_archive):
    archive, result = sample_archive
    run_id = result.summary["run_id"]
    table = open_catalog(archive).load_table(("newsarchive", "articles"))
    assert [f.name for f in table.schema().fields] == list(ARTICLE_FIELDS)
    files = table.inspect.files().to_pylist()
    assert files
    for f in files:
        path = f["file_path"].removeprefix("file://")
        assert Path(path).name.startswith(f"{run_id}-"), path
        schema = pq.read_schema(path)
        assert schema.names == list(ARTICLE_FIELDS)
        assert schema.field("published_at").type == ARTICLE_SCHEMA.field("published_at").type
        assert str(schema.field("fetched_at").type) == "timestamp[us, tz=UTC]"
        # hidden partitioning: each file holds one source and one UTC month of published_at
        rows = pq.read_table(path, columns=["source", "published_at"]).to_pylist()
        assert {r["source"] for r in rows} == {f["partition"]["source"]}
        months = {(r["published_at"].year - 1970) * 12 + r["published_at"].month - 1 for r in rows}
        assert months == {f["partition"]["published_month"]}, path
    rows = articles(archive)
    for column in (
        "source",
        "source_id",
        "info_code",
        "title",
        "published_at",
        "content_html",
        "content_text",
        "source_url",
        "list_url",
        "feed",
        "fetched_at",
        "http_status",
        "content_sha256",
        "spider",
        "story_id",
        "run_id",
        "pipeline_version",
        "schema_version",
    ):
        assert rows[column].null_count == 0, column
    assert set(rows["run_id"].to_pylist()) == {run_id}
    assert set(rows["source"].to_pylist()) == {"finews"}
    assert set(rows["http_status"].to_pylist()) == {200}
    assert set(rows["feed"].to_pylist()) <= {"rolling", "media", "market-37", "market-38", "market-39"}
    assert rows["dag_run_id"].null_count == rows.num_rows
    assert len(set(rows["source_id"].to_pylist())) == rows.num_rows  # one row per infoCode


def test_content_text_is_plain(sample_archive):
    archive, _ = sample_archive
    table = articles(archive).to_pylist()
    seed = next(r for r in table if r["info_code"] == "NW202201122245299970")
    text = seed["content_text"]
    assert "<p>" not in text and "&lt;" not in text and "　" not in text
    assert "《上海市数据条例》" in text and "<上海市数据条例>" in text  # entity decoded
    assert "文章来源" not in text and seed["media_credit"] == "（文章来源：澎湃新闻）"
    assert text.split("\n")[0].startswith("1月12日，上海市政府新闻办举行市政府新闻发布会")


def test_rolling_news_takes_media_from_the_credit(sample_archive):
    archive, _ = sample_archive
    rows = {r["info_code"]: r for r in articles(archive).to_pylist()}
    row = rows["NW202201212257099936"]  # rolling only; body credit （文章来源：证券时报）
    assert row["feed"] == "rolling"
    assert row["media_name"] == "证券时报" and row["media_slug"] == "zhengquanshibao"
    assert row["article_url"] == "http://finance.eastmoney.com/news/1354,202201212257099936.html"
    assert row["digest"].startswith("昇兴股份(002752)1月21日晚间公告")  # 【title】 prefix gone
    assert row["content_html"].startswith('<p style="display:none')  # `content` fallback


def test_bad_records_are_quarantined_with_reasons(sample_archive):
    archive, _ = sample_archive
    table = read_table(archive, "quarantine")
    assert set(QUARANTINE_FIELDS) <= set(table.column_names)
    rows = {r["reason"]: r for r in table.to_pylist()}
    assert set(rows) == {"invalid_info_code", "missing_time"}
    bad = rows["invalid_info_code"]
    assert bad["info_code_raw"] == "NW2022011222452999" and bad["stage"] == "list"
    assert json.loads(bad["raw"])["title"] == "无效编码的记录"
    assert rows["missing_time"]["info_code_raw"] == "NW202201122245200001"
    for row in rows.values():
        assert row["seen_at"] is not None and row["run_id"] and row["fingerprint"]


def test_runs_row_counts_and_names_its_files(sample_archive):
    """The runs row says what the run did; every snapshot it made carries its id; each WARC
    file it lists is there with its size and SHA-256."""
    archive, result = sample_archive
    run_id = result.summary["run_id"]
    run = result.run
    assert run["status"] == "complete" and run["finish_reason"] == "finished"
    assert run["requests_by_kind"] == {"list": 5, "robots": 1, "text": 44}
    assert run["articles_written"] == 44 and run["quarantined"] == 2
    assert run["quarantined_by_reason"] == {"invalid_info_code": 1, "missing_time": 1}
    assert run["problems"] == [] and run["archive_problems"] == []
    settings = json.loads(run["settings"])
    assert settings["ARCHIVE_URI"] == str(archive)
    assert "FINEWS_LIST_URLS" in settings
    for name in ("articles", "quarantine", "runs"):
        assert [s[RUN_ID] for s in snapshots(archive, name)] == [run_id], name
    table = open_catalog(archive).load_table(("newsarchive", "articles"))
    assert run["articles_snapshot_id"] == table.current_snapshot().snapshot_id
    assert run["warc_files"]
    for f in run["warc_files"]:
        data = (archive / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"] and f["records"] > 0
    on_disk = {p.relative_to(archive).as_posix() for p in archive.rglob("*.warc.gz")}
    assert {f["path"] for f in run["warc_files"]} == on_disk


def test_rerun_fetches_nothing_and_adds_nothing(tmp_path, sample_settings, sample_server):
    archive = tmp_path / "archive"
    first = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert first.returncode == 0
    before = {name: read_table(archive, name).num_rows for name in ("articles", "quarantine")}
    texts_before = sample_server.count("/NewsData/GetNewsText.do")
    second = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert second.returncode == 0, second.stderr[-2000:]
    assert sample_server.count("/NewsData/GetNewsText.do") == texts_before
    m = second.run
    assert m["status"] == "complete"
    assert m["requests_by_kind"] == {"list": 5, "robots": 1}
    assert m["articles_written"] == 0 and m["quarantined"] == 0
    assert m["counts"]["skipped_archived"] == 44 and m["counts"]["quarantine_repeats"] == 2
    assert len(m["warc_files"]) == 1  # only the raw lists and robots.txt
    # no row of the second run in the data tables, and nothing added to them
    for name, rows in before.items():
        table = read_table(archive, name)
        assert table.num_rows == rows and set(table["run_id"].to_pylist()) == {first.summary["run_id"]}, name
        added = [s for s in snapshots(archive, name) if s[RUN_ID] == second.summary["run_id"]]
        assert all(s.get("added-records", "0") == "0" for s in added), added
    assert [s[RUN_ID] for s in snapshots(archive, "runs")] == [first.summary["run_id"], second.summary["run_id"]]


@pytest.mark.parametrize("reader", ["pyiceberg", "duckdb", "pandas", "polars"])
def test_analysts_read_the_archive(sample_archive, reader):
    archive, _ = sample_archive
    scan = open_catalog(archive).load_table(("newsarchive", "articles")).scan()
    if reader == "duckdb":
        con = scan.to_duckdb("articles")
        n = con.execute("SELECT count(*) FROM articles WHERE source = 'finews'").fetchall()[0][0]
    elif reader == "pyiceberg":
        n = scan.to_arrow().num_rows
    elif reader == "polars":
        n = scan.to_polars().height
    else:
        n = len(scan.to_pandas())
    assert n == 44
