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
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsarchive.feedserver import FeedServer, install_finews
from newsarchive.storage.store import S3Store
from tests.airflow_stack import AirflowStack, StackError, free_port, log_times, parse_time
from tests.conftest import ROOT

RAW_BUCKET, TABLE_BUCKET = "raw", "tables"
#: the whole DAG run, from unpausing to success (it took about 30 s here; 2 minutes on a
#: loaded machine); the stack's start-up has its own bound.
RUN_TIMEOUT = 240


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
    af.wait_for(f"the DAG processor to parse {dag_id}", lambda: af.dag(dag_id), 120)
    assert af.import_errors() == []
    unpaused = datetime.now(UTC)
    af.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def finished() -> dict[str, Any] | None:
        runs = af.dag_runs(dag_id)
        return runs[0] if runs and runs[0]["state"] in ("success", "failed") else None

    run = af.wait_for(f"the first {dag_id} run to finish", finished, RUN_TIMEOUT, 1.0)
    run["unpaused_at"] = unpaused.isoformat()
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
        marks += [("report started", parse_time(report["start_date"])), ("report ended", parse_time(report["end_date"]))]
    marks.append(("DAG run ended", parse_time(run["end_date"])))
    return [(name, at) for name, at in marks if at is not None]


def show_timeline(name: str, marks: list[tuple[str, datetime]], startup: Mapping[str, float]) -> str:
    start = marks[0][1]
    rows = [f"{name}: stack start-up " + ", ".join(f"{k} {v:.1f} s" for k, v in startup.items())]
    previous = start
    for label, at in marks:
        rows.append(f"  {label:<22} +{(at - start).total_seconds():6.1f} s  (step {(at - previous).total_seconds():5.1f} s)")
        previous = at
    text = "\n".join(rows)
    out = os.environ.get("NEWSARCHIVE_SCHEDULER_TIMINGS")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(text + "\n")
    print(text)  # noqa: T201 - the measurement this test exists for, shown with -s
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
    assert {ti["task_id"]: ti["state"] for ti in tis} == {"crawl": "success", "report": "success", "crawls_failed": "skipped"}
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["source"]] = counts.get(r["source"], 0) + 1
    return counts


# --- a fresh deployment --------------------------------------------------------------------


def test_a_fresh_deployment_runs_news_crawl_under_the_real_scheduler(tmp_path: Path) -> None:
    from pyiceberg.catalog import load_catalog

    from newsarchive.seaweed import SeaweedFS

    (tmp_path / "lake").mkdir()
    with (
        SeaweedFS(tmp_path / "lake", bucket=RAW_BUCKET, table_bucket=TABLE_BUCKET) as lake,
        FeedServer() as feeds,
    ):
        sample = install_finews(feeds)
        env = {
            "AIRFLOW_CONN_AWS_DEFAULT": aws_connection(lake),
            "AIRFLOW_CONN_ICEBERG_DEFAULT": json.dumps({"conn_type": "generic", "extra": lake.catalog_properties}),
            "NEWSARCHIVE_WARC_URI": f"s3://{RAW_BUCKET}/warc",
            "NEWSARCHIVE_REPORT_URI": f"s3://{RAW_BUCKET}/reports/report.html",
            "NEWSARCHIVE_STAGING_DIR": str(tmp_path / "staging"),
            "NEWSARCHIVE_SPIDERS": "finews",
            **{f"NEWSARCHIVE_{k}": str(v) for k, v in sample.items()},
        }
        with AirflowStack(tmp_path / "airflow", env=env) as af:
            run = first_scheduled_run(af)
            if run["state"] != "success":
                raise StackError(f"news_crawl ended {run['state']}\n{af.tails()}")
            assert run["run_type"] == "scheduled"
            show_timeline("fresh deployment", timeline(af, run, feeds), af.timings)
            catalog = load_catalog("check", **lake.catalog_properties)
            raw = S3Store(f"s3://{RAW_BUCKET}", lake.config)
            counts = assert_crawl_landed(af, run, catalog, "newsarchive", raw, "reports/report.html")
            assert counts == {"finews": 44}
            assert_nothing_created(af)
            crawl_log = task_log(af, run["dag_run_id"], "crawl", 0).read_text()
            assert "embedded SQLite" not in crawl_log  # the connection's catalog was used
