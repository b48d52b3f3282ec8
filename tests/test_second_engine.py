"""A second engine reads what pyiceberg wrote: DuckDB's own Iceberg reader, attached to
SeaweedFS's REST catalog, counts the same rows as pyiceberg.

Two finews crawls (real subprocesses, the sample feeds) commit to the REST catalog: the first
with one list only, the second with all of them, so every table has more than one data file
in a partition. DuckDB reads the tables through the REST catalog and S3 with its packaged
extensions (``newsarchive.analytics.duckdb_iceberg``); nothing of pyiceberg's is in its path.
The counts are compared again after ``newsarchive compact`` rewrote the files.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsarchive.analytics import duckdb_iceberg
from newsarchive.samples.feedserver import FeedServer, install_finews
from newsarchive.tables.commit import OPERATION
from tests.helpers import FAST, ROOT, catalog_env, clean_env, run_cli, run_crawl

pytestmark = pytest.mark.slow

#: The default namespace, which the snippet of docs/analytics.md reads (this module has its own SeaweedFS).
NAMESPACE = "newsarchive"
DOC = ROOT / "docs" / "analytics.md"
SNIPPET = re.compile(r"<!-- tested: duckdb-iceberg -->\n```python\n(?P<code>.*?)```", re.S)


@pytest.fixture(scope="module")
def rest_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from newsarchive.samples.seaweed import SeaweedFS

    with SeaweedFS(tmp_path_factory.mktemp("seaweed-engine"), table_bucket="warehouse") as s3:
        yield s3.catalog_properties


def pyiceberg_rows(props: dict[str, str], table: str) -> list[dict[str, Any]]:
    from pyiceberg.catalog import load_catalog

    loaded = load_catalog("newsarchive", **props).load_table((NAMESPACE, table))
    return loaded.scan().to_arrow().to_pylist()


def pyiceberg_counts(props: dict[str, str]) -> dict[str, Any]:
    articles = pyiceberg_rows(props, "articles")
    return {
        "articles_per_source": dict(Counter(r["source"] for r in articles)),
        "articles": len(articles),
        "distinct_articles": len({(r["source"], r["source_id"]) for r in articles}),
        "quarantine_per_reason": dict(Counter(r["reason"] for r in pyiceberg_rows(props, "quarantine"))),
        "runs": sorted(r["run_id"] for r in pyiceberg_rows(props, "runs")),
    }


def duckdb_counts(props: dict[str, str]) -> dict[str, Any]:
    con = duckdb_iceberg.attach(props, alias="lake")  # a fresh connection: the current snapshots
    try:
        t = f"lake.{NAMESPACE}"

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return con.execute(sql).fetchall()

        ((total, distinct),) = rows(f"SELECT count(*), count(DISTINCT (source, source_id)) FROM {t}.articles")
        return {
            "articles_per_source": dict(rows(f"SELECT source, count(*) FROM {t}.articles GROUP BY source")),
            "articles": total,
            "distinct_articles": distinct,
            "quarantine_per_reason": dict(rows(f"SELECT reason, count(*) FROM {t}.quarantine GROUP BY reason")),
            "runs": [r for (r,) in rows(f"SELECT run_id FROM {t}.runs ORDER BY run_id")],
        }
    finally:
        con.close()


def data_files(props: dict[str, str]) -> dict[str, tuple[set[str], set[str]]]:
    """Per table, the data files of its current snapshot as (pyiceberg, DuckDB) see them."""
    from pyiceberg.catalog import load_catalog

    catalog = load_catalog("newsarchive", **props)
    con = duckdb_iceberg.attach(props, alias="lake")
    try:
        seen = {}
        for name in ("articles", "quarantine", "runs"):
            table = catalog.load_table((NAMESPACE, name))
            ours = {task.file.file_path for task in table.scan().plan_files()}
            theirs = con.execute(
                f"SELECT file_path FROM iceberg_metadata(lake.{NAMESPACE}.{name}) WHERE status <> 'DELETED'"
            ).fetchall()
            seen[name] = (ours, {path for (path,) in theirs})
        return seen
    finally:
        con.close()


def test_duckdb_iceberg_counts_what_pyiceberg_counts_before_and_after_compaction(
    feed_server: FeedServer, rest_catalog: dict[str, str], tmp_path: Path
) -> None:
    settings = {**FAST, **install_finews(feed_server), "ICEBERG_NAMESPACE": NAMESPACE}
    home = tmp_path / "home"  # DuckDB's own directory would be home/.duckdb
    home.mkdir()
    env = clean_env(**catalog_env(rest_catalog), HOME=str(home))
    one_list = settings["FINEWS_LIST_URLS"].split(",")[0]
    runs = []
    for n, lists in enumerate((one_list, settings["FINEWS_LIST_URLS"])):
        result = run_crawl(
            "finews", {**settings, "FINEWS_LIST_URLS": lists, "ARCHIVE_URI": tmp_path / f"w{n}"}, env=env
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.summary["committed"] and "rest" in result.summary["catalog"]
        runs.append(result.summary)
    assert 0 < runs[0]["articles_written"] < 44, runs[0]  # the first list alone holds some articles, not all

    expected = {
        "articles": 44,
        "distinct_articles": 44,  # one row per article
        "quarantine_per_reason": {"invalid_info_code": 1, "missing_time": 1},
        "runs": sorted(r["run_id"] for r in runs),
    }
    before = pyiceberg_counts(rest_catalog)
    assert {k: before[k] for k in expected} == expected
    assert sum(before["articles_per_source"].values()) == 44
    assert duckdb_counts(rest_catalog) == before
    files_before = data_files(rest_catalog)
    assert all(ours == theirs for ours, theirs in files_before.values()), files_before
    assert run_doc_snippet(env) == {
        "per_source": before["articles_per_source"],
        "reasons": before["quarantine_per_reason"],
        "runs": [[run["run_id"], "complete", run["articles_written"]] for run in runs],  # in the order they ran
    }
    by_pyiceberg, by_duckdb = sql_with_both_engines(env)
    assert by_duckdb == by_pyiceberg
    assert by_duckdb[0]["articles"] == by_duckdb[0]["versions"] == 44 and by_duckdb[0]["runs"] == 2

    compact = run_cli("compact", "--namespace", NAMESPACE, env=env)
    assert compact.returncode == 0, compact.stderr[-3000:]
    reports = {r["table"]: r for r in map(json.loads, compact.stdout.strip().splitlines())}
    assert set(reports) == {"articles", "quarantine", "runs"}, compact.stdout
    rewritten = [name for name, r in reports.items() if r.get("files_after", 0) < r.get("files_before", 0)]
    # two crawls wrote two files in one partition of each (one month of articles, of runs)
    assert sorted(rewritten) == ["articles", "runs"], reports
    from pyiceberg.catalog import load_catalog

    for name in rewritten:
        table = load_catalog("newsarchive", **rest_catalog).load_table((NAMESPACE, name))
        summary = table.current_snapshot().summary  # type: ignore[union-attr]
        assert summary is not None and summary[OPERATION] == "compact"

    after = pyiceberg_counts(rest_catalog)
    assert after == before
    assert duckdb_counts(rest_catalog) == after
    # DuckDB reads the compacted snapshot: the same files as pyiceberg, fewer than before
    files_after = data_files(rest_catalog)
    assert all(ours == theirs for ours, theirs in files_after.values()), files_after
    for name in rewritten:
        assert len(files_after[name][1]) < len(files_before[name][1])
    assert sql_with_both_engines(env) == [by_pyiceberg, by_duckdb]

    missing = run_cli("sql", "--engine", "duckdb-iceberg", "--namespace", "nowhere", "SELECT 1 FROM runs", env=env)
    assert missing.returncode == 2 and "no table nowhere.articles" in missing.stderr, missing.stderr
    # no extension was downloaded and no secret stored: DuckDB wrote nothing under HOME
    assert not (home / ".duckdb").exists(), sorted(p.name for p in (home / ".duckdb").rglob("*"))


def test_the_secrets_are_masked_when_duckdb_refuses_them(rest_catalog: dict[str, str]) -> None:
    wrong = {**rest_catalog, "credential": rest_catalog["credential"] + "-wrong"}
    with pytest.raises(duckdb_iceberg.EngineUnavailableError) as raised:
        duckdb_iceberg.attach(wrong)
    secret = rest_catalog["s3.secret-access-key"]
    assert secret not in str(raised.value)
    assert "cannot attach" in str(raised.value)


def test_only_a_rest_catalog_is_attached(tmp_path: Path) -> None:
    props = {"type": "sql", "uri": f"sqlite:///{tmp_path}/catalog.db", "warehouse": tmp_path.as_uri()}
    with pytest.raises(duckdb_iceberg.EngineUnavailableError, match="REST catalog"):
        duckdb_iceberg.attach(props)


def run_doc_snippet(env: dict[str, str]) -> dict[str, Any]:
    """The DuckDB-attached-to-REST snippet of docs/analytics.md, as written; what it found."""
    (code,) = [m["code"] for m in SNIPPET.finditer(DOC.read_text(encoding="utf-8"))]
    found = '{"per_source": per_source, "reasons": reasons, "runs": runs}'
    report = f'\nimport json as _j\nprint("FOUND " + _j.dumps({found}))\n'
    proc = subprocess.run(
        [sys.executable, "-c", code + report], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("FOUND ")]
    return json.loads(line.removeprefix("FOUND "))


QUERY = """
SELECT (SELECT count(*) FROM articles) AS articles,
       (SELECT count(*) FROM articles_all) AS versions,
       (SELECT count(*) FROM quarantine) AS quarantined,
       (SELECT count(*) FROM runs WHERE status = 'complete') AS runs,
       (SELECT max(title) FROM articles WHERE source = 'finews') AS last_title
"""


def sql_with_both_engines(env: dict[str, str]) -> list[Any]:
    """``newsarchive sql`` with each engine; returns both results."""
    results = []
    for engine in ("pyiceberg", "duckdb-iceberg"):
        proc = run_cli("sql", "--engine", engine, "--namespace", NAMESPACE, "--format", "json", QUERY, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert env["PYICEBERG_CATALOG__NEWSARCHIVE__S3__SECRET_ACCESS_KEY"] not in proc.stdout + proc.stderr
        results.append(json.loads(proc.stdout))
    return results
