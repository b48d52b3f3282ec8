"""The DAGs under a real Airflow scheduler, as a fresh deployment runs them.

``dag.test()`` (tests/test_dags.py) runs a DAG in one process and ignores pools, so it never
saw the first scheduled run stall on a missing pool. Here Airflow 3 runs for real
(tests/airflow_stack.py: scheduler, DAG processor and API server, LocalExecutor, SQLite, our
``dags/`` folder untouched) against the local sample feeds and a real SeaweedFS: S3 for the
WARC files and the report, its Iceberg REST catalog for the tables. The deployment gives only
environment variables (``NEWSARCHIVE_*``, ``AIRFLOW_CONN_*``): no pool, connection or variable
is created in Airflow. The test unpauses ``news_crawl``, waits (bounded) for the run the
scheduler creates to succeed, then reads back what it wrote, and prints where the run spent
its time (also written to ``$NEWSARCHIVE_SCHEDULER_TIMINGS`` when set).

A second run uses deploy/docker-compose.yaml's own environment (its ``${VAR:-default}``
defaults, its hosts rewritten to local servers): Postgres for Airflow's metadata and the SQL
catalog, SeaweedFS in MinIO's place, ``newsarchive serve-samples`` as its ``samples`` service.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsarchive.samples.eastmoney_site import install_eastmoney
from newsarchive.samples.feedserver import FeedServer
from newsarchive.storage.store import S3Store
from tests.airflow_stack import AirflowStack, StackError, free_port, log_times, parse_time
from tests.helpers import ROOT

RAW_BUCKET, TABLE_BUCKET = "raw", "tables"
#: the whole DAG run, from unpausing to success (30-40 s here; about 2 minutes was seen on a
#: loaded machine); start-up (STARTUP_TIMEOUT) and parsing (90 s) have their own bounds, all
#: three within pytest's 600 s per test.
RUN_TIMEOUT = 240
STARTUP_TIMEOUT = 180


def wall(monotonic: float) -> datetime:
    """A ``time.monotonic()`` reading (FeedServer's request times) as wall-clock time."""
    return datetime.fromtimestamp(time.time() - (time.monotonic() - monotonic), UTC)


def aws_connection(lake: Any) -> str:
    cfg = lake.config
    return json.dumps(
        {
            "conn_type": "aws",
            "login": cfg.access_key_id,
            "password": cfg.secret_access_key,
            "extra": {"endpoint_url": cfg.endpoint_url, "region_name": "us-east-1"},
        }
    )


def first_scheduled_run(af: AirflowStack, dag_id: str = "news_crawl") -> dict[str, Any]:
    """Unpause ``dag_id`` and wait for the run the scheduler creates (catchup off: the latest
    tick of its schedule) to finish; the run as the API gives it, plus ``unpaused_at``."""
    af.wait_for(f"the DAG processor to parse {dag_id}", lambda: af.dag(dag_id), 90)
    assert af.import_errors() == []
    unpaused = datetime.now(UTC)
    af.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def finished() -> dict[str, Any] | None:
        runs = af.dag_runs(dag_id)
        return runs[0] if runs and runs[0]["state"] in ("success", "failed") else None

    run = af.wait_for(f"the first {dag_id} run to finish", finished, RUN_TIMEOUT, 1.0)
    run["unpaused_at"] = unpaused.isoformat()
    return run


def triggered_run(af: AirflowStack, dag_id: str = "news_crawl") -> dict[str, Any]:
    """Trigger a run through the REST API (as an operator's button does) and wait for it."""
    triggered = datetime.now(UTC)
    run_id = af.api("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None})["dag_run_id"]

    def finished() -> dict[str, Any] | None:
        run = af.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        return run if run["state"] in ("success", "failed") else None

    run = af.wait_for(f"the triggered {dag_id} run to finish", finished, RUN_TIMEOUT, 1.0)
    run["unpaused_at"] = triggered.isoformat()  # the timeline's start
    return run


def task_log(af: AirflowStack, run_id: str, task_id: str, map_index: int = -1, attempt: int = 1) -> Path:
    mapped = f"map_index={map_index}/" if map_index >= 0 else ""
    return af.logs / f"dag_id=news_crawl/run_id={run_id}/task_id={task_id}/{mapped}attempt={attempt}.log"


#: log lines that mark a step of the crawl task (the first match of each)
CRAWL_MARKS = {
    "subprocess started": r"^Running newsarchive crawl ",
    "spider opened": r"\[scrapy\.core\.engine\] INFO: Spider opened",
    "catalog open": r"\[newsarchive\.extensions\.archiverun\] INFO: Run \S+: catalog",
    "crawl closing": r"\[scrapy\.core\.engine\] INFO: Closing spider",
    "committed": r"\[newsarchive\.extensions\.archiverun\] INFO: Run \S+ \w+: ",
    "crawl exited": r'^\{"status": ',
    "upload done": r"^WARC upload from ",
}


def timeline(af: AirflowStack, run: dict[str, Any], feeds: FeedServer | None) -> list[tuple[str, datetime]]:
    """Where the run spent its time: the API's times of the run and its task instances, the
    crawl task's log lines, the sample server's first and last request."""
    tis = {(ti["task_id"], ti["map_index"]): ti for ti in af.task_instances("news_crawl", run["dag_run_id"])}
    crawl, report = tis[("crawl", 0)], tis.get(("report", -1))
    marks: list[tuple[str, datetime | None]] = [
        ("unpaused", parse_time(run["unpaused_at"])),
        ("DAG run queued", parse_time(run["queued_at"])),
        ("crawl task queued", parse_time(crawl["queued_when"])),
        ("crawl task started", parse_time(crawl["start_date"])),
    ]
    lines = task_log(af, run["dag_run_id"], "crawl", 0).read_text(errors="replace").splitlines()
    found = log_times(lines, CRAWL_MARKS)
    if feeds is not None and feeds.received:
        found["first request"] = wall(min(r.at for r in feeds.received))
        found["last request"] = wall(max(r.at for r in feeds.received))
    marks += sorted(found.items(), key=lambda kv: kv[1])
    marks.append(("crawl task ended", parse_time(crawl["end_date"])))
    if report:
        marks += [
            ("report started", parse_time(report["start_date"])),
            ("report ended", parse_time(report["end_date"])),
        ]
    marks.append(("DAG run ended", parse_time(run["end_date"])))
    return [(name, at) for name, at in marks if at is not None]


def show_timeline(name: str, marks: list[tuple[str, datetime]], startup: Mapping[str, float]) -> str:
    start = marks[0][1]
    rows = [f"{name}: stack start-up " + (", ".join(f"{k} {v:.1f} s" for k, v in startup.items()) or "-")]
    previous = start
    for label, at in marks:
        rows.append(
            f"  {label:<22} +{(at - start).total_seconds():6.1f} s  (step {(at - previous).total_seconds():5.1f} s)"
        )
        previous = at
    text = "\n".join(rows)
    out = os.environ.get("NEWSARCHIVE_SCHEDULER_TIMINGS")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(text + "\n")
    print(text)  # the measurement this test exists for, shown with -s
    return text


def assert_nothing_created(af: AirflowStack) -> None:
    """A deployment gives environment variables only: Airflow holds no pool but its default,
    no connection, no variable."""
    assert [p["name"] for p in af.api("GET", "/pools")["pools"]] == ["default_pool"]
    assert af.api("GET", "/connections")["total_entries"] == 0
    assert af.api("GET", "/variables")["total_entries"] == 0


def assert_crawl_landed(
    af: AirflowStack, run: dict[str, Any], catalog: Any, namespace: str, raw: S3Store, report_key: str
) -> dict[str, int]:
    """The articles in the catalog's tables, the WARC files in the bucket, the report, the
    task logs; returns the articles per source."""
    run_id = run["dag_run_id"]
    articles = catalog.load_table((namespace, "articles")).scan(
        selected_fields=("source", "source_id", "dag_run_id", "warc_filename")
    )
    rows = articles.to_arrow().to_pylist()
    assert rows and {r["dag_run_id"] for r in rows} == {run_id}
    runs = catalog.load_table((namespace, "runs")).scan().to_arrow().to_pylist()
    assert runs and {r["status"] for r in runs} == {"complete"}
    keys = {o.key for o in raw.objects("warc/")}
    for r in runs:
        for f in r["warc_files"]:
            assert f"warc/{f['path'].removeprefix('warc/')}" in keys, f["path"]
    assert {f"warc/{r['warc_filename'].removeprefix('warc/')}" for r in rows} <= keys
    report = raw.get_bytes(report_key).decode("utf-8")
    assert "<html" in report.lower()
    tis = af.task_instances("news_crawl", run_id)
    for ti in tis:
        if ti["state"] == "success":
            log = task_log(af, run_id, ti["task_id"], ti["map_index"], ti["try_number"])
            assert log.is_file() and log.stat().st_size > 0, log
    assert {ti["task_id"]: ti["state"] for ti in tis} == {
        "crawl": "success",
        "report": "success",
        "crawls_failed": "skipped",
    }
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["source"]] = counts.get(r["source"], 0) + 1
    return counts


# --- what a deployment has not configured, said in one line each (fast, in-process) ------


@pytest.fixture
def bare_deployment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No NEWSARCHIVE_* setting, no Airflow connection, no AWS variable."""
    for name in list(os.environ):
        if name.startswith(("NEWSARCHIVE_", "AIRFLOW_CONN_", "AWS_", "PYICEBERG_CATALOG")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NEWSARCHIVE_STAGING_DIR", str(tmp_path))
    return tmp_path


def test_a_deployment_without_warc_uri_report_uri_or_aws_connection_is_told_so(bare_deployment, monkeypatch):
    from newsarchive import jobs

    notes = jobs.deployment_notes(jobs.JobConfig.load())
    assert len(notes) == 2 and all("\n" not in n for n in notes)
    (warc,) = [n for n in notes if "NEWSARCHIVE_WARC_URI is not set" in n]
    assert str(bare_deployment) in warc
    (report,) = [n for n in notes if "NEWSARCHIVE_REPORT_URI is not set" in n]
    assert str(bare_deployment / "report.html") in report
    monkeypatch.setenv("NEWSARCHIVE_WARC_URI", "s3://raw/warc")
    monkeypatch.setenv("NEWSARCHIVE_REPORT_URI", "s3://raw/report.html")
    (aws,) = jobs.deployment_notes(jobs.JobConfig.load())
    assert "no Airflow connection 'aws_default'" in aws and "standard AWS chain" in aws
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "login": "k", "password": "s"}))
    assert jobs.deployment_notes(jobs.JobConfig.load()) == []


def test_the_first_crawl_task_logs_what_is_missing_before_it_crawls(bare_deployment, monkeypatch, caplog):
    from newsarchive import jobs

    monkeypatch.setenv("NEWSARCHIVE_FINEWS_LIST_URLS", "http://127.0.0.1:9/list")
    monkeypatch.setenv("NEWSARCHIVE_FINEWS_TEXT_URL", "http://127.0.0.1:9/text?id={info_code}")
    monkeypatch.setenv("NEWSARCHIVE_RETRY_TIMES", "0")
    caplog.set_level(logging.INFO)
    with pytest.raises(jobs.JobFailedError):  # nothing listens on port 9
        jobs.crawl_and_upload("finews", None)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("embedded SQLite catalog" in m for m in warnings)
    assert any("NEWSARCHIVE_WARC_URI is not set" in m for m in warnings)
    assert any("NEWSARCHIVE_REPORT_URI is not set" in m for m in warnings)
    first_crawl_line = next(
        i for i, r in enumerate(caplog.records) if r.getMessage().startswith("Running newsarchive crawl")
    )
    assert all(i < first_crawl_line for i, r in enumerate(caplog.records) if r.getMessage().startswith("news_crawl: "))


def test_when_no_listed_spider_can_run_the_dag_processor_says_the_runs_crawl_nothing(
    bare_deployment, monkeypatch, caplog
):
    from newsarchive import jobs

    monkeypatch.setenv("NEWSARCHIVE_SPIDERS", "finews")
    caplog.set_level(logging.WARNING)
    assert jobs.scheduled_spiders() == []
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("news_crawl: not scheduling finews") for m in messages)
    assert any(m.startswith("news_crawl: no spider to crawl") and "finews" in m for m in messages)


# --- a fresh deployment --------------------------------------------------------------------


@pytest.mark.slow
def test_a_fresh_deployment_runs_news_crawl_under_the_real_scheduler(tmp_path: Path) -> None:
    from pyiceberg.catalog import load_catalog

    from newsarchive.samples.seaweed import SeaweedFS

    (tmp_path / "lake").mkdir()
    with (
        SeaweedFS(tmp_path / "lake", bucket=RAW_BUCKET, table_bucket=TABLE_BUCKET) as lake,
        FeedServer() as feeds,
    ):
        # eastmoney (the default spider) on the sample site; finews listed but not configured
        # (it ships no hosts): the DAG processor's log must say why it is not scheduled
        sample = install_eastmoney(feeds)
        env = {
            "AIRFLOW_CONN_AWS_DEFAULT": aws_connection(lake),
            "AIRFLOW_CONN_ICEBERG_DEFAULT": json.dumps({"conn_type": "generic", "extra": lake.catalog_properties}),
            "NEWSARCHIVE_WARC_URI": f"s3://{RAW_BUCKET}/warc",
            "NEWSARCHIVE_REPORT_URI": f"s3://{RAW_BUCKET}/reports/report.html",
            "NEWSARCHIVE_STAGING_DIR": str(tmp_path / "staging"),
            "NEWSARCHIVE_SPIDERS": "eastmoney,finews",
            **{f"NEWSARCHIVE_{k}": str(v) for k, v in sample.items()},
        }
        with AirflowStack(tmp_path / "airflow", env=env, startup_timeout=STARTUP_TIMEOUT) as af:
            run = first_scheduled_run(af)
            if run["state"] != "success":
                raise StackError(f"news_crawl ended {run['state']}\n{af.tails()}")
            assert run["run_type"] == "scheduled"
            show_timeline("fresh deployment", timeline(af, run, feeds), af.timings)
            catalog = load_catalog("newsarchive", **lake.catalog_properties)
            raw = S3Store(f"s3://{RAW_BUCKET}", lake.config)
            counts = assert_crawl_landed(af, run, catalog, "newsarchive", raw, "reports/report.html")
            assert set(counts) == {"eastmoney"}
            assert_nothing_created(af)
            crawl_log = task_log(af, run["dag_run_id"], "crawl", 0).read_text()
            assert "embedded SQLite" not in crawl_log  # the connection's catalog was used
            said = {
                json.loads(line)["event"].split(":")[1].strip()
                for line in crawl_log.splitlines()
                if '"news_crawl: ' in line
            }
            assert said == {"not scheduling finews"}  # from the worker's parse; nothing else is missing
            parsed = (af.logs / "dag_processor").rglob("news_crawl.py.log")
            assert any("news_crawl: not scheduling finews" in p.read_text() for p in parsed)
            # a second run, triggered by hand on the warm deployment: nothing new to archive
            feeds.received.clear()
            second = triggered_run(af)
            if second["state"] != "success":
                raise StackError(f"the triggered news_crawl ended {second['state']}\n{af.tails()}")
            assert second["run_type"] == "manual"
            show_timeline("second run (triggered)", timeline(af, second, feeds), {})
            runs = catalog.load_table(("newsarchive", "runs")).scan().to_arrow().to_pylist()
            written = {r["dag_run_id"]: r["articles_written"] for r in runs}
            ours = {run["dag_run_id"]: counts["eastmoney"], second["dag_run_id"]: 0}
            assert {k: v for k, v in written.items() if k in ours} == ours
            # the clock may pass the next interval meanwhile: the scheduler then starts that run
            # too, as it should, and it finds nothing new either
            later = {k: v for k, v in written.items() if k not in ours}
            assert all(k.startswith("scheduled__") and v == 0 for k, v in later.items()), later


# --- the compose file's environment --------------------------------------------------------

DEPLOY = ROOT / "deploy"
#: the compose file's service hosts, each to be rewritten to a local server
SERVICE_HOSTS = re.compile(r"(?://|@)(postgres|minio|samples|airflow-apiserver)\b")


def require_postgres() -> Path:
    from tests.airflow_stack import postgres_bindir

    bindir = postgres_bindir()
    if bindir is None or (os.geteuid() == 0 and not shutil.which("runuser")):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install the Debian package `postgresql` (.ci/run) for the compose-environment run")
        pytest.skip("PostgreSQL server binaries are not installed (Debian package `postgresql`)")
    return bindir


def interpolated(value: Any) -> Any:
    from tests.airflow_stack import interpolate

    if isinstance(value, list):
        return [interpolate(str(v), {}) for v in value]
    return interpolate(str(value), {}) if isinstance(value, str) else value


def start_samples(entrypoint: list[str], port: int) -> subprocess.Popen[bytes]:
    """The compose file's ``samples`` service, run here: its own command, listening on
    127.0.0.1 instead of every interface, on a free port instead of 8765."""
    assert entrypoint[:2] == ["newsarchive", "serve-samples"], entrypoint
    args = [a.replace("0.0.0.0", "127.0.0.1") for a in entrypoint[2:]]  # noqa: S104 - rewritten away
    args[args.index("--port") + 1] = str(port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "serve-samples", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s, contextlib_suppress():
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        if proc.poll() is not None:
            raise StackError(f"newsarchive serve-samples exited with {proc.returncode}")
        time.sleep(0.3)
    raise StackError("newsarchive serve-samples did not listen in 60 s")


def contextlib_suppress() -> Any:
    import contextlib

    return contextlib.suppress(OSError)


@pytest.mark.slow
def test_the_compose_files_environment_runs_news_crawl_under_the_real_scheduler(tmp_path: Path) -> None:
    """deploy/docker-compose.yaml's ``x-airflow-common`` environment, defaults applied (no
    deploy/.env), with its services' hosts rewritten to local servers: Postgres for ``postgres``
    (Airflow's metadata and the SQL catalog's database, created by deploy/postgres-init),
    SeaweedFS for ``minio`` (with the buckets minio-init makes), the ``samples`` service's own
    command for ``samples``; the API server's address is the stack's."""
    import signal

    from pyiceberg.catalog import load_catalog

    from newsarchive.samples.seaweed import SeaweedFS
    from tests.airflow_stack import Postgres, compose_airflow_env

    bindir = require_postgres()
    doc = yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())
    services = doc["services"]
    pg_env = {k: interpolated(v) for k, v in services["postgres"]["environment"].items()}
    minio_env = {k: interpolated(v) for k, v in services["minio"]["environment"].items()}
    buckets = re.findall(r"mc mb --ignore-existing local/([a-z0-9.-]+)", services["minio-init"]["entrypoint"])
    assert len(buckets) == 2, buckets
    env = compose_airflow_env(DEPLOY / "docker-compose.yaml")
    (tmp_path / "lake").mkdir()
    samples_port = free_port()
    with (
        Postgres(pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"], bindir) as pg,
        SeaweedFS(
            tmp_path / "lake",
            bucket=buckets[0],
            access_key=minio_env["MINIO_ROOT_USER"],
            secret_key=minio_env["MINIO_ROOT_PASSWORD"],
        ) as lake,
    ):
        # what the postgres image does on its first start: POSTGRES_DB, then the init scripts
        pg.psql("postgres", "-c", f'CREATE DATABASE "{pg_env["POSTGRES_DB"]}"')
        for script in sorted((DEPLOY / "postgres-init").glob("*.sql")):
            pg.psql("postgres", "-f", str(script))
        for bucket in buckets[1:]:
            lake.config.client().create_bucket(Bucket=bucket)
        samples = start_samples(interpolated(services["samples"]["entrypoint"]), samples_port)
        try:
            rewrite = {
                "@postgres/": f"@127.0.0.1:{pg.port}/",
                "http://minio:9000": lake.endpoint,
                "http://samples:8765": f"http://127.0.0.1:{samples_port}",
                "/opt/airflow/staging": str(tmp_path / "staging"),
            }
            del env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]  # the stack's own API server
            for key, value in env.items():
                for old, new in rewrite.items():
                    value = value.replace(old, new)
                assert not SERVICE_HOSTS.search(value), (key, value)  # every host is a local server
                env[key] = value
            with AirflowStack(tmp_path / "airflow", env=env, startup_timeout=STARTUP_TIMEOUT) as af:
                run = first_scheduled_run(af)
                if run["state"] != "success":
                    raise StackError(f"news_crawl ended {run['state']}\n{af.tails()}")
                show_timeline("compose environment", timeline(af, run, None), af.timings)
                iceberg = json.loads(env["AIRFLOW_CONN_ICEBERG_DEFAULT"])["extra"]
                assert iceberg["type"] == "sql" and iceberg["uri"].startswith("postgresql+psycopg2://")
                catalog = load_catalog("newsarchive", **iceberg)
                warc_bucket, _, prefix = env["NEWSARCHIVE_WARC_URI"].removeprefix("s3://").partition("/")
                raw = S3Store(f"s3://{warc_bucket}", lake.config)
                report_key = env["NEWSARCHIVE_REPORT_URI"].removeprefix(f"s3://{warc_bucket}/")
                assert prefix == "warc"
                counts = assert_crawl_landed(af, run, catalog, "newsarchive", raw, report_key)
                assert set(counts) == set(env["NEWSARCHIVE_SPIDERS"].split(","))  # every spider crawled
                # Airflow masks connection values in task logs: none of them is a word of ours
                crawl_log = task_log(af, run["dag_run_id"], "crawl", 0).read_text()
                assert "Running newsarchive crawl " in crawl_log, crawl_log[-3000:]
                assert_nothing_created(af)
                # Airflow's own metadata went to the compose file's Postgres database
                assert "dag_run" in pg.psql(pg_env["POSTGRES_DB"], "-Atc", "SELECT tablename FROM pg_tables")
        finally:
            os.killpg(samples.pid, signal.SIGTERM)
            samples.wait(15)


def test_the_compose_defaults_point_every_spider_at_the_samples_service_only() -> None:
    """``docker compose up`` with no deploy/.env crawls the ``samples`` service, never a public
    host: every URL setting of every listed spider is given, on host ``samples``, which runs
    ``newsarchive serve-samples`` reachable from the other containers."""
    from urllib.parse import urlsplit

    from newsarchive import settings
    from tests.airflow_stack import compose_airflow_env

    env = compose_airflow_env(DEPLOY / "docker-compose.yaml")
    spiders = env["NEWSARCHIVE_SPIDERS"].split(",")
    assert "eastmoney" in spiders and "finews" in spiders
    not_fetched = ("_REFERER", "_SHARE_URL")  # a header and a link template
    for spider in spiders:
        prefix = f"{spider.upper()}_"
        urls = [
            name
            for name in dir(settings)
            if name.startswith(prefix)
            and not name.endswith(not_fetched)
            and (name.endswith(("_BASE", "_URL", "_URLS")) or str(getattr(settings, name)).startswith("http"))
        ]
        assert urls, spider
        for name in urls:
            value = env.get(f"NEWSARCHIVE_{name}")
            assert value, f"{name} of {spider} keeps its default (a public host)"
            assert {urlsplit(u).hostname for u in value.split(",")} == {"samples"}, name
    samples = yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())["services"]["samples"]
    assert samples["entrypoint"][:2] == ["newsarchive", "serve-samples"]
    assert samples["entrypoint"][samples["entrypoint"].index("--host") + 1] == "0.0.0.0"  # noqa: S104
    assert "8765" in samples["entrypoint"]
