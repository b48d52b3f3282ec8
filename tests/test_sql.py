"""``newsarchive sql``: the archive as DuckDB views, over real crawls, locally and in S3."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, clean_env, run_cli, s3_env


def sql(query: str, *args: str, env: dict[str, str] | None = None):
    return run_cli("sql", query, *args, env=env)


def parquet_rows(root: Path, table: str) -> list[dict]:
    """The rows of every part under ``root/table``, read file by file with pyarrow."""
    rows: list[dict] = []
    for path in sorted((root / table).rglob("part-*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


@pytest.fixture(scope="module")
def versions(analytics_archive: Path) -> dict[str, list[dict]]:
    return {
        "finews": parquet_rows(analytics_archive / "finews", "articles"),
        "thepaper": parquet_rows(analytics_archive / "thepaper", "articles"),
    }


def rows_of(proc) -> list[dict]:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_articles_is_one_row_per_article_and_articles_all_every_version(analytics_archive, versions):
    counts = rows_of(
        sql(
            "SELECT source, count(*) AS n FROM articles_all GROUP BY 1 ORDER BY 1",
            "--archive",
            str(analytics_archive),
            "--format",
            "json",
        )
    )
    assert counts == [{"source": s, "n": len(versions[s])} for s in ("finews", "thepaper")]
    current = rows_of(
        sql(
            "SELECT source, source_id, pipeline_version FROM articles ORDER BY 1, 2",
            "--archive",
            str(analytics_archive),
            "--format",
            "json",
        )
    )
    for source, rows in versions.items():
        ids = {r["source_id"] for r in rows}
        mine = [r for r in current if r["source"] == source]
        assert sorted(r["source_id"] for r in mine) == sorted(ids)  # each article once
    finews = [r for r in current if r["source"] == "finews"]
    # the reparse at 99.0.0 wrote every finews article again: its rows are the current ones
    assert len(versions["finews"]) == 2 * len(finews)
    assert {r["pipeline_version"] for r in finews} == {"99.0.0"}


def test_runs_view_reads_every_manifest(analytics_archive):
    manifests = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(analytics_archive.glob("*/runs/*.json"))]
    runs = rows_of(
        sql(
            "SELECT run_id, status, requests, duration_s, requests_by_kind, manifest FROM runs ORDER BY run_id",
            "--archive",
            str(analytics_archive),
            "--format",
            "json",
        )
    )
    assert [r["run_id"] for r in runs] == sorted(m["run_id"] for m in manifests)
    by_id = {m["run_id"]: m for m in manifests}
    for run in runs:
        m = by_id[run["run_id"]]
        assert run["status"] == m["status"]
        assert run["requests"] == m["counts"].get("requests")
        assert run["requests_by_kind"] == m["counts"].get("requests_by_kind", {})
        assert run["duration_s"] > 0
        assert run["manifest"] == f"runs/{run['run_id']}.json"
    assert "partial" in {r["status"] for r in runs}


def test_quarantine_view_and_types(analytics_archive):
    rows = rows_of(
        sql(
            "SELECT reason, typeof(date) AS date_type, typeof(seen_at) AS ts_type, typeof(source) AS source_type "
            "FROM quarantine ORDER BY reason",
            "--archive",
            str(analytics_archive / "finews"),
            "--format",
            "json",
        )
    )
    expected = sorted(r["reason"] for r in parquet_rows(analytics_archive / "finews", "quarantine"))
    assert [r["reason"] for r in rows] == expected
    assert {(r["date_type"], r["ts_type"], r["source_type"]) for r in rows} == {
        ("DATE", "TIMESTAMP WITH TIME ZONE", "VARCHAR")
    }


def test_table_csv_and_stdin(analytics_archive):
    query = "SELECT source, count(*) AS n, min(title) AS first_title FROM articles GROUP BY 1 ORDER BY 1"
    table = sql(query, "--archive", str(analytics_archive))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split("|")[0].strip() == "source" and lines[-1] == "(2 rows)"
    assert lines[2].startswith("finews ") and lines[3].startswith("thepaper ")
    as_csv = sql(query, "--archive", str(analytics_archive), "--format", "csv")
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["source"] for r in parsed] == ["finews", "thepaper"]
    assert all("|" not in r["first_title"] for r in parsed)
    import subprocess
    import sys

    piped = subprocess.run(
        [sys.executable, "-m", "newsarchive", "sql", "-", "--archive", str(analytics_archive), "--format", "jsonl"],
        input=query,
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=ROOT,
        timeout=120,
    )
    assert [json.loads(line) for line in piped.stdout.splitlines()] == [
        {"source": r["source"], "n": int(r["n"]), "first_title": r["first_title"]} for r in parsed
    ]


def test_out_writes_parquet(analytics_archive, tmp_path):
    out = tmp_path / "result" / "media.parquet"
    proc = sql(
        "SELECT media_name, count(*) AS n FROM articles GROUP BY 1",
        "--archive",
        str(analytics_archive),
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(out)
    total = rows_of(sql("SELECT count(*) AS n FROM articles", "--archive", str(analytics_archive), "--format", "json"))
    assert sum(table["n"].to_pylist()) == total[0]["n"]
    assert not list(out.parent.glob(".*"))  # no temporary file left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["SELECT nope FROM articles"], "nope"),
        (["SELECT * FROM no_such_view"], "no_such_view"),
        (["SELECT 1", "--out", "x.xlsx"], "unknown extension"),
        (["SELECT 1", "--archive", "/"], "not an archive"),
        (["SELECT 1", "--archive", "/no/such/dir"], "no such directory"),
        (["   "], "empty query"),
    ],
)
def test_bad_usage_exits_2_with_a_clear_message(analytics_archive, args, message, tmp_path):
    query, *rest = args
    if "--archive" not in rest:
        rest += ["--archive", str(analytics_archive)]
    proc = run_cli("sql", query, *[str(tmp_path / a) if a.endswith(".xlsx") else a for a in rest])
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_archive_in_s3(analytics_archive, seaweed, bucket_uri):
    """Upload one spider's archive to SeaweedFS and query it there through pyarrow's S3
    filesystem: the same answer as the local copy."""
    local = analytics_archive / "finews"
    up = run_cli("upload", "--archive", str(local), "--to", bucket_uri, env=s3_env(seaweed))
    assert up.returncode == 0, up.stderr
    query = "SELECT source_id, pipeline_version FROM articles ORDER BY 1"
    remote = sql(query, "--archive", bucket_uri, "--format", "json", env=s3_env(seaweed))
    assert rows_of(remote) == rows_of(sql(query, "--archive", str(local), "--format", "json"))
    runs = sql("SELECT count(*) AS n FROM runs", "--archive", bucket_uri, "--format", "json", env=s3_env(seaweed))
    assert rows_of(runs) == [{"n": len(list((local / "runs").glob("*.json")))}]
    denied = sql(query, "--archive", bucket_uri, env=s3_env(seaweed, AWS_SECRET_ACCESS_KEY="wrong"))
    assert denied.returncode == 1
    assert "wrong" not in denied.stderr + denied.stdout
    # a misspelt bucket or prefix is an error, not an empty answer
    missing = sql(query, "--archive", "s3://no-such-bucket/archive", env=s3_env(seaweed))
    assert missing.returncode == 1 and "no-such-bucket" in missing.stderr
    empty = sql(query, "--archive", f"{bucket_uri}-typo", env=s3_env(seaweed))
    assert empty.returncode == 2 and "not an archive" in empty.stderr
