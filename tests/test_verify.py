"""``newsarchive verify``: the current snapshots against the object store, the runs' WARC
files against where they are, unreferenced files named; exit codes 0, 1, 2."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from newsarchive.tables.catalog import CatalogSpec, resolve
from newsarchive.tables.definitions import ARTICLES, RUNS
from newsarchive.tables.verify import verify
from tests.maint_fixture import (
    build,
    commit_rows,
    isolated_pyiceberg,  # noqa: F401 (a fixture)
    run_id,
    run_row,
)

pytestmark = pytest.mark.usefixtures("isolated_pyiceberg")
ROOT = Path(__file__).resolve().parent.parent
DAY = "warc/date=2026-01-06"


def warc_entry(root: Path, name: str, body: bytes) -> dict[str, Any]:
    """A WARC file under ``root`` (the WARC location) and its entry in a ``runs`` row."""
    path = root / DAY.removeprefix("warc/") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return {"path": f"{DAY}/{name}", "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(), "records": 1}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def spec(archive: Path) -> CatalogSpec:
    s = resolve(str(archive))
    build(s, runs=3)
    warcs = [warc_entry(archive / "warc", f"{run_id(50)}-{n}.warc.gz", b"WARC/1.1 record %d" % n) for n in range(2)]
    commit_rows(s, RUNS, [run_row(50, warcs)], run_id(50))
    return s


def cli(archive: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, list[str], dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "newsarchive", "verify", "--archive", str(archive), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=env,
    )
    lines = proc.stdout.splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return proc.returncode, lines[:-1], summary


def data_files(spec: CatalogSpec, name: str = ARTICLES) -> list[Path]:
    table = spec.open().load_table((spec.namespace, name))
    return [Path(t.file.file_path.removeprefix("file://")) for t in table.scan().plan_files()]


def test_an_intact_archive_verifies(spec: CatalogSpec, archive: Path) -> None:
    code, problems, summary = cli(archive, "--deep")
    assert (code, problems, summary["status"]) == (0, [], "ok")
    assert summary["tables"][ARTICLES]["data_files"] == 9 and summary["tables"][ARTICLES]["rows"] == 45
    assert summary["tables"][RUNS]["rows"] == 4 and summary["warc_files_checked"] == 2


def test_a_missing_or_truncated_data_file_fails(spec: CatalogSpec, archive: Path) -> None:
    gone, cut = data_files(spec)[:2]
    gone.unlink()
    cut.write_bytes(cut.read_bytes()[:-10])
    code, problems, summary = cli(archive)
    assert code == 1 and summary["problems"] == 2
    assert any(p.startswith("missing: articles data file") and gone.name in p for p in problems)
    assert any(p.startswith("corrupt: articles data file") and cut.name in p for p in problems)


def test_deep_reads_the_footers(spec: CatalogSpec, archive: Path) -> None:
    damaged = data_files(spec)[0]
    data = bytearray(damaged.read_bytes())
    data[-8:-4] = b"\xff\xff\xff\x7f"  # the footer's length: same size, unreadable footer
    damaged.write_bytes(bytes(data))
    assert cli(archive)[0] == 0  # the size is right: only --deep can tell
    code, problems, _ = cli(archive, "--deep")
    assert code == 1 and problems == [p for p in problems if damaged.name in p and "unreadable footer" in p]


def test_unreferenced_files_are_named_not_deleted(spec: CatalogSpec, archive: Path) -> None:
    planted = data_files(spec)[0].parent / "planted.parquet"
    planted.write_bytes(b"not parquet")
    code, lines, summary = cli(archive, "--deep")
    assert code == 0 and summary["unreferenced"] == 1
    assert lines == [f"unreferenced: {planted.as_uri()}"]
    assert planted.exists()


def test_warc_files_are_checked_by_size_and_deep_by_sha256(spec: CatalogSpec, archive: Path) -> None:
    first, second = sorted((archive / "warc").rglob("*.warc.gz"))
    first.write_bytes(first.read_bytes().upper())  # same size, other bytes
    second.unlink()
    code, problems, _ = cli(archive)
    assert code == 1 and problems == [
        f"missing: WARC file {DAY}/{second.name} of run {run_id(50)} ({archive / 'warc'})"
    ]
    code, problems, _ = cli(archive, "--deep")
    assert code == 1 and f"corrupt: WARC file {DAY}/{first.name} (content does not match its SHA-256)" in problems
    assert cli(archive, "--no-warc")[0] == 0


def test_the_warc_location_can_be_named(spec: CatalogSpec, archive: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "uploaded"
    (archive / "warc").rename(elsewhere)
    assert cli(archive)[0] == 1
    code, _, summary = cli(archive, "--deep", "--warc", str(elsewhere))
    assert code == 0 and summary["warc"] == str(elsewhere)


def test_bad_usage_exits_2(spec: CatalogSpec, archive: Path) -> None:
    assert cli(archive, "--warc", "s3://Bad_Bucket/x")[0] == 2
    assert cli(archive, "--frobnicate")[0] == 2


def test_a_missing_table_is_a_problem(tmp_path: Path) -> None:
    spec = resolve(str(tmp_path / "empty"))
    report = verify(spec.open(), spec.namespace, warc=None)
    assert not report.ok and report.problems == [
        "missing: table newsarchive.articles",
        "missing: table newsarchive.quarantine",
        "missing: table newsarchive.runs",
    ]


@pytest.mark.slow
def test_verify_on_the_rest_catalog_and_a_warc_bucket(tmp_path: Path) -> None:
    from newsarchive.samples.seaweed import SeaweedFS
    from newsarchive.tables.maintain import table_filesystem

    (tmp_path / "s3").mkdir()
    with SeaweedFS(tmp_path / "s3", table_bucket="warehouse") as s3:
        spec = resolve(str(tmp_path / "archive"), overrides=s3.catalog_properties)
        build(spec, runs=2)
        local = tmp_path / "warc-local"
        warcs = [warc_entry(local, f"{run_id(50)}-{n}.warc.gz", b"WARC/1.1 %d" % n) for n in range(2)]
        commit_rows(spec, RUNS, [run_row(50, warcs)], run_id(50))
        s3.config.client().create_bucket(Bucket="news-raw")
        fs = s3.config.arrow()
        for w in warcs:
            with fs.open_output_stream(f"news-raw/warc/{w['path'].removeprefix('warc/')}", compression=None) as out:
                out.write((local / w["path"].removeprefix("warc/")).read_bytes())
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": s3.endpoint,
            "AWS_ACCESS_KEY_ID": s3.access_key,
            "AWS_SECRET_ACCESS_KEY": s3.secret_key,
            "AWS_REGION": "us-east-1",
        }
        for name, value in s3.catalog_properties.items():
            env[f"PYICEBERG_CATALOG__NEWSARCHIVE__{name.upper().replace('-', '_').replace('.', '__')}"] = value
        code, problems, summary = cli(tmp_path / "archive", "--deep", "--warc", "s3://news-raw/warc", env=env)
        assert (code, problems) == (0, []), summary
        assert summary["tables"][ARTICLES]["data_files"] == 6 and summary["warc_files_checked"] == 2
        assert "catalog 'newsarchive' (rest)" in summary["catalog"]

        table = spec.open().load_table((spec.namespace, ARTICLES))
        tfs, to_path = table_filesystem(table)
        victim = next(iter(table.scan().plan_files())).file.file_path
        tfs.delete_file(to_path(victim))
        fs.delete_file(f"news-raw/warc/{warcs[0]['path'].removeprefix('warc/')}")
        code, problems, _ = cli(tmp_path / "archive", "--warc", "s3://news-raw/warc", env=env)
        assert code == 1 and sorted(problems) == [
            f"missing: WARC file {warcs[0]['path']} of run {run_id(50)} (s3://news-raw/warc)",
            f"missing: articles data file {victim}",
        ]
