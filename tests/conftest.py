"""Shared fixtures: a real feed server on 127.0.0.1 and crawls run as real subprocesses.

A Twisted reactor cannot restart inside one process, so every crawl runs as
``python -m newsarchive crawl ...`` in a subprocess, exactly as users and the DAGs run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# shared fixtures of other test modules get pytest's assertion messages too
pytest.register_assert_rewrite("tests.readers_fixture")

# Airflow reads these when first imported: a throwaway SQLite home, no examples, our DAGs.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="newsarchive-airflow-"))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parent.parent / "dags")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
# pyiceberg reads catalogs from PYICEBERG_* variables, PYICEBERG_HOME, ~ and the working
# directory: none of the machine's may leak in (an empty home; the repo holds no .pyiceberg.yaml).
for _name in [n for n in os.environ if n.startswith("PYICEBERG_")]:
    del os.environ[_name]
ICEBERG_HOME = tempfile.mkdtemp(prefix="newsarchive-pyiceberg-")
os.environ["PYICEBERG_HOME"] = ICEBERG_HOME

from newsarchive.samples.feedserver import FeedServer, install_finews  # noqa: E402 (after the environment)

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
REFERENCE = DATA / "reference"
SEED_POST = REFERENCE / "000_90fc2c3713eae39e.txt"


@dataclass
class CrawlResult:
    returncode: int
    summary: dict[str, Any]
    stdout: str
    stderr: str
    #: The crawl's ARCHIVE_URI (its embedded catalog, unless the test configured one).
    archive: Path | None = None

    @property
    def run(self) -> dict[str, Any]:
        """The run's ``runs`` row (the run must have committed)."""
        assert self.archive is not None, "run_crawl without ARCHIVE_URI"
        return run_row(self.archive, self.summary["run_id"])


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without NEWSARCHIVE_* or a pyiceberg configuration
    leaking in (HOME and PYICEBERG_HOME point to an empty directory)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSARCHIVE_", "PYICEBERG_"))}
    env.update(HOME=ICEBERG_HOME, PYICEBERG_HOME=ICEBERG_HOME)
    env.update(extra)
    return env


def open_catalog(archive: Path | str) -> Any:
    """The embedded SQLite catalog of ``archive`` (what a crawl there commits to)."""
    from pyiceberg.catalog import load_catalog

    from newsarchive.tables.catalog import embedded_properties

    return load_catalog("newsarchive", **embedded_properties(str(archive)))


def read_table(archive: Path | str, name: str = "articles", **scan: Any) -> Any:
    """Every row of one table of ``archive``'s embedded catalog, as a pyarrow Table (read by
    pyiceberg, not by our own readers). ``scan``: ``row_filter``, ``selected_fields``..."""
    from pyiceberg.exceptions import NoSuchTableError

    from newsarchive.tables.definitions import TABLES

    try:
        table = open_catalog(archive).load_table(("newsarchive", name))
    except NoSuchTableError:
        return TABLES[name].schema.empty_table()
    return table.scan(**scan).to_arrow()


def run_row(archive: Path | str, run_id: str) -> dict[str, Any]:
    """The ``runs`` row of ``run_id``, maps as dicts."""
    rows = [r for r in read_table(archive, "runs").to_pylist() if r["run_id"] == run_id]
    assert len(rows) == 1, f"{len(rows)} runs rows for {run_id}"
    row = rows[0]
    for name in ("requests_by_kind", "responses_by_status", "quarantined_by_reason", "counts"):
        row[name] = dict(row[name] or [])
    return row


def snapshots(archive: Path | str, name: str = "articles") -> list[dict[str, str]]:
    """The summaries of every snapshot of one table, oldest first."""
    table = open_catalog(archive).load_table(("newsarchive", name))
    return [dict(s.summary.additional_properties) for s in table.snapshots() if s.summary is not None]


def run_crawl(
    spider: str,
    settings: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 180,
) -> CrawlResult:
    args = [sys.executable, "-m", "newsarchive", "crawl", spider]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    args += extra_args or []
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env or clean_env(), cwd=ROOT)
    summary: dict[str, Any] = {}
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if lines:
        summary = json.loads(lines[-1])
    archive = settings.get("ARCHIVE_URI")
    return CrawlResult(proc.returncode, summary, proc.stdout, proc.stderr, Path(archive) if archive else None)


#: Settings for fast, deterministic local crawls (no throttling delays on 127.0.0.1).
FAST = {"AUTOTHROTTLE_ENABLED": "False", "LOG_LEVEL": "INFO", "RETRY_TIMES": "2", "DOWNLOAD_TIMEOUT": "5"}


def install_finews_faults(server: FeedServer) -> dict[str, str]:
    """Make four texts of the sample site misbehave: ``retried`` answers 503 then 200,
    ``missing`` answers 404, ``reset`` drops the connection every time, ``gzipped`` comes
    gzip-encoded (``Content-Encoding: gzip``). Returns their infoCodes."""
    import gzip

    from newsarchive.samples.feedserver import TEXT, Reply, sample_dir

    texts = json.loads((sample_dir() / "texts.json").read_text(encoding="utf-8"))
    retried, missing, reset, gzipped = sorted(texts)[:4]

    def body(code: str) -> bytes:
        return json.dumps(texts[code], ensure_ascii=False).encode()

    server.add(f"{TEXT}?id={retried}", [Reply(status=503, body=b"busy"), Reply(body=body(retried))])
    server.add(f"{TEXT}?id={missing}", Reply(status=404, body=b'{"error": "gone"}'))
    server.add(f"{TEXT}?id={reset}", Reply(action="reset"))
    encoded = Reply(body=gzip.compress(body(gzipped)), headers={"Content-Encoding": "gzip"})
    server.add(f"{TEXT}?id={gzipped}", encoded)
    return {"retried": retried, "missing": missing, "reset": reset, "gzipped": gzipped}


@pytest.fixture(scope="session")
def sample_server() -> Iterator[FeedServer]:
    """The bundled sample feeds (built from the real posts), served on 127.0.0.1."""
    with FeedServer() as server:
        install_finews(server)
        yield server


@pytest.fixture(scope="session")
def sample_settings(sample_server: FeedServer) -> dict[str, Any]:
    from newsarchive.samples.feedserver import finews_settings

    return {**FAST, **finews_settings(sample_server)}


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """An empty server for one test to fill with its own routes and faults."""
    with FeedServer() as server:
        yield server


@pytest.fixture(scope="session")
def sample_archive(
    tmp_path_factory: pytest.TempPathFactory, sample_settings: dict[str, Any]
) -> tuple[Path, CrawlResult]:
    """One crawl of the sample feeds, shared by read-only tests."""
    archive = tmp_path_factory.mktemp("archive")
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert result.returncode == 0, result.stderr[-3000:]
    return archive, result


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real S3-compatible server (SeaweedFS ``weed mini``) on 127.0.0.1, with credentials."""
    from newsarchive.samples.seaweed import SeaweedFS

    with SeaweedFS(tmp_path_factory.mktemp("seaweedfs"), bucket="archive") as server:
        yield server


@pytest.fixture
def bucket_uri(seaweed: Any, request: pytest.FixtureRequest) -> str:
    """A fresh prefix in the test bucket for one test."""
    import re

    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:60]
    return f"s3://{seaweed.bucket}/{name}-{os.getpid()}"


def s3_env(seaweed: Any, **extra: str) -> dict[str, str]:
    """Environment for a subprocess talking to the test server via the standard AWS chain."""
    return clean_env(**{**seaweed.config.env(), **extra})


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsarchive", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or clean_env(),
        cwd=ROOT,
    )


def last_json(stdout: str) -> dict[str, Any]:
    lines = [ln for ln in stdout.strip().splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata database (SQLite in AIRFLOW_HOME), created once per session."""
    from airflow.utils import db

    db.initdb()


@pytest.fixture(scope="session")
def analytics_archive(tmp_path_factory: pytest.TempPathFactory, sample_server: FeedServer) -> Path:
    """One archive (its embedded catalog) holding what the analytics views and the report
    must cope with: two sources, quarantined records, a
    partial run (a list that answers 503), and a second version of every finews row (a
    reparse at a newer pipeline version)."""
    from newsarchive.samples.feedserver import Reply, finews_settings
    from newsarchive.samples.thepaper_site import install_thepaper

    archive = tmp_path_factory.mktemp("analytics")
    settings = {**FAST, **finews_settings(sample_server), "ARCHIVE_URI": archive}
    assert run_crawl("finews", settings).returncode == 0
    reparse = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsarchive",
            "reparse",
            "--warc",
            str(archive / "warc"),
            "--archive",
            str(archive),
            "-s",
            "PIPELINE_VERSION=99.0.0",
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=ROOT,
        timeout=300,
    )
    assert reparse.returncode == 0, reparse.stderr[-3000:]
    sample_server.add("/analytics/down", Reply(status=503, body=b"down"))
    down = {**settings, "FINEWS_LIST_URLS": f"{settings['FINEWS_LIST_URLS']},{sample_server.url('/analytics/down')}"}
    assert run_crawl("finews", down).returncode == 1  # partial
    paper = {**FAST, **install_thepaper(sample_server), "ARCHIVE_URI": archive}
    assert run_crawl("thepaper", paper).returncode == 0
    return archive


def counters(result: CrawlResult) -> dict[str, Any]:
    """Every counter of a crawl's ``runs`` row by its name: the counted columns
    (``articles_written``, ``quarantined``, ``duplicates``, ``lists_ok``, ...),
    ``requests_by_kind``, ``quarantined_by_reason`` and each entry of ``counts``
    (``skipped_archived``, ``quarantine_repeats``, the spiders' own counters)."""
    row = result.run
    named = ("requests", "articles_written", "quarantined", "duplicates", "lists_ok", "lists_failed")
    return {
        **row["counts"],
        **{name: row[name] for name in named},
        "requests_by_kind": row["requests_by_kind"],
        "quarantined_by_reason": row["quarantined_by_reason"],
    }
