"""``scrapy crawl finews -O articles.parquet`` works: a registered Parquet feed exporter."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq

from newsarchive.schema import ARTICLE_FIELDS
from tests.conftest import ROOT, clean_env, read_table, run_crawl


def test_scrapy_crawl_writes_parquet_feed(tmp_path, sample_settings):
    out = tmp_path / "articles.parquet"
    args = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "finews",
        "-O",
        str(out),
        "-s",
        f"ARCHIVE_URI={tmp_path / 'archive'}",
    ]
    for k, v in sample_settings.items():
        args += ["-s", f"{k}={v}"]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=180, env=clean_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = pq.read_table(out)
    assert table.num_rows == 44 and table.column_names == list(ARTICLE_FIELDS)
    assert "澎湃新闻" in table["media_name"].to_pylist()
    assert read_table(tmp_path / "archive", "articles").num_rows == 44  # the archive is written as well


def test_newsarchive_crawl_accepts_output_too(tmp_path, sample_settings):
    out = tmp_path / "feed.parquet"
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": tmp_path / "a"}, extra_args=["-O", str(out)])
    assert result.returncode == 0
    assert pq.read_table(out).num_rows == 44
