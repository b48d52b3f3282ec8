"""Shared fixtures and the test session's environment: a real feed server on 127.0.0.1,
one shared crawl of the sample feeds, SeaweedFS, Airflow's database. The plain helpers the
fixtures and tests use are in ``tests/helpers.py``.

A Twisted reactor cannot restart inside one process, so every crawl runs as
``python -m newsarchive crawl ...`` in a subprocess, exactly as users and the DAGs run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# shared helpers and fixtures of other test modules get pytest's assertion messages too
pytest.register_assert_rewrite("tests.helpers", "tests.items_fixture", "tests.readers_fixture", "tests.sites")

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
from tests.helpers import FAST, ROOT, CrawlResult, clean_env, run_crawl  # noqa: E402 (after the environment)


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


@pytest.fixture
def crawler(tmp_path: Path) -> Any:
    """A configured (never started) crawler whose run commits to a fresh embedded catalog:
    the in-process layer's (tests/unit/crawler.py), with raw capture as a crawl has it."""
    from tests.unit.crawler import make_crawler

    return make_crawler(tmp_path / "archive", {"WARC_ENABLED": True})
