"""Run the main job on embedded defaults: the news_crawl DAG, once, through real Airflow.

Starts the bundled sample feeds (the infoCode feeds, built from real posts of the original
site, an East Money look-alike listing the same articles, and a thepaper.cn look-alike
around its real hot list) and an embedded SeaweedFS (S3)
on 127.0.0.1; points the DAG (one mapped crawl task per spider) at them with NEWSARCHIVE_*
variables and an Airflow connection, as a deployment would; runs it with ``dag.test()`` on a
SQLite metadata database; then shows what landed in the bucket: the objects, rows per source,
media and day, the quarantine, and a DuckDB query over the uploaded Parquet. The local
staging archives stay in --archive for a look around. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsarchive.storage.s3 import S3Config

BUCKET, PREFIX = "newsarchive", "archive"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--archive", default="./archive", help="local staging archive (kept after the demo)")


def run(args: argparse.Namespace) -> int:
    import warnings

    from newsarchive.eastmoney_site import install_eastmoney
    from newsarchive.feedserver import FeedServer, install_finews
    from newsarchive.seaweed import SeaweedFS
    from newsarchive.thepaper_site import install_thepaper

    # Airflow's API server imports starlette's test client, which warns about httpx: noise here.
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    staging = Path(args.archive).resolve()
    home = Path(tempfile.mkdtemp(prefix="newsarchive-demo-airflow-"))
    with FeedServer() as feeds, SeaweedFS(bucket=BUCKET) as s3:
        print(f"Sample feeds on {feeds.url()}; SeaweedFS S3 on {s3.endpoint}", flush=True)
        cfg = s3.config
        os.environ.update(
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_FOLDER=str(Path(__file__).resolve().parents[2] / "dags"),
            AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
            AIRFLOW_CONN_AWS_DEFAULT=json.dumps(
                {
                    "conn_type": "aws",
                    "login": cfg.access_key_id,
                    "password": cfg.secret_access_key,
                    "extra": {"endpoint_url": cfg.endpoint_url, "region_name": "us-east-1"},
                }
            ),
            NEWSARCHIVE_UPLOAD_URI=f"s3://{BUCKET}/{PREFIX}",
            NEWSARCHIVE_STAGING_DIR=str(staging),
            NEWSARCHIVE_STAGING_PRUNE="false",
            NEWSARCHIVE_SPIDERS="finews,thepaper,eastmoney",
            NEWSARCHIVE_AUTOTHROTTLE_ENABLED="false",
            NEWSARCHIVE_LOG_LEVEL="WARNING",
        )
        sites = {**install_finews(feeds), **install_thepaper(feeds), **install_eastmoney(feeds)}
        for name, value in sites.items():
            os.environ[f"NEWSARCHIVE_{name}"] = str(value)
        from airflow.dag_processing.dagbag import DagBag
        from airflow.utils import db

        db.initdb()
        dag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"]).get_dag("news_crawl")
        print("\nRunning the news_crawl DAG (dag.test, SQLite metadata)...", flush=True)
        dag_run = dag.test()
        print(f"\nDAG run {dag_run.run_id}: {dag_run.state}")
        show_bucket(cfg)
        show_report(cfg, staging)
    shutil.rmtree(home, ignore_errors=True)
    return 0 if dag_run.state == "success" else 1


def show_report(cfg: S3Config, staging: Path) -> None:
    """The DAG's last task put the health report in the bucket; write the same report from
    the local staging archives (its links then open locally) and show the SQL command."""
    from newsarchive.analytics.report import build_report
    from newsarchive.analytics.views import connect
    from newsarchive.storage.store import S3Store

    uploaded = S3Store(f"s3://{BUCKET}/{PREFIX}", cfg).get_bytes("report.html")
    local = staging / "report.html"
    local.write_text(build_report(str(staging)), encoding="utf-8")
    print(f"\nHealth report: s3://{BUCKET}/{PREFIX}/report.html ({len(uploaded):,} bytes, written by the DAG)")
    print(f"  and a local copy: {local}  (open it in a browser; it needs no network)")
    query = "SELECT source, status, count(*) AS runs, sum(requests) AS requests FROM runs GROUP BY ALL"
    print(f'\nSQL over the archive: newsarchive sql "{query}" --archive {staging}')
    for row in connect(str(staging)).execute(query).fetchall():
        print("  " + "  ".join(str(v) for v in row))


def show_bucket(cfg: S3Config) -> None:
    import duckdb

    from newsarchive.archive.reader import open_dataset
    from newsarchive.cli.summary import pad
    from newsarchive.storage.store import S3Store

    store = S3Store(f"s3://{BUCKET}/{PREFIX}", cfg)
    objects = list(store.objects(""))
    print(f"\nObjects in s3://{BUCKET}/{PREFIX}/ ({len(objects)}):")
    for obj in objects:
        print(f"  {obj.key}  ({obj.size} bytes)")
    uri = f"s3://{BUCKET}/{PREFIX}"
    dataset = open_dataset(uri, "articles", cfg)
    con = duckdb.connect()
    con.register("articles", dataset)
    rows = con.execute("""SELECT CAST(date AS VARCHAR), coalesce(media_name, '(unknown)'), count(*)
                          FROM articles GROUP BY ALL ORDER BY 1, 2""").fetchall()
    by_source = con.execute("SELECT CAST(source AS VARCHAR), count(*) FROM articles GROUP BY 1 ORDER BY 1").fetchall()
    print("\nRows per source: " + ", ".join(f"{s} {n}" for s, n in by_source))
    print(f"\nRows per media and day in the bucket ({sum(r[2] for r in rows)}):")
    for day, media, n in rows:
        print(f"  {day}  {pad(media, 24)} {n:>4}")
    quarantine = open_dataset(uri, "quarantine", cfg)
    con.register("quarantine", quarantine)
    rows = con.execute("SELECT reason, info_code_raw, detail FROM quarantine ORDER BY reason").fetchall()
    print(f"\nQuarantined records ({len(rows)}):")
    for reason, code, detail in rows:
        print(f"  {reason:<18} {code or '':<22} {detail}")
    print("\nDuckDB over the bucket: SELECT media_name, title, published_at FROM articles WHERE title LIKE '%数据%'")
    for media, title, published in con.execute(
        "SELECT media_name, title, published_at FROM articles WHERE title LIKE '%数据%' ORDER BY published_at"
    ).fetchall():
        print(f"  {published:%Y-%m-%d %H:%M} UTC  {media}  {title}")
