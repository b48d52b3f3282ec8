"""The Airflow DAGs: integrity, the catalog they hand the crawls, and real end-to-end runs with
dag.test() on SQLite against the local feed server and SeaweedFS: the crawls commit to
SeaweedFS's Iceberg REST catalog (properties from an Airflow connection), the WARC files and
the report go to a plain bucket of the same server.

The ``test_e2e_*`` tests need the crawl's Iceberg write path (the ArchiveRun extension): until
it is merged a crawl commits nothing to the tables and they fail on the table assertions.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from newsarchive import crawllog, jobs
from newsarchive.storage.store import S3Store
from tests.helpers import FAST, ROOT, clean_env

DAGS = ROOT / "dags"
RAW_BUCKET, TABLE_BUCKET = "raw", "tables"


def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="module", autouse=True)
def airflow_logging() -> None:
    """The first connection lookup makes Airflow configure logging, dropping the handler
    ``caplog`` installed for the test running then: look one up before any test runs."""
    jobs.connection_properties("newsarchive_no_such_connection")


@pytest.fixture(autouse=True)
def no_pyiceberg_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyiceberg reads ~/.pyiceberg.yaml and PYICEBERG_* variables: none leaks in."""
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.upper().startswith("PYICEBERG_") or name.startswith("AIRFLOW_CONN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PYICEBERG_HOME", str(home))


# --- structure -----------------------------------------------------------------------------


def test_dagbag_integrity(airflow_db):
    bag = dagbag()
    assert bag.import_errors == {}
    assert set(bag.dag_ids) >= {"news_crawl", "news_compact", "news_backfill"}
    for dag_id in ("news_crawl", "news_compact", "news_backfill"):
        dag = bag.get_dag(dag_id)
        assert "newsarchive" in dag.tags and dag.catchup is False and dag.max_active_runs == 1
        for t in dag.tasks:
            assert t.retries >= 2, (dag_id, t.task_id)
            assert t.owner == "newsarchive"
            # No pool to create: atomic, retried commits keep readers safe without one.
            assert (t.pool, t.pool_slots) == ("default_pool", 1), (dag_id, t.task_id)
    crawl = bag.get_dag("news_crawl")
    assert crawl.schedule == "*/30 * * * *"
    assert sorted(crawl.task_ids) == ["crawl", "crawls_failed", "report"]  # no index pull any more
    (asset,) = crawl.get_task("crawl").outlets
    assert (asset.name, asset.uri) == ("newsarchive_articles", "iceberg://newsarchive/newsarchive/articles")
    assert bag.get_dag("news_backfill").schedule is None
    assert list(bag.get_dag("news_compact").params.keys()) == []  # it maintains every partition


def test_dag_files_are_light_at_import():
    # boto3 is not checked: to normalise any Asset URI that is not file:// (ours is iceberg://),
    # Airflow loads every provider's Asset handlers, the amazon provider's S3 one with boto3.
    code = (
        "import sys, runpy; sys.path.insert(0, %r); runpy.run_path(%r); "
        "print(sorted(m for m in ('scrapy', 'pyarrow', 'pyiceberg', 'duckdb', 'lxml', 'pandas') "
        "if m in sys.modules))"
    )
    for name in ("news_crawl.py", "news_compact.py", "news_backfill.py"):
        out = subprocess.run(
            [sys.executable, "-c", code % (str(ROOT), str(DAGS / name))],
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=120,
            cwd=ROOT,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.strip().splitlines()[-1] == "[]", name


def test_schedule_catalog_and_namespace_come_from_the_environment(airflow_db, monkeypatch):
    monkeypatch.setenv("NEWSARCHIVE_SCHEDULE", "@hourly")
    monkeypatch.setenv("NEWSARCHIVE_ICEBERG_CATALOG", "lake")
    monkeypatch.setenv("NEWSARCHIVE_ICEBERG_NAMESPACE", "news")
    monkeypatch.setenv("NEWSARCHIVE_COMPACT_SCHEDULE", "asset")
    bag = dagbag()
    assert bag.get_dag("news_crawl").schedule == "@hourly"
    assert [o.uri for o in bag.get_dag("news_crawl").get_task("crawl").outlets] == ["iceberg://lake/news/articles"]
    compact = bag.get_dag("news_compact")
    assert "Asset" in type(compact.timetable).__name__
    assert "iceberg://lake/news/articles" in repr(compact.timetable)


# --- the catalog the tasks hand the crawls -------------------------------------------------

PROPERTIES = {
    "type": "rest",
    "uri": "https://catalog.example.invalid/api/catalog",
    "warehouse": "s3://tables-bucket",
    "credential": "client-id:client-secret-never-logged",
    "s3.endpoint": "http://127.0.0.1:9",
    "s3.access-key-id": "AKIAEXAMPLE",
    "s3.secret-access-key": "s3-secret-never-logged",
    "rest.sigv4-enabled": "false",
    "oauth2-server-uri": "https://catalog.example.invalid/oauth/tokens",
}


@pytest.mark.parametrize("name", ["newsarchive", "Lake", "my-lake"])
def test_connection_properties_round_trip_through_pyiceberg_config(monkeypatch, name):
    """What the task sets in the crawl's environment is exactly what pyiceberg reads back."""
    from pyiceberg.utils.config import Config

    env = jobs.properties_env(name, PROPERTIES)
    assert all(k.startswith("PYICEBERG_CATALOG__") and k == k.upper() for k in env)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert Config().get_catalog_config(name) == PROPERTIES
    from newsarchive.tables.catalog import configured

    assert configured(name) == PROPERTIES


def test_properties_pyiceberg_variables_cannot_carry_are_refused():
    with pytest.raises(ValueError, match="cannot name a catalog"):
        jobs.properties_env("my_lake", {"type": "rest"})
    with pytest.raises(ValueError, match="cannot be passed"):
        jobs.properties_env("lake", {"header.X_Custom": "1"})


def test_the_connection_wins_over_pyiceberg_variables_and_never_reaches_a_command_line(monkeypatch, caplog):
    monkeypatch.setenv("PYICEBERG_CATALOG__NEWSARCHIVE__URI", "http://stale.invalid")
    monkeypatch.setenv("PYICEBERG_CATALOG__NEWSARCHIVE__TOKEN", "stale-token")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-never-passed")
    monkeypatch.setenv("AIRFLOW_CONN_ICEBERG_DEFAULT", json.dumps({"conn_type": "generic", "extra": PROPERTIES}))
    caplog.set_level(logging.INFO)
    catalog = jobs.catalog_env()
    assert catalog.origin == "connection 'iceberg_default'" and not catalog.embedded
    env = catalog.child_env()
    assert env["PYICEBERG_CATALOG__NEWSARCHIVE__URI"] == PROPERTIES["uri"]
    assert "PYICEBERG_CATALOG__NEWSARCHIVE__TOKEN" not in env  # the connection defines the catalog
    assert not any(k.startswith("AWS_") for k in env)
    assert env["NEWSARCHIVE_ICEBERG_NAMESPACE"] == "newsarchive"
    code, _ = jobs.run_command(["schema", "--help"], catalog)
    assert code == 0
    logged = caplog.text + repr(catalog)
    assert "catalog.example.invalid" in catalog.description
    for secret in ("client-secret-never-logged", "s3-secret-never-logged"):
        assert secret not in logged and secret not in catalog.description


def test_without_a_catalog_the_first_task_warns_of_the_sqlite_fallback(monkeypatch, tmp_path, caplog, capsys):
    monkeypatch.setenv("NEWSARCHIVE_STAGING_DIR", str(tmp_path / "staging"))
    catalog = jobs.catalog_env()
    assert catalog.embedded
    cfg = jobs.JobConfig.load()
    # every spider of the worker shares one working directory, hence one catalog.db
    assert cfg.workdir("finews", catalog) == cfg.workdir("eastmoney", catalog) == tmp_path / "staging"
    caplog.set_level(logging.WARNING)
    with pytest.raises(jobs.NotConfiguredError):
        jobs.crawl_and_upload("finews", None)  # refused before the warning: nothing to crawl
    assert "embedded SQLite" not in caplog.text
    monkeypatch.setenv("NEWSARCHIVE_FINEWS_LIST_URLS", "http://127.0.0.1:9/list")
    monkeypatch.setenv("NEWSARCHIVE_FINEWS_TEXT_URL", "http://127.0.0.1:9/text?id={info_code}")
    monkeypatch.setenv("NEWSARCHIVE_RETRY_TIMES", "0")
    with pytest.raises(jobs.JobFailedError):
        jobs.crawl_and_upload("finews", None)  # nothing listens on port 9: the crawl fails
    (record,) = [r for r in caplog.records if r.getMessage().startswith("news_crawl: no Iceberg catalog")]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert f"{tmp_path / 'staging'}/catalog.db" in message
    assert "'iceberg_default'" in message and "PYICEBERG_CATALOG__NEWSARCHIVE__" in message
    # the crawl's errors reach the task log at ERROR, then one line says how it ended and
    # where its full log is (on the worker: no WARC_URI)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(m.startswith("finews: ") and "List http://127.0.0.1:9/list unusable" in m for m in errors)
    (line,) = [m for m in errors if m.startswith("crawl finews failed in ")]
    log = Path(line.rsplit("; log ", 1)[1])
    assert log.is_file() and log.parent.parent == tmp_path / "staging" / "logs"
    assert "Spider closed" in log.read_text()
    # what the crawl printed (its warnings, its own summary line) is not echoed a second time
    assert "crawl finews: " not in capsys.readouterr().out


def test_a_crawl_that_dies_before_its_log_file_has_its_output_in_the_task_log(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NEWSARCHIVE_STAGING_DIR", str(tmp_path))
    code, summary, log, _ = jobs.run_logged("nosuch", ["crawl", "nosuch"], tmp_path, jobs.catalog_env())
    assert code == 2 and summary == {} and log is None
    assert "unknown spider 'nosuch'" in capsys.readouterr().out


def test_a_configured_catalog_gives_each_spider_its_own_working_directory(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("NEWSARCHIVE_STAGING_DIR", str(tmp_path))
    monkeypatch.setenv("PYICEBERG_CATALOG__NEWSARCHIVE__TYPE", "sql")
    monkeypatch.setenv("PYICEBERG_CATALOG__NEWSARCHIVE__URI", f"sqlite:///{tmp_path}/shared.db")
    catalog = jobs.catalog_env()
    assert catalog.origin == "pyiceberg" and catalog.env == {}
    cfg = jobs.JobConfig.load()
    assert cfg.workdir("finews", catalog) == tmp_path / "finews"
    assert cfg.workdir("eastmoney", catalog) == tmp_path / "eastmoney"


def test_warc_upload_refuses_the_catalogs_table_bucket(monkeypatch, tmp_path):
    from newsarchive.storage.base import StoreError

    monkeypatch.setenv("NEWSARCHIVE_WARC_URI", "s3://tables-bucket/warc")
    monkeypatch.setenv("AIRFLOW_CONN_ICEBERG_DEFAULT", json.dumps({"conn_type": "generic", "extra": PROPERTIES}))
    with pytest.raises(StoreError, match="never into a table bucket"):
        jobs.upload_warc_files(jobs.JobConfig.load(), jobs.catalog_env(), tmp_path)


@pytest.mark.parametrize(
    ("report", "warc", "base"),
    [
        ("s3://raw/report.html", "s3://raw/warc", ""),  # the demo: links "warc/date=…/x.warc.gz"
        ("s3://raw/reports/report.html", "s3://raw/raw/warc", "../raw"),
        ("s3://raw/reports/report.html", "s3://raw/warc", ".."),
        ("s3://raw/report.html", "s3://raw/captures", None),  # <WARC_URI>/<rest> is not under "warc/"
        ("s3://other/report.html", "s3://raw/warc", None),
        ("", "s3://raw/warc", None),
    ],
)
def test_the_reports_warc_links_follow_where_the_bucket_keeps_them(report, warc, base):
    assert jobs.report_link_base(report, warc) == base


# --- end to end: dag.test() against sample servers and SeaweedFS --------------------------


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """SeaweedFS with a plain bucket (WARC, report) and a table bucket behind its Iceberg
    REST catalog."""
    from newsarchive.samples.seaweed import SeaweedFS

    with SeaweedFS(tmp_path_factory.mktemp("lake"), bucket=RAW_BUCKET, table_bucket=TABLE_BUCKET) as server:
        yield server


class Deployment:
    """What a test reads back: the catalog (through pyiceberg) and the raw bucket."""

    def __init__(self, lake: Any, namespace: str, prefix: str) -> None:
        from pyiceberg.catalog import load_catalog

        self.catalog = load_catalog("newsarchive", **lake.catalog_properties)
        self.namespace = namespace
        self.raw = S3Store(f"s3://{RAW_BUCKET}/{prefix}", lake.config)
        self.report_key = "reports/report.html"

    def rows(self, table: str, *columns: str) -> list[dict[str, Any]]:
        t = self.catalog.load_table((self.namespace, table))
        return t.scan(selected_fields=columns or ("*",)).to_arrow().to_pylist()

    def summaries(self, table: str) -> list[dict[str, str]]:
        t = self.catalog.load_table((self.namespace, table))
        return [dict(s.summary.additional_properties) for s in t.snapshots() if s.summary]

    def warc_keys(self) -> list[str]:
        return sorted(o.key for o in self.raw.objects("warc/"))


@pytest.fixture
def deployment(monkeypatch, airflow_db, lake, sample_settings, tmp_path, request):
    """Configure the DAGs the way a deployment would: NEWSARCHIVE_* variables, an Airflow
    connection holding the catalog's properties and one holding the bucket's credentials."""
    cfg = lake.config
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {
                "conn_type": "aws",
                "login": cfg.access_key_id,
                "password": cfg.secret_access_key,
                "extra": {"endpoint_url": cfg.endpoint_url, "region_name": "us-east-1"},
            }
        ),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_ICEBERG_DEFAULT", json.dumps({"conn_type": "generic", "extra": lake.catalog_properties})
    )
    for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(k, raising=False)
    name = re.sub(r"[^a-z0-9]", "_", request.node.name.lower())[:40] + f"_{os.getpid()}"
    prefix = name.replace("_", "-")
    env = {
        "ICEBERG_NAMESPACE": name,
        "WARC_URI": f"s3://{RAW_BUCKET}/{prefix}/warc",
        "REPORT_URI": f"s3://{RAW_BUCKET}/{prefix}/reports/report.html",
        "STAGING_DIR": str(tmp_path / "staging"),
        "SPIDERS": "finews",
        "AIRFLOW_RETRY_DELAY_MINUTES": "0",
        **FAST,
        **sample_settings,
    }
    for key, value in env.items():
        monkeypatch.setenv(f"NEWSARCHIVE_{key}", str(value))
    return Deployment(lake, name, prefix)


CHARTS = ("articles-per-media", "feed-gaps", "quarantine-reasons", "run-durations", "run-requests")


def test_e2e_news_crawl_commits_to_the_rest_catalog_and_uploads_warc(deployment, sample_server, lake, caplog):
    d = deployment
    caplog.set_level(logging.INFO, logger="newsarchive.jobs")
    run = dagbag().get_dag("news_crawl").test()
    assert run.state == "success"
    articles = d.rows("articles", "source", "source_id", "dag_run_id", "warc_filename")
    assert len(articles) == 44 and {r["source"] for r in articles} == {"finews"}
    assert {r["dag_run_id"] for r in articles} == {run.run_id}
    (committed,) = d.summaries("articles")
    assert committed["newsarchive.dag-run-id"] == run.run_id and committed["newsarchive.run-id"]
    (run_row,) = d.rows("runs")
    assert run_row["status"] == "complete" and run_row["dag_run_id"] == run.run_id
    # every WARC file the run lists is in the plain bucket, under WARC_URI, with its SHA-256
    assert run_row["warc_files"]
    for f in run_row["warc_files"]:
        rest = f["path"].removeprefix("warc/")
        assert d.raw.recorded_sha256(f"warc/{rest}") == f["sha256"]
    assert {r["warc_filename"].removeprefix("warc/") for r in articles} <= {k[5:] for k in d.warc_keys()}
    # no row, no Parquet file outside the catalog: the plain bucket holds WARC and the report
    assert {o.key.split("/")[0] for o in d.raw.objects("")} == {"warc", "reports"}
    head = d.raw.client.head_object(Bucket=d.raw.bucket, Key=d.raw.key(d.report_key))
    assert head["ContentType"].startswith("text/html")
    report = d.raw.get_bytes(d.report_key).decode("utf-8")
    for chart in CHARTS:
        assert f'data-chart="{chart}" viewBox' in report, chart
    assert '"../warc/date=' in report  # its WARC links lead to the objects, relative to the report
    # the task log says how the crawl went in one line; the crawl's full log is in the bucket
    # beside the run's WARC files, secrets masked
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("crawl finews ")]
    log_key = f"warc/{crawllog.log_key(run_row['run_id'])}"
    assert line.startswith("crawl finews complete in ") and "44 articles, " in line and ", 0 errors" in line
    assert line.endswith(f"; log s3://{RAW_BUCKET}/{d.raw.prefix}/{log_key}"), line
    crawl_log = d.raw.get_bytes(log_key).decode("utf-8")
    assert "Spider closed (finished)" in crawl_log and run_row["run_id"] in crawl_log
    assert "INFO: Scrapy " in crawl_log.splitlines()[0]  # from its first line (not cut when Scrapy reopens it)
    for secret in (lake.config.secret_access_key, lake.catalog_properties["s3.secret-access-key"]):
        assert secret not in crawl_log
    texts = sample_server.count("/NewsData/GetNewsText.do")
    # a second run on a fresh worker (empty staging) asks the catalog: no text refetched
    shutil.rmtree(os.environ["NEWSARCHIVE_STAGING_DIR"])
    second = dagbag().get_dag("news_crawl").test()
    assert second.state == "success"
    assert sample_server.count("/NewsData/GetNewsText.do") == texts
    assert len(d.rows("articles", "source_id")) == 44
    assert sorted(r["articles_written"] for r in d.rows("runs", "articles_written")) == [0, 44]
    # STAGING_PRUNE: the WARC files left the worker once uploaded
    assert not list((Path(os.environ["NEWSARCHIVE_STAGING_DIR"]) / "finews").rglob("*.warc.gz"))


def test_e2e_a_partial_crawl_commits_what_it_got_then_fails_and_retries(deployment, feed_server, monkeypatch):
    from newsarchive.samples.feedserver import Reply

    code = "NW202201122245299970"
    record = {"infoCode": code, "medianame": "澎湃新闻", "datetime": "2022-01-12 15:51:41", "title": "标题"}
    feed_server.add("/ok?marketType=37", json.dumps({"record": [record]}).encode())
    feed_server.add("/down", Reply(status=503))
    feed_server.add(f"/text?id={code}", json.dumps({"text": "<p>正文</p>"}).encode())
    monkeypatch.setenv(
        "NEWSARCHIVE_FINEWS_LIST_URLS", f"{feed_server.url('/ok?marketType=37')},{feed_server.url('/down')}"
    )
    monkeypatch.setenv("NEWSARCHIVE_FINEWS_TEXT_URL", feed_server.url("/text?id={info_code}"))
    run = dagbag().get_dag("news_crawl").test()
    assert run.state == "failed"
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    assert tis["crawl"].try_number == 3  # the first try and two retries
    assert tis["report"].state == "success"  # it reports failures too
    d = deployment
    assert sorted(r["status"] for r in d.rows("runs", "status")) == ["partial"] * 3
    assert [r["source_id"] for r in d.rows("articles", "source_id")] == [code]  # once, not refetched
    assert ">partial<" in d.raw.get_bytes(d.report_key).decode("utf-8")


def test_e2e_news_compact_rewrites_the_tables_without_losing_a_row(deployment, feed_server, monkeypatch):
    def serve(codes: list[str]) -> None:
        records = [
            {"infoCode": c, "medianame": "澎湃新闻", "datetime": "2022-01-12 15:51:41", "title": f"标题{c}"}
            for c in codes
        ]
        feed_server.add("/l?marketType=37", json.dumps({"record": records}).encode())
        for c in codes:
            feed_server.add(f"/t?id={c}", json.dumps({"text": f"<p>{c}</p>"}).encode())

    monkeypatch.setenv("NEWSARCHIVE_FINEWS_LIST_URLS", feed_server.url("/l?marketType=37"))
    monkeypatch.setenv("NEWSARCHIVE_FINEWS_TEXT_URL", feed_server.url("/t?id={info_code}"))
    serve(["NW202201122245299970"])
    assert dagbag().get_dag("news_crawl").test().state == "success"
    serve(["NW202201122245299970", "NW202201122245299971"])
    assert dagbag().get_dag("news_crawl").test().state == "success"
    d = deployment
    before = Counter(r["source_id"] for r in d.rows("articles", "source_id"))
    table = d.catalog.load_table((d.namespace, "articles"))
    assert len(table.inspect.files()) == 2
    run = dagbag().get_dag("news_compact").test()
    assert run.state == "success"
    assert Counter(r["source_id"] for r in d.rows("articles", "source_id")) == before
    table = d.catalog.load_table((d.namespace, "articles"))
    assert len(table.inspect.files()) == 1
    assert d.summaries("articles")[-1].get("newsarchive.operation") == "compact"


def test_news_backfill_refuses_finews_clearly(deployment):
    run = dagbag().get_dag("news_backfill").test(run_conf={"spider": "finews", "since": "2022-01-01"})
    assert run.state == "failed"
    (ti,) = run.get_task_instances()
    assert ti.try_number == 1  # a request that cannot work is not retried


def test_e2e_news_backfill_pages_thepaper_back_in_time(deployment, feed_server, monkeypatch):
    from tests.sites import small_site

    site = small_site(feed_server, pages=5)  # one article a day, 2022-01-12 back to 2022-01-08
    for name, value in {**site.settings(), "THEPAPER_HOT": "False"}.items():
        monkeypatch.setenv(f"NEWSARCHIVE_{name}", str(value))
    run = (
        dagbag()
        .get_dag("news_backfill")
        .test(run_conf={"spider": "thepaper", "since": "2022-01-10", "until": "2022-01-11"})
    )
    assert run.state == "success"
    d = deployment
    from newsarchive.timeparse import beijing_date

    days = sorted(beijing_date(r["published_at"]).isoformat() for r in d.rows("articles", "published_at"))
    assert days == ["2022-01-10", "2022-01-11"]
    (run_row,) = d.rows("runs", "dag_run_id", "spider")
    assert run_row == {"dag_run_id": run.run_id, "spider": "thepaper"}


def test_e2e_news_crawl_runs_one_mapped_task_per_spider_into_one_catalog(deployment, feed_server, monkeypatch):
    from newsarchive.samples.eastmoney_site import install_eastmoney

    for name, value in install_eastmoney(feed_server).items():
        monkeypatch.setenv(f"NEWSARCHIVE_{name}", str(value))
    monkeypatch.setenv("NEWSARCHIVE_SPIDERS", "finews,eastmoney")
    run = dagbag().get_dag("news_crawl").test()
    assert run.state == "success"
    tis = [ti for ti in run.get_task_instances() if ti.task_id == "crawl"]
    assert sorted(ti.map_index for ti in tis) == [0, 1]
    d = deployment
    assert Counter(r["source"] for r in d.rows("articles", "source")) == {"eastmoney": 44, "finews": 44}
    assert sorted(r["spider"] for r in d.rows("runs", "spider")) == ["eastmoney", "finews"]
    # with a shared catalog, each task had its own working directory
    staging = Path(os.environ["NEWSARCHIVE_STAGING_DIR"])
    assert sorted(p.name for p in staging.iterdir()) == ["eastmoney", "finews"]
    report = d.raw.get_bytes(d.report_key).decode("utf-8")
    assert ">eastmoney<" in report and ">finews<" in report


def test_e2e_demo_commits_every_spider_to_one_sqlite_catalog_the_readers_open(tmp_path):
    """``make demo``: the DAG's mapped crawls share ONE SQLite catalog in --archive, the very one
    ``newsarchive sql --archive DIR`` opens when nothing is configured."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    # as on a fresh machine: no AIRFLOW_* or AWS_* variable at all (the demo sets its own)
    env = {
        k: v
        for k, v in clean_env(HOME=str(home), PYICEBERG_HOME=str(home)).items()
        if not k.startswith(("AWS_", "AIRFLOW"))
    }
    archive = tmp_path / "archive"
    demo = subprocess.run(
        [sys.executable, "-m", "newsarchive", "demo", "--archive", str(archive)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "warc/date=" in demo.stdout and "report.html" in demo.stdout  # what landed in the bucket
    assert (archive / "catalog.db").is_file()
    from newsarchive.tables.catalog import resolve

    spec = resolve(str(archive))
    assert spec.embedded
    runs = spec.open().load_table((spec.namespace, "runs")).scan().to_arrow()
    assert sorted(runs["spider"].to_pylist()) == ["eastmoney", "finews", "thepaper"]
    sql = subprocess.run(
        [sys.executable, "-m", "newsarchive", "sql", "--archive", str(archive), "SELECT DISTINCT source FROM articles"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert sql.returncode == 0, sql.stderr[-3000:]
    for source in ("eastmoney", "finews", "thepaper"):
        assert source in sql.stdout
