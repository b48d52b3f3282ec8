"""A crawl committing to a REST catalog (SeaweedFS's, configured the pyiceberg way), and one
whose REST catalog is down.

The catalog is given to the crawl subprocess exactly as a deployment gives it:
``PYICEBERG_CATALOG__NEWSARCHIVE__*`` variables; ARCHIVE_URI stays its local working
directory (WARC only: no ``catalog.db`` there).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsarchive.samples.feedserver import TEXT
from newsarchive.tables.commit import RUN_ID
from tests.helpers import clean_env, run_crawl

pytestmark = pytest.mark.slow


def catalog_env(properties: dict[str, str], name: str = "newsarchive") -> dict[str, str]:
    """pyiceberg properties as its environment variables (``.``→``__``, ``-``→``_``)."""
    prefix = f"PYICEBERG_CATALOG__{name.upper()}__"
    return {prefix + k.upper().replace(".", "__").replace("-", "_"): v for k, v in properties.items()}


@pytest.fixture(scope="module")
def rest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from newsarchive.samples.seaweed import SeaweedFS

    with SeaweedFS(tmp_path_factory.mktemp("seaweedfs-rest"), table_bucket="warehouse") as server:
        yield server


def load(rest: Any, name: str) -> Any:
    from pyiceberg.catalog import load_catalog

    return load_catalog("rest-test", **rest.catalog_properties).load_table(("newsarchive", name))


def test_a_crawl_commits_to_the_rest_catalog_and_a_rerun_fetches_nothing(
    rest: Any, tmp_path: Path, sample_settings: dict[str, Any], sample_server: Any
) -> None:
    env = clean_env(**catalog_env(rest.catalog_properties))
    archive = tmp_path / "work"
    first = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive}, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.summary["committed"] and "rest" in first.summary["catalog"]
    assert not (archive / "catalog.db").exists() and not (archive / "warehouse").exists()
    articles = load(rest, "articles")
    rows = articles.scan().to_arrow()
    assert rows.num_rows == 44 and len(set(rows["source_id"].to_pylist())) == 44
    assert set(rows["run_id"].to_pylist()) == {first.summary["run_id"]}
    assert load(rest, "quarantine").scan().to_arrow().num_rows == 2
    (run,) = [r for r in load(rest, "runs").scan().to_arrow().to_pylist() if r["run_id"] == first.summary["run_id"]]
    assert run["status"] == "complete" and run["articles_written"] == 44
    assert run["articles_snapshot_id"] == articles.current_snapshot().snapshot_id
    assert all(f["path"].startswith("warc/") and (archive / f["path"]).is_file() for f in run["warc_files"])
    secret = rest.secret_key
    assert secret not in run["catalog"] + run["settings"] + first.stdout + first.stderr

    texts = sample_server.count(TEXT)
    second = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": tmp_path / "another-worker"}, env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    # a worker starting with an empty working directory still crawls incrementally
    assert sample_server.count(TEXT) == texts
    assert second.summary["articles_written"] == 0 and second.summary["quarantined"] == 0
    articles = load(rest, "articles")
    assert articles.scan().to_arrow().num_rows == 44
    added = [s.summary for s in articles.snapshots() if s.summary and s.summary[RUN_ID] == second.summary["run_id"]]
    assert all(int(s.get("added-records", "0")) == 0 for s in added), added
    runs = {r["run_id"]: r for r in load(rest, "runs").scan().to_arrow().to_pylist()}
    assert runs[second.summary["run_id"]]["status"] == "complete"
    assert dict(runs[second.summary["run_id"]]["counts"])["skipped_archived"] == 44


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_crawl_whose_rest_catalog_is_down_stops_before_fetching(
    tmp_path: Path, sample_settings: dict[str, Any], sample_server: Any
) -> None:
    credential = "reader:fake-catalog-secret-Wq83"
    port = closed_port()
    env = clean_env(
        **catalog_env({"type": "rest", "uri": f"http://127.0.0.1:{port}", "credential": credential}),
    )
    texts, requests = sample_server.count(TEXT), len(sample_server.requests)
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": tmp_path / "work"}, env=env, timeout=120)
    assert result.returncode != 0
    assert result.summary["status"] == "failed" and not result.summary["committed"]
    assert "Spider closed (catalog_unavailable)" in result.stderr
    assert sample_server.count(TEXT) == texts  # no text requested
    assert len(sample_server.requests) == requests  # nor a list, nor robots.txt: nothing at all
    errors = [line for line in result.stderr.splitlines() if " ERROR: " in line]
    assert len(errors) == 1, errors
    assert f"127.0.0.1:{port}" in errors[0] and "catalog" in errors[0]
    assert "Traceback" not in result.stderr
    for secret in ("fake-catalog-secret-Wq83", credential):
        assert secret not in result.stdout + result.stderr
