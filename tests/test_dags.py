"""The Airflow DAGs: integrity, and real end-to-end runs with dag.test() on SQLite against the
local feed server and SeaweedFS."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest

from newsarchive.storage.store import S3Store
from tests.conftest import FAST, ROOT, clean_env

DAGS = ROOT / "dags"


def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


@pytest.fixture
def airflow_env(monkeypatch, airflow_db, seaweed, bucket_uri, sample_settings, tmp_path):
    """Configure the DAGs the way a deployment would: NEWSARCHIVE_* variables and an Airflow
    connection holding the object-store endpoint and credentials."""
    cfg = seaweed.config
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
    for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(k, raising=False)
    env = {
        "UPLOAD_URI": bucket_uri,
        "STAGING_DIR": str(tmp_path / "staging"),
        "SPIDERS": "finews",
        "AIRFLOW_RETRY_DELAY_MINUTES": "0",
        **FAST,
        **sample_settings,
    }
    for name, value in env.items():
        monkeypatch.setenv(f"NEWSARCHIVE_{name}", str(value))
    return S3Store(bucket_uri, cfg)


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
            assert t.pool == "newsarchive"
    crawl = bag.get_dag("news_crawl")
    assert crawl.schedule == "*/30 * * * *"
    assert [o.uri for o in crawl.get_task("crawl").outlets] == ["file:///tmp/newsarchive-staging"]
    assert bag.get_dag("news_backfill").schedule is None
    assert bag.get_dag("news_compact").get_task("compact").pool_slots == 4


def test_dag_files_are_light_at_import():
    code = (
        "import sys, runpy; sys.path.insert(0, %r); runpy.run_path(%r); "
        "print(sorted(m for m in ('scrapy', 'pyarrow', 'boto3', 'duckdb', 'lxml', 'pandas') if m in sys.modules))"
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


def test_schedule_and_spiders_come_from_the_environment(airflow_db, monkeypatch):
    monkeypatch.setenv("NEWSARCHIVE_SCHEDULE", "@hourly")
    monkeypatch.setenv("NEWSARCHIVE_UPLOAD_URI", "s3://bucket/prefix")
    monkeypatch.setenv("NEWSARCHIVE_COMPACT_SCHEDULE", "asset")
    bag = dagbag()
    assert bag.get_dag("news_crawl").schedule == "@hourly"
    assert [o.uri for o in bag.get_dag("news_crawl").get_task("crawl").outlets] == ["s3://bucket/prefix/articles"]
    assert "Asset" in type(bag.get_dag("news_compact").timetable).__name__
    assert bag.get_dag("news_compact").get_task("compact").pool_slots == 4


def data_keys(store: S3Store) -> set[str]:
    """Parquet data and index: what a rerun over unchanged feeds must not add to (each run
    still records its manifest and the raw list responses it saw, in runs/ and warc/)."""
    return {o.key for o in store.objects("") if not o.key.startswith(("runs/", "warc/")) and o.key != "report.html"}


CHARTS = ("articles-per-media", "feed-gaps", "quarantine-reasons", "run-durations", "run-requests")


def test_news_crawl_end_to_end(airflow_env, sample_server):
    store = airflow_env
    run = dagbag().get_dag("news_crawl").test()
    assert run.state == "success"
    keys = data_keys(store)
    assert any(k.startswith("articles/source=finews/date=2022-01-12/") for k in keys)
    assert any(k.startswith("index/articles/source=finews/") for k in keys)
    assert any(k.startswith("index/quarantine/source=finews/") for k in keys)
    dataset = __import__("newsarchive.archive.reader", fromlist=["x"])
    import os

    os.environ.update(store.config.env())
    try:
        table = dataset.open_dataset(store.uri).to_table()
    finally:
        for k in store.config.env():
            os.environ.pop(k, None)
    assert table.num_rows == 44
    assert set(table["dag_run_id"].to_pylist()) == {run.run_id}
    con = duckdb.connect()
    con.register("articles", table)
    rows = con.execute("SELECT count(*) FROM articles WHERE media_slug = 'pengpaixinwen'").fetchall()
    assert rows == [(1,)]
    # the last task wrote the health report beside the data, every chart with data in it
    head = store.client.head_object(Bucket=store.bucket, Key=store.key("report.html"))
    assert head["ContentType"].startswith("text/html")
    report = store.get_bytes("report.html").decode("utf-8")
    for chart in CHARTS:
        assert f'data-chart="{chart}" viewBox' in report, chart
    assert 'data-empty="true"' not in report
    (manifest,) = [o.key for o in store.objects("runs/")]
    assert f'href="{manifest}"' in report  # links relative to the report's place in the bucket
    texts = sample_server.count("/NewsData/GetNewsText.do")
    # a second run (a fresh worker: empty staging) uploads no new data and fetches no text
    import shutil

    shutil.rmtree(os.environ["NEWSARCHIVE_STAGING_DIR"])
    second = dagbag().get_dag("news_crawl").test()
    assert second.state == "success"
    assert data_keys(store) == keys
    assert sample_server.count("/NewsData/GetNewsText.do") == texts
    manifests = [json.loads(store.get_bytes(o.key)) for o in store.objects("runs/")]
    assert sorted(m["counts"]["articles_written"] for m in manifests) == [0, 44]
    assert not any(
        p.suffix == ".parquet"
        for p in (__import__("pathlib").Path(os.environ["NEWSARCHIVE_STAGING_DIR"]) / "finews" / "articles").rglob("*")
    )


def test_a_partial_crawl_uploads_what_it_got_then_fails_and_retries(airflow_env, feed_server, monkeypatch):
    from newsarchive.feedserver import Reply

    code = "NW202201122245299970"
    feed_server.add(
        "/ok?marketType=37",
        json.dumps(
            {
                "record": [
                    {"infoCode": code, "medianame": "澎湃新闻", "datetime": "2022-01-12 15:51:41", "title": "标题"}
                ]
            }
        ).encode(),
    )
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
    store = airflow_env
    manifests = [json.loads(store.get_bytes(o.key)) for o in store.objects("runs/")]
    assert sorted(m["status"] for m in manifests) == ["partial"] * 3
    assert sum(m["counts"]["articles_written"] for m in manifests) == 1  # archived once, not refetched
    assert any(k.startswith("articles/") for k in data_keys(store))
    assert ">partial<" in store.get_bytes("report.html").decode("utf-8")


def test_news_compact_end_to_end(airflow_env, feed_server, monkeypatch):
    store = airflow_env

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
    partition = "articles/source=finews/date=2022-01-12/"
    assert len([o for o in store.objects(partition)]) == 2
    run = dagbag().get_dag("news_compact").test(run_conf={"since": "2022-01-01", "until": "2022-01-31"})
    assert run.state == "success"
    parts = [o.key for o in store.objects(partition)]
    assert len(parts) == 1 and "part-compact-" in parts[0]
    from newsarchive.storage.verify import verify_store

    assert verify_store(store, deep=True).ok
    assert len(list(store.objects("compactions/"))) == 1


def test_news_backfill_refuses_finews_clearly(airflow_env):
    run = dagbag().get_dag("news_backfill").test(run_conf={"spider": "finews", "since": "2022-01-01"})
    assert run.state == "failed"
    (ti,) = run.get_task_instances()
    assert ti.try_number == 1  # a request that cannot work is not retried


def test_news_backfill_pages_thepaper_back_in_time(airflow_env, feed_server, monkeypatch):
    from tests.test_thepaper import small_site

    site = small_site(feed_server, pages=5)  # one article a day, 2022-01-12 back to 2022-01-08
    for name, value in {**site.settings(), "THEPAPER_HOT": "False"}.items():
        monkeypatch.setenv(f"NEWSARCHIVE_{name}", str(value))
    run = (
        dagbag()
        .get_dag("news_backfill")
        .test(run_conf={"spider": "thepaper", "since": "2022-01-10", "until": "2022-01-11"})
    )
    assert run.state == "success"
    store = airflow_env
    days = sorted(o.key.split("/")[2] for o in store.objects("articles/source=thepaper/"))
    assert days == ["date=2022-01-10", "date=2022-01-11"]
    (manifest,) = [json.loads(store.get_bytes(o.key)) for o in store.objects("runs/")]
    assert manifest["dag_run_id"] == run.run_id and manifest["spider"] == "thepaper"


def test_news_crawl_runs_one_mapped_task_per_spider(airflow_env, feed_server, monkeypatch):
    from newsarchive.eastmoney_site import install_eastmoney

    for name, value in install_eastmoney(feed_server).items():
        monkeypatch.setenv(f"NEWSARCHIVE_{name}", str(value))
    monkeypatch.setenv("NEWSARCHIVE_SPIDERS", "finews,eastmoney")
    run = dagbag().get_dag("news_crawl").test()
    assert run.state == "success"
    tis = [ti for ti in run.get_task_instances() if ti.task_id == "crawl"]
    assert sorted(ti.map_index for ti in tis) == [0, 1]
    store = airflow_env
    manifests = [json.loads(store.get_bytes(o.key)) for o in store.objects("runs/")]
    assert sorted((m["spider"], m["counts"]["articles_written"]) for m in manifests) == [
        ("eastmoney", 44),
        ("finews", 44),
    ]
    assert {k.split("/")[1] for k in data_keys(store) if k.startswith("articles/")} == {
        "source=eastmoney",
        "source=finews",
    }
    # the report covers both sources
    report = store.get_bytes("report.html").decode("utf-8")
    assert ">eastmoney<" in report and ">finews<" in report
