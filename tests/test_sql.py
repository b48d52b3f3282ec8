"""``newsarchive sql``: the archive's Iceberg tables as DuckDB views.

Fast tests read tables committed by :mod:`tests.readers_fixture` (the embedded SQLite catalog),
one reads SeaweedFS's REST catalog (data in S3, read through pyiceberg), and the ``test_e2e_*``
tests read what real crawls committed.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsarchive.cli import main
from newsarchive.schema import ARTICLE_FIELDS, RUN_FIELDS
from newsarchive.tables.catalog import EMBEDDED_DB, resolve
from tests.helpers import ROOT
from tests.readers_fixture import (
    FAILED,
    PARTIAL,
    REPARSE,
    article,
    build_archive,
    commit_run,
    embedded,
    env_without_pyiceberg,
    isolated,
)

#: The tables fixtures (tables_archive, crawled_archive).
pytest_plugins = ["tests.readers_fixture"]


@pytest.fixture(autouse=True)
def no_pyiceberg_config(tmp_path: Path) -> Any:
    with isolated(tmp_path / "home"):
        yield


def sql(capsys: pytest.CaptureFixture[str], query: str, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["sql", query, *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows(capsys: pytest.CaptureFixture[str], query: str, archive: Path, *args: str) -> list[dict[str, Any]]:
    code, out, err = sql(capsys, query, "--archive", str(archive), "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)


def test_articles_is_one_row_per_article_and_articles_all_every_version(capsys, tables_archive):
    versions = rows(capsys, "SELECT source, count(*) AS n FROM articles_all GROUP BY 1 ORDER BY 1", tables_archive)
    assert versions == [{"source": "finews", "n": 26}, {"source": "thepaper", "n": 5}]
    current = rows(
        capsys, "SELECT source, source_id, pipeline_version, run_id FROM articles ORDER BY 1, 2", tables_archive
    )
    assert len({(r["source"], r["source_id"]) for r in current}) == len(current) == 19
    # the reparse wrote rows 1-12 again at 0.10.0, numerically newer than 0.9.0: its rows win
    reparsed = [r for r in current if r["run_id"] == REPARSE]
    assert len(reparsed) == 12 and {r["pipeline_version"] for r in reparsed} == {"0.10.0"}


def test_every_schema_column_is_in_the_views_even_when_no_file_has_it(capsys, tmp_path):
    """A file written before a column existed (older schema version) lacks it: the view still
    has the column, NULL for those rows, with its type."""
    spec = embedded(tmp_path / "archive")
    catalog = spec.open()
    table = catalog.load_table((spec.namespace, "articles"))
    old = pa.Table.from_pylist([article(2, run_id="run-old")])  # only the columns article() names
    assert "raw_sha256" not in old.column_names and "warc_record_length" not in old.column_names
    path = f"{table.location()}/data/run-old.parquet"
    with table.io.new_output(path).create() as out:
        pq.write_table(old.cast(pa.schema([table.schema().as_arrow().field(n) for n in old.column_names])), out)
    with table.transaction() as tx:
        tx.add_files([path], snapshot_properties={"newsarchive.run-id": "run-old"})
    query = "SELECT run_id, raw_sha256, typeof(warc_record_length) AS t FROM articles_all ORDER BY run_id"
    assert rows(capsys, query, tmp_path / "archive") == [{"run_id": "run-old", "raw_sha256": None, "t": "BIGINT"}]
    commit_run(spec, "run-new", articles=[article(1, raw_sha256="abc")])
    assert rows(capsys, query, tmp_path / "archive") == [
        {"run_id": "run-new", "raw_sha256": "abc", "t": "BIGINT"},
        {"run_id": "run-old", "raw_sha256": None, "t": "BIGINT"},
    ]
    described = rows(capsys, "SELECT column_name FROM (DESCRIBE articles)", tmp_path / "archive")
    assert [r["column_name"] for r in described] == list(ARTICLE_FIELDS)


def test_empty_tables_read_as_empty_with_their_columns(capsys, tmp_path):
    embedded(tmp_path / "archive")
    for view, fields in (("articles", ARTICLE_FIELDS), ("runs", RUN_FIELDS)):
        described = rows(capsys, f"SELECT column_name FROM (DESCRIBE {view})", tmp_path / "archive")
        assert [r["column_name"] for r in described] == list(fields)
    assert rows(capsys, "SELECT count(*) AS n FROM articles", tmp_path / "archive") == [{"n": 0}]


def test_runs_view_is_the_runs_table(capsys, tables_archive):
    runs = rows(
        capsys,
        "SELECT run_id, status, articles_written, requests_by_kind, problems, warc_files FROM runs ORDER BY started_at",
        tables_archive,
    )
    assert [r["status"] for r in runs] == ["complete", "complete", "partial", "complete", "failed"]
    by_id = {r["run_id"]: r for r in runs}
    assert by_id[PARTIAL]["problems"] == ["list http://127.0.0.1:1/down: http_error (HTTP 503)"]
    assert by_id[FAILED]["articles_written"] == 0  # a run that archived nothing is still a row
    assert by_id[PARTIAL]["requests_by_kind"] == {"list": 2, "text": 8}
    assert by_id[PARTIAL]["warc_files"][0]["path"].endswith(f"{PARTIAL}-0.warc.gz")
    written = rows(capsys, "SELECT run_id, count(*) AS n FROM articles_all GROUP BY 1", tables_archive)
    assert {r["run_id"]: r["n"] for r in written} == {
        r["run_id"]: r["articles_written"] for r in runs if r["articles_written"]
    }


def test_quarantine_view_and_types(capsys, tables_archive):
    got = rows(
        capsys,
        "SELECT reason, typeof(seen_at) AS ts, typeof(source) AS src FROM quarantine ORDER BY reason",
        tables_archive,
    )
    assert [r["reason"] for r in got] == ["bad_json", "http_error", "http_error", "not_article"]
    assert {(r["ts"], r["src"]) for r in got} == {("TIMESTAMP WITH TIME ZONE", "VARCHAR")}
    days = rows(
        capsys,
        "SELECT DISTINCT CAST(timezone('Asia/Shanghai', published_at) AS DATE) AS day FROM articles ORDER BY 1",
        tables_archive,
    )
    assert [d["day"] for d in days] == ["2022-01-12", "2022-01-13"]


def test_table_and_csv_output(capsys, tables_archive):
    query = "SELECT source, count(*) AS n, min(title) AS first_title FROM articles GROUP BY 1 ORDER BY 1"
    code, out, err = sql(capsys, query, "--archive", str(tables_archive))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split("|")[0].strip() == "source" and lines[-1] == "(2 rows)"
    assert lines[2].startswith("finews ") and lines[3].startswith("thepaper ")
    code, out, err = sql(capsys, query, "--archive", str(tables_archive), "--format", "csv")
    assert [r["source"] for r in csv.DictReader(io.StringIO(out))] == ["finews", "thepaper"]


def test_out_writes_parquet(capsys, tables_archive, tmp_path):
    out = tmp_path / "result" / "media.parquet"
    code, _, err = sql(
        capsys,
        "SELECT media_name, count(*) AS n FROM articles GROUP BY 1",
        "--archive",
        str(tables_archive),
        "--out",
        str(out),
    )
    assert code == 0, err
    assert sum(pq.read_table(out)["n"].to_pylist()) == 19
    assert not list(out.parent.glob(".*"))  # no temporary file left behind


def test_the_query_from_standard_input_in_a_subprocess(tables_archive, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "newsarchive", "sql", "-", "--archive", str(tables_archive), "--format", "jsonl"],
        input="SELECT source, count(*) AS n FROM articles GROUP BY 1 ORDER BY 1",
        capture_output=True,
        text=True,
        env=env_without_pyiceberg(tmp_path / "home"),
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line) for line in proc.stdout.splitlines()] == [
        {"source": "finews", "n": 14},
        {"source": "thepaper", "n": 5},
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["SELECT nope FROM articles"], "nope"),
        (["SELECT * FROM no_such_view"], "no_such_view"),
        (["SELECT 1", "--out", "x.xlsx"], "unknown extension"),
        (["   "], "empty query"),
        (["SELECT 1", "--archive", "s3://bucket/archive"], "configure the catalog"),
    ],
)
def test_bad_usage_exits_2_with_a_clear_message(capsys, tables_archive, tmp_path, args, message):
    query, *rest = args
    if "--archive" not in rest:
        rest += ["--archive", str(tables_archive)]
    code, _, err = sql(capsys, query, *[str(tmp_path / a) if a.endswith(".xlsx") else a for a in rest])
    assert code == 2 and message in err, err


def test_a_directory_without_a_catalog_is_a_usage_error_and_stays_untouched(capsys, tmp_path):
    typo = tmp_path / "archvie"
    code, out, err = sql(capsys, "SELECT count(*) FROM articles", "--archive", str(typo))
    assert code == 2 and out == ""
    assert str(typo / EMBEDDED_DB) in err and "PYICEBERG_CATALOG__NEWSARCHIVE__URI" in err
    assert not typo.exists()  # no catalog.db created in a mistyped directory
    typo.mkdir()
    assert sql(capsys, "SELECT 1", "--archive", str(typo))[0] == 2
    assert list(typo.iterdir()) == []


def test_a_catalog_without_the_tables_is_a_usage_error(capsys, tmp_path):
    spec = resolve(str(tmp_path / "archive"))
    spec.open().create_namespace("newsarchive")  # a catalog.db, but no table in it
    code, _, err = sql(capsys, "SELECT 1", "--archive", str(tmp_path / "archive"))
    assert code == 2 and "has no table newsarchive.articles" in err, err
    code, _, err = sql(capsys, "SELECT 1", "--archive", str(tmp_path / "archive"), "--namespace", "other")
    assert code == 2 and "newsarchive.articles" not in err and "other.articles" in err


def test_the_catalog_and_namespace_come_from_options_or_settings(capsys, tmp_path, monkeypatch):
    """A catalog configured the pyiceberg way under another name, in another namespace; the
    --archive directory is then irrelevant (it holds nothing)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("PYICEBERG_CATALOG__LAKE__TYPE", "sql")
    monkeypatch.setenv("PYICEBERG_CATALOG__LAKE__URI", f"sqlite:///{shared / 'lake.db'}")
    monkeypatch.setenv("PYICEBERG_CATALOG__LAKE__WAREHOUSE", (shared / "wh").as_uri())
    from newsarchive.tables.definitions import ensure_all

    lake = resolve(str(tmp_path / "unused"), "lake", "news")
    ensure_all(lake.open(), "news")
    commit_run(lake, "run-lake", articles=[article(1), article(2)])
    query = "SELECT count(*) AS n FROM articles"
    assert rows(capsys, query, tmp_path / "unused", "--catalog", "lake", "--namespace", "news") == [{"n": 2}]
    monkeypatch.setenv("NEWSARCHIVE_ICEBERG_CATALOG", "lake")
    monkeypatch.setenv("NEWSARCHIVE_ICEBERG_NAMESPACE", "news")
    assert rows(capsys, query, tmp_path / "unused") == [{"n": 2}]
    assert not (tmp_path / "unused").exists()


@pytest.mark.slow
def test_the_rest_catalog_reads_like_the_embedded_one(tmp_path, capsys, monkeypatch):
    """The same runs committed to SeaweedFS's Iceberg REST catalog (data files in S3): the
    views read them through pyiceberg and answer as over the embedded catalog."""
    from newsarchive.samples.seaweed import SeaweedFS

    queries = [
        "SELECT source, source_id, pipeline_version FROM articles ORDER BY 1, 2",
        "SELECT run_id, status, articles_written, warc_files FROM runs ORDER BY run_id",
        "SELECT reason, count(*) AS n FROM quarantine GROUP BY 1 ORDER BY 1",
    ]
    build_archive(tmp_path / "local")
    local = [rows(capsys, q, tmp_path / "local") for q in queries]
    (tmp_path / "s3").mkdir()
    with SeaweedFS(tmp_path / "s3", table_bucket="warehouse") as s3:
        for key, value in s3.catalog_properties.items():
            monkeypatch.setenv(f"PYICEBERG_CATALOG__LAKE__{key.upper().replace('-', '_').replace('.', '__')}", value)
        spec = resolve(str(tmp_path / "unused"), "lake")
        assert not spec.embedded and spec.properties["type"] == "rest"
        build_archive(spec)
        remote = [rows(capsys, q, tmp_path / "unused", "--catalog", "lake") for q in queries]
        assert remote == local
        code, _, err = sql(capsys, "SELECT 1", "--catalog", "lake", "--namespace", "nope")
        assert code == 2 and "nope.articles" in err
        s3.stop()
        code, _, err = sql(capsys, "SELECT count(*) FROM articles", "--catalog", "lake")  # the server is gone
        assert code == 1 and "cannot" in err
    assert not (tmp_path / "unused").exists()


def test_e2e_crawls_then_sql(crawled_archive):
    """What real crawls committed: one row per article, every version in articles_all, the
    runs table with the partial run, all through the embedded catalog in ARCHIVE_URI."""
    archive, env = crawled_archive

    def ask(query: str) -> list[dict[str, Any]]:
        proc = subprocess.run(
            [sys.executable, "-m", "newsarchive", "sql", query, "--archive", str(archive), "--format", "json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    current = ask("SELECT source, count(*) AS n, count(DISTINCT source_id) AS ids FROM articles GROUP BY 1 ORDER BY 1")
    assert [r["source"] for r in current] == ["finews", "thepaper"]
    assert all(r["n"] == r["ids"] for r in current)
    finews = ask("SELECT DISTINCT pipeline_version FROM articles WHERE source = 'finews'")
    assert finews == [{"pipeline_version": "99.0.0"}]  # the reparse's rows are the current ones
    everything = ask("SELECT count(*) AS n FROM articles_all WHERE source = 'finews'")
    assert everything[0]["n"] == 2 * current[0]["n"]
    runs = ask("SELECT status, articles_written FROM runs ORDER BY started_at")
    assert "partial" in {r["status"] for r in runs} and len(runs) == 4
    assert sum(r["articles_written"] or 0 for r in runs) == sum(
        r["n"] for r in ask("SELECT count(*) AS n FROM articles_all")
    )


def summary(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["summary", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_shows_the_latest_run_or_the_one_asked_for(capsys, tables_archive):
    code, out, err = summary(capsys, "--archive", str(tables_archive))
    assert code == 0, err
    assert f"Run {FAILED} (finews)  failed (shutdown)" in out and "articles 0, quarantined 0" in out
    assert "Articles per media and Beijing day (0 rows)" in out
    code, out, err = summary(capsys, "--archive", str(tables_archive), "--run", PARTIAL)
    assert code == 0, err
    assert f"Run {PARTIAL} (finews)  partial" in out
    assert "problem: list http://127.0.0.1:1/down: http_error (HTTP 503)" in out
    # counted from the rows carrying the run's id: rows 13 and 14, one each Beijing day
    assert "Articles per media and Beijing day (2 rows):" in out
    assert "2022-01-12  澎湃新闻" in out and "2022-01-13  (unknown)" in out
    assert "Quarantined records (1):" in out and "http_error" in out
    assert f"warc/date=2022-01-13/{PARTIAL}-0.warc.gz  (2 records, 10 bytes)" in out


def test_summary_of_an_unknown_run_or_of_no_run(capsys, tables_archive, tmp_path):
    code, _, err = summary(capsys, "--archive", str(tables_archive), "--run", "20990101T000000Z-00000000")
    assert code == 2 and "no run '20990101T000000Z-00000000'" in err
    embedded(tmp_path / "archive")
    code, out, _ = summary(capsys, "--archive", str(tmp_path / "archive"))
    assert code == 0 and "No run committed yet." in out
    assert summary(capsys, "--archive", str(tmp_path / "nothing"))[0] == 2


def test_e2e_summary_of_the_latest_crawl(crawled_archive):
    """After real crawls, summary shows the last one (thepaper) with what its rows count."""
    archive, env = crawled_archive
    proc = subprocess.run(
        [sys.executable, "-m", "newsarchive", "summary", "--archive", str(archive)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "(thepaper)  complete" in proc.stdout and "WARC files (0)" not in proc.stdout
