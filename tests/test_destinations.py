"""Where a job's outputs go (``jobs.Destination``): the URI a setting gives, else the worker's
staging directory. In-process, no store is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsarchive import jobs
from newsarchive.storage.local import LocalStore


def config(tmp_path: Path, **uris: str) -> jobs.JobConfig:
    base = {"warc_uri": "", "log_uri": "", "report_uri": ""}
    return jobs.JobConfig(staging_dir=tmp_path, aws_conn_id="none", prune=False, **{**base, **uris})


def test_without_a_uri_everything_stays_in_the_staging_directory(tmp_path):
    cfg = config(tmp_path)
    warc, logs = cfg.warc(tmp_path / "eastmoney"), cfg.logs(tmp_path / "eastmoney")
    assert not warc.remote and warc.where() == str(tmp_path / "eastmoney" / "warc")
    assert not logs.remote and logs.where("date=2026-01-01/r.log") == str(
        tmp_path / "eastmoney" / "logs" / "date=2026-01-01" / "r.log"
    )
    report, name = cfg.report()
    assert not report.remote and report.where(name) == str(tmp_path / "report.html")
    assert isinstance(report.store(), LocalStore)


def test_a_uri_wins_and_keys_go_under_it(tmp_path):
    cfg = config(tmp_path, warc_uri="s3://raw/warc", log_uri="s3://raw/logs", report_uri="s3://site/r/news.html")
    assert cfg.warc(tmp_path).remote and cfg.warc(tmp_path).where("a/b.warc.gz") == "s3://raw/warc/a/b.warc.gz"
    assert cfg.logs(tmp_path).where("x.log") == "s3://raw/logs/x.log"
    report, name = cfg.report()
    assert (report.uri, name) == ("s3://site/r", "news.html")


def test_a_local_report_uri_is_a_file(tmp_path):
    report, name = config(tmp_path, report_uri=str(tmp_path / "out" / "r.html")).report()
    assert not report.remote and report.where(name) == str(tmp_path / "out" / "r.html")


def test_a_report_uri_naming_a_bucket_is_refused(tmp_path):
    with pytest.raises(ValueError, match="names a bucket"):
        config(tmp_path, report_uri="s3://site").report()


def test_backfill_is_a_property_of_the_spider_class():
    assert jobs.supports_backfill("thepaper") and jobs.supports_backfill("eastmoney")
    assert not jobs.supports_backfill("finews")
    with pytest.raises(ValueError, match="no spider"):
        jobs.supports_backfill("no-such-spider")
