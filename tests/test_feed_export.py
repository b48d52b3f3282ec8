"""``scrapy crawl finews -O articles.parquet`` works: a registered Parquet feed exporter,
whose feed counts the rows it wrote ("Stored parquet feed (N items)")."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from io import BytesIO

import pyarrow.parquet as pq
import pytest

from newsarchive.schema import ARTICLE_FIELDS
from tests.helpers import ROOT, clean_env, read_table, run_crawl

STORED = re.compile(r"Stored (\w+) feed \((\d+) items\) in: (\S+)")


def test_scrapy_crawl_writes_parquet_feed(tmp_path, sample_settings):
    out, lines = tmp_path / "articles.parquet", tmp_path / "items.jsonl"
    args = [sys.executable, "-m", "scrapy", "crawl", "finews", "-O", str(out), "-O", str(lines)]
    args += ["-s", f"ARCHIVE_URI={tmp_path / 'archive'}"]
    for k, v in sample_settings.items():
        args += ["-s", f"{k}={v}"]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=180, env=clean_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = pq.read_table(out)
    assert table.num_rows == 44 and table.column_names == list(ARTICLE_FIELDS)
    assert "澎湃新闻" in table["media_name"].to_pylist()
    assert read_table(tmp_path / "archive", "articles").num_rows == 44  # the archive is written as well
    # each feed's logged count is what its file holds: the Parquet feed counts its rows (the
    # two quarantined records are not in it), the JSON lines feed every item, both kinds
    stored = {fmt: (int(n), uri) for fmt, n, uri in STORED.findall(proc.stderr)}
    assert stored == {"parquet": (table.num_rows, str(out)), "jsonl": (44 + 2, str(lines))}, proc.stderr[-3000:]
    kinds = [set(json.loads(line)) >= {"reason", "stage"} for line in lines.read_text(encoding="utf-8").splitlines()]
    assert len(kinds) == 46 and sum(kinds) == 2
    assert "'feedexport/success_count/FileFeedStorage': 2" in proc.stderr  # two feeds stored
    assert "'item_scraped_count': 46" in proc.stderr


def test_newsarchive_crawl_accepts_output_too(tmp_path, sample_settings):
    out = tmp_path / "feed.parquet"
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": tmp_path / "a"}, extra_args=["-O", str(out)])
    assert result.returncode == 0
    assert pq.read_table(out).num_rows == 44


def _feed_exporter(feeds: dict[str, dict[str, object]]):
    from scrapy.utils.test import get_crawler

    from newsarchive import settings
    from newsarchive.exporters import FeedExporter

    crawler = get_crawler(settings_dict={"FEEDS": feeds, "FEED_EXPORTERS": settings.FEED_EXPORTERS})
    return FeedExporter.from_crawler(crawler)


def test_a_parquet_feed_takes_articles_only_unless_it_names_its_own_filter():
    from newsarchive.items import Article, Quarantined

    exporter = _feed_exporter(
        {
            "a.parquet": {"format": "parquet"},
            "b.jsonl": {"format": "jsonl"},
            "c.parquet": {"format": "parquet", "item_classes": ["newsarchive.items.Quarantined"]},
        }
    )
    accepts = {uri: (f.accepts(Article()), f.accepts(Quarantined())) for uri, f in exporter.filters.items()}
    assert accepts == {"a.parquet": (True, False), "b.jsonl": (True, True), "c.parquet": (False, True)}


def test_the_parquet_exporter_refuses_what_it_cannot_write():
    """An item that is not an article raises (Scrapy logs it and does not count it) rather
    than vanish from a file whose count includes it."""
    from newsarchive.exporters import ParquetItemExporter
    from newsarchive.items import Quarantined

    exporter = ParquetItemExporter(BytesIO())
    exporter.start_exporting()
    with pytest.raises(TypeError, match="holds articles, not Quarantined"):
        exporter.export_item(Quarantined(reason="bad_json"))
    exporter.finish_exporting()
