"""Security: secrets never reach a log (or the archive), requests go only to configured hosts.

Sanitising exported HTML against XSS payloads is proven in test_jekyll_build.py and
test_jekyll_safety.py; limits on response size and items per run in test_faults_feeds.py
and test_settings.py (docs/reliability.md lists them all).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from newsarchive.feedserver import Reply
from newsarchive.logredact import RedactingFilter, redact, secrets_from_env
from tests.conftest import FAST, run_crawl

FAKE_SECRET = "fake-secret-Zq81xvPw"
FAKE_TOKEN = "fake-token-Hh2k9La0"
FAKE_PASSWORD = "fake-pass-Qp7mT3s"


def everything_written(*roots: Path) -> str:
    """Every byte under the given directories, as text (Parquet included, raw)."""
    out = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                out.append(path.read_bytes().decode("latin-1"))
    return "\n".join(out)


def test_redaction_masks_known_secrets_and_url_credentials():
    secrets = secrets_from_env(
        {"AWS_SECRET_ACCESS_KEY": FAKE_SECRET, "NEWSARCHIVE_API_TOKEN": FAKE_TOKEN, "HOME": "/root", "DB_PASSWORD": "1"}
    )
    assert secrets == {FAKE_SECRET, FAKE_TOKEN}  # too-short values are not masked
    assert redact(f"key={FAKE_SECRET} url=http://bob:{FAKE_PASSWORD}@h/x", secrets) == "key=*** url=http://***@h/x"
    record = logging.LogRecord("x", logging.ERROR, "f", 1, "got %s from %s", (FAKE_TOKEN, "http://a:b-c-d@h/"), None)
    RedactingFilter(secrets).filter(record)
    assert record.getMessage() == "got *** from http://***@h/"


def test_a_crawl_never_logs_or_archives_a_secret(tmp_path, feed_server):
    code = "NW202201122245299970"
    feed_server.add(
        "/l?marketType=37",
        json.dumps(
            {
                "record": [
                    {"infoCode": code, "medianame": "澎湃新闻", "datetime": "2022-01-12 15:51:41", "title": "标题"},
                    {
                        "infoCode": "NW202201122245299971",
                        "medianame": "澎湃新闻",
                        "datetime": "2022-01-12 15:51:41",
                        "title": "失败",
                    },
                ]
            },
            ensure_ascii=False,
        ).encode(),
    )
    feed_server.add(f"/t?id={code}", json.dumps({"text": "<p>正文</p>"}).encode())
    feed_server.add("/t?id=NW202201122245299971", Reply(status=500))
    # a list URL carrying credentials (Scrapy cannot use them: that list fails, loudly)
    with_password = feed_server.url("/l2?marketType=38").replace("http://", f"http://reader:{FAKE_PASSWORD}@")
    env = {"AWS_SECRET_ACCESS_KEY": FAKE_SECRET, "NEWSARCHIVE_API_TOKEN": FAKE_TOKEN}
    from tests.conftest import clean_env

    result = run_crawl(
        "finews",
        {
            **FAST,
            "LOG_LEVEL": "DEBUG",
            "ARCHIVE_URI": tmp_path / "a",
            "FINEWS_LIST_URLS": f"{feed_server.url('/l?marketType=37')},{with_password}",
            "FINEWS_TEXT_URL": feed_server.url("/t?id={info_code}"),
        },
        env=clean_env(**env),
    )
    assert result.returncode == 1 and result.manifest["status"] == "partial"
    assert result.manifest["counts"]["articles_written"] == 1
    logs = result.stdout + result.stderr
    assert "***@127.0.0.1" in logs  # the failing URL was logged, masked
    written = everything_written(tmp_path / "a")
    for secret in (FAKE_SECRET, FAKE_TOKEN, FAKE_PASSWORD):
        assert secret not in logs, secret
        assert secret not in written, secret


@pytest.mark.usefixtures("airflow_db")
def test_the_dag_never_logs_the_connection_secret(monkeypatch, capfd, seaweed, sample_settings, tmp_path):
    """Fake credentials in the Airflow connection: the upload fails with a clear error, and the
    secret appears in no output, log file, staging file or bucket object."""
    cfg = seaweed.config
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "AKIAFAKEFAKEFAKE",
                "password": FAKE_SECRET,
                "extra": {"endpoint_url": cfg.endpoint_url, "region_name": "us-east-1"},
            }
        ),
    )
    for name, value in {
        **FAST,
        **sample_settings,
        "UPLOAD_URI": f"s3://{seaweed.bucket}/security",
        "STAGING_DIR": str(tmp_path / "staging"),
        "SPIDERS": "finews",
        "AIRFLOW_RETRIES": "0",
        "AIRFLOW_RETRY_DELAY_MINUTES": "0",
    }.items():
        monkeypatch.setenv(f"NEWSARCHIVE_{name}", str(value))
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import ROOT

    run = DagBag(dag_folder=str(ROOT / "dags")).get_dag("news_crawl").test()
    assert run.state == "failed"  # wrong credentials: refused by the server
    out, err = capfd.readouterr()
    assert "InvalidAccessKeyId" in out + err
    import os

    logs = (
        everything_written(Path(os.environ["AIRFLOW_HOME"]) / "logs")
        if (Path(os.environ["AIRFLOW_HOME"]) / "logs").exists()
        else ""
    )
    for text in (out, err, logs, everything_written(tmp_path / "staging")):
        assert FAKE_SECRET not in text
