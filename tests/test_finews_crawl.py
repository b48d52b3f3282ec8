"""The core slice end to end: sample feeds over HTTP → finews spider → Parquet archive."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from newsarchive.archive.reader import open_dataset
from newsarchive.schema import ARTICLE_FIELDS, ARTICLE_SCHEMA, QUARANTINE_FIELDS
from tests.conftest import REFERENCE, SEED_POST, run_crawl


def articles(archive: Path):
    return open_dataset(str(archive)).to_table()


def seed_body() -> str:
    text = SEED_POST.read_bytes().decode("utf-8")
    body = text.split("\n---\n", 1)[1]
    return body[: body.index("\n\n<http://finews.zning.xyz/html_News/NewsShare.html")]


def test_seed_article_is_archived_as_served(sample_archive):
    archive, _ = sample_archive
    con = duckdb.connect()
    row = con.execute(
        """SELECT content_html, published_at, media_slug, media_name, title, date, feed,
                   share_url, content_sha256, source_url, list_url, info_code, source_id
            FROM read_parquet($glob, hive_partitioning=true)
            WHERE info_code = 'NW202201122245299970'""",
        {"glob": f"{archive}/articles/**/*.parquet"},
    ).fetchall()
    assert len(row) == 1
    html, published, slug, media, title, day, feed, share, sha, source_url, list_url, code, sid = row[0]
    assert html == seed_body()
    assert published == datetime(2022, 1, 12, 7, 51, 41, tzinfo=UTC)
    assert slug == "pengpaixinwen" and media == "澎湃新闻"
    assert title == "上海推进城市数字化转型 启动首席数据官制度研究和试点"
    assert str(day) == "2022-01-12"
    # listed by market-37, the media feed and the rolling feed: the market record wins
    # (a media name, more fields, earlier in FINEWS_LIST_URLS than the media twin)
    assert (feed in {"market-37", "media"} and "marketType=37" in list_url) or "type=45" in list_url
    assert share == "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202201122245299970"
    assert source_url.endswith("GetNewsText.do?id=NW202201122245299970")
    assert code == sid == "NW202201122245299970"
    import hashlib

    assert sha == hashlib.sha256(html.encode()).hexdigest()


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
    files = sorted((archive / "articles").rglob("*.parquet"))
    assert files and all(f.name.startswith(f"part-{result.summary['run_id']}-") for f in files)
    for f in files:
        schema = pq.read_schema(f)
        assert schema.names == list(ARTICLE_FIELDS)
        assert schema.field("published_at").type == ARTICLE_SCHEMA.field("published_at").type
        assert str(schema.field("fetched_at").type) == "timestamp[us, tz=UTC]"
    table = articles(archive)
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
        assert table[column].null_count == 0, column
    assert set(table["run_id"].to_pylist()) == {result.summary["run_id"]}
    assert set(table["source"].to_pylist()) == {"finews"}
    assert set(table["http_status"].to_pylist()) == {200}
    assert set(table["feed"].to_pylist()) <= {"rolling", "media", "market-37", "market-38", "market-39"}
    assert table["dag_run_id"].null_count == table.num_rows
    # one row per infoCode, every partition date is the Beijing publication date
    assert len(set(table["source_id"].to_pylist())) == table.num_rows
    con = duckdb.connect()
    bad = con.execute(
        f"""SELECT count(*) FROM read_parquet('{archive}/articles/**/*.parquet', hive_partitioning=true)
            WHERE date <> CAST(timezone('Asia/Shanghai', published_at) AS DATE)"""
    ).fetchone()[0]
    assert bad == 0


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
    table = open_dataset(str(archive), "quarantine").to_table()
    assert set(QUARANTINE_FIELDS) <= set(table.column_names)
    rows = {r["reason"]: r for r in table.to_pylist()}
    assert set(rows) == {"invalid_info_code", "missing_time"}
    bad = rows["invalid_info_code"]
    assert bad["info_code_raw"] == "NW2022011222452999" and bad["stage"] == "list"
    assert json.loads(bad["raw"])["title"] == "无效编码的记录"
    assert rows["missing_time"]["info_code_raw"] == "NW202201122245200001"
    for row in rows.values():
        assert row["seen_at"] is not None and row["run_id"] and row["fingerprint"]


def test_manifest_names_every_file_with_checksums(sample_archive):
    archive, result = sample_archive
    manifest = result.manifest
    assert manifest["status"] == "complete" and manifest["finish_reason"] == "finished"
    assert manifest["counts"]["requests_by_kind"] == {"list": 5, "robots": 1, "text": 44}
    assert manifest["counts"]["articles_written"] == 44
    assert manifest["counts"]["quarantined_by_reason"] == {"invalid_info_code": 1, "missing_time": 1}
    assert manifest["settings"]["ARCHIVE_URI"] == str(archive)
    assert "FINEWS_LIST_URLS" in manifest["settings"]
    import hashlib

    listed = {f["key"] for f in manifest["files"]}
    published = [*archive.rglob("*.parquet"), *archive.rglob("*.warc.gz")]  # WARC: raw capture
    on_disk = {p.relative_to(archive).as_posix() for p in published}
    assert listed == on_disk
    for f in manifest["files"]:
        data = (archive / f["key"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]


def test_rerun_fetches_nothing_and_adds_nothing(tmp_path, sample_settings, sample_server):
    archive = tmp_path / "archive"
    first = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert first.returncode == 0
    before = {p.relative_to(archive) for p in archive.rglob("*.parquet")}
    texts_before = sample_server.count("/NewsData/GetNewsText.do")
    second = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert second.returncode == 0, second.stderr[-2000:]
    assert sample_server.count("/NewsData/GetNewsText.do") == texts_before
    m = second.manifest
    assert m["counts"]["requests_by_kind"] == {"list": 5, "robots": 1}
    assert m["counts"]["articles_written"] == 0 and m["counts"]["quarantined"] == 0
    assert m["counts"]["skipped_archived"] == 44 and m["counts"]["quarantine_repeats"] == 2
    assert [f["kind"] for f in m["files"]] == ["warc"]  # only the raw lists and robots.txt
    assert {p.relative_to(archive) for p in archive.rglob("*.parquet")} == before


@pytest.mark.parametrize("reader", ["duckdb", "pyarrow", "pandas", "newsarchive"])
def test_analysts_read_the_archive(sample_archive, reader):
    archive, _ = sample_archive
    if reader == "duckdb":
        n = duckdb.sql(
            f"SELECT count(*) FROM read_parquet('{archive}/articles/**/*.parquet', "
            "hive_partitioning=true, union_by_name=true) WHERE source = 'finews'"
        ).fetchall()[0][0]
    elif reader == "pyarrow":
        n = pq.read_table(archive / "articles").num_rows
    elif reader == "newsarchive":
        n = open_dataset(str(archive)).count_rows()
    else:
        import pandas as pd

        n = len(pd.read_parquet(archive / "articles"))
    assert n == 44
