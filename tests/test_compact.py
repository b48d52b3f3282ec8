"""Compaction: one file per partition, every article version kept, nothing lost on the way."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from newsarchive.archive.compact import compact
from newsarchive.archive.layout import Layout
from newsarchive.archive.reader import open_dataset
from newsarchive.storage.store import LocalStore, S3Store
from newsarchive.storage.sync import upload_archive
from newsarchive.storage.verify import verify_store
from tests.conftest import FAST, last_json, run_cli, run_crawl, s3_env

A, B = "NW202201122245299970", "NW202201122245299971"


def site(server, bodies: dict[str, str]):
    records = [
        {"infoCode": code, "medianame": "澎湃新闻", "datetime": "2022-01-12 15:51:41", "title": f"标题{code[-1]}"}
        for code in bodies
    ]
    server.add("/list?marketType=37", json.dumps({"record": records}).encode())
    for code, body in bodies.items():
        server.add(f"/text?id={code}", json.dumps({"text": body}).encode())
    return {
        **FAST,
        "FINEWS_LIST_URLS": server.url("/list?marketType=37"),
        "FINEWS_TEXT_URL": server.url("/text?id={info_code}"),
    }


@pytest.fixture
def three_runs(tmp_path, feed_server):
    """Run 1: A. Run 2: B, and A refetched with a changed body (a new version). Plus a
    reparsed copy of A's first version (same content, newer pipeline version)."""
    archive = tmp_path / "archive"
    assert run_crawl("finews", {**site(feed_server, {A: "<p>v1</p>"}), "ARCHIVE_URI": archive}).returncode == 0
    r2 = run_crawl(
        "finews",
        {**site(feed_server, {A: "<p>v2</p>", B: "<p>b</p>"}), "ARCHIVE_URI": archive, "FINEWS_REFETCH": "True"},
    )
    assert r2.returncode == 0 and r2.manifest["counts"]["articles_written"] == 2
    part = sorted((archive / "articles/source=finews/date=2022-01-12").glob("part-*.parquet"))[0]
    table = pq.read_table(part)
    row = table.to_pylist()[0]
    row.update(pipeline_version="0.10.0")  # a reparse keeps the fetch time (the WARC-Date)
    import pyarrow as pa

    pq.write_table(
        pa.Table.from_pylist([row], schema=table.schema), part.with_name("part-20200101T000000Z-reparse0-0.parquet")
    )
    return archive


def versions(uri: str) -> list[tuple[str, str, str]]:
    rows = open_dataset(uri).to_table().to_pylist()
    return sorted((r["source_id"], r["content_text"], r["pipeline_version"]) for r in rows)


def test_local_compaction_keeps_each_version_once(three_runs):
    archive = three_runs
    partition = archive / "articles/source=finews/date=2022-01-12"
    assert len(list(partition.glob("part-*.parquet"))) == 3
    assert len(versions(str(archive))) == 4  # A v1 twice (two pipeline versions), A v2, B
    report = compact(LocalStore(str(archive)), sources=["finews"])
    files = list(partition.glob("part-*.parquet"))
    assert len(files) == 1 and files[0].name.startswith("part-compact-")
    got = versions(str(archive))
    assert [(i, t) for i, t, _ in got] == [(A, "v1"), (A, "v2"), (B, "b")]
    assert dict(((i, t), v) for i, t, v in got)[(A, "v1")] == "0.10.0"  # the newest pipeline wins
    assert (report.rows_before, report.rows_after) == (4 + 3, 3 + 3)  # articles + index rows
    assert len(list((archive / "index/articles/source=finews").glob("part-*.parquet"))) == 1
    manifest = json.loads((archive / f"compactions/{report.compaction_id}.json").read_text())
    assert set(manifest["replaces"]) == set(report.replaces) and len(manifest["files"]) == 2
    assert verify_store(LocalStore(str(archive))).ok
    assert compact(LocalStore(str(archive))).partitions == 0  # nothing left to do


def test_compaction_in_the_bucket_and_verify(three_runs, seaweed, bucket_uri):
    archive = three_runs
    store = S3Store(bucket_uri, seaweed.config)
    upload_archive(Layout(archive), store)
    env = s3_env(seaweed)
    proc = run_cli("compact", "--archive", bucket_uri, "--all", env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = last_json(proc.stdout)
    assert out["partitions"] == 2 and out["rows_after"] == 3 + 3  # articles + index rows
    parts = [o.key for o in store.objects("articles/")]
    assert len(parts) == 1
    verified = last_json(run_cli("verify", "--archive", bucket_uri, "--deep", env=env).stdout)
    # the parts and index parts named by the two run manifests (the hand-made part has none)
    assert verified["status"] == "ok" and verified["files_replaced_by_compaction"] == 4
    # the next crawl still skips everything: the compacted index holds every id
    fresh = archive.parent / "fresh"
    assert run_cli("pull-index", "--from", bucket_uri, "--archive", str(fresh), env=env).returncode == 0
    assert {r["source_id"] for r in pq.read_table(fresh / "index").to_pylist()} == {A, B}
