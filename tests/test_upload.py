"""Verified, idempotent upload to a real S3-compatible server (SeaweedFS on 127.0.0.1)."""

from __future__ import annotations

import os

import duckdb
import pyarrow.dataset as ds
import pytest

from newsarchive.archive.layout import Layout
from newsarchive.storage.s3 import parse_s3_uri
from newsarchive.storage.store import S3Store, StoreError
from newsarchive.storage.sync import upload_archive
from newsarchive.storage.verify import verify_store
from tests.conftest import last_json, run_cli, run_crawl, s3_env


@pytest.fixture
def crawled(tmp_path, sample_settings):
    archive = tmp_path / "archive"
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive})
    assert result.returncode == 0
    return archive, result


def keys(store: S3Store) -> dict[str, int]:
    return {o.key: o.size for o in store.objects("")}


def test_upload_mirrors_the_layout_and_reads_back(crawled, seaweed, bucket_uri):
    archive, result = crawled
    proc = run_cli("upload", "--archive", str(archive), "--to", bucket_uri, env=s3_env(seaweed))
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = last_json(proc.stdout)
    assert report["runs_uploaded"] == [result.summary["run_id"]]
    store = S3Store(bucket_uri, seaweed.config)
    local = {
        p.relative_to(archive).as_posix(): p.stat().st_size
        for p in archive.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(archive).parts)
    }
    assert keys(store) == local
    # analysts read the uploaded dataset through pyarrow's S3 filesystem, and DuckDB over it
    bucket, prefix = parse_s3_uri(bucket_uri)
    dataset = ds.dataset(
        f"{bucket}/{prefix}/articles",
        filesystem=seaweed.config.arrow(),
        format="parquet",
        partitioning=ds.HivePartitioning.discover(infer_dictionary=True),
    )
    assert dataset.count_rows() == 44
    rows = duckdb.sql("SELECT media_name, count(*) FROM dataset WHERE media_name = '澎湃新闻' GROUP BY 1").fetchall()
    assert rows == [("澎湃新闻", 1)]
    from newsarchive.archive.reader import open_dataset

    env = seaweed.config.env()
    os.environ.update(env)
    try:
        assert open_dataset(bucket_uri).count_rows() == 44
    finally:
        for k in env:
            os.environ.pop(k, None)


def test_second_upload_adds_nothing(crawled, seaweed, bucket_uri):
    archive, _ = crawled
    store = S3Store(bucket_uri, seaweed.config)
    first = upload_archive(Layout(archive), store)
    before = keys(store)
    second = upload_archive(Layout(archive), store)
    assert first.objects_uploaded == len(before) and second.objects_uploaded == 0
    assert second.runs_skipped == first.runs_uploaded and keys(store) == before
    forced = upload_archive(Layout(archive), store, run_id=first.runs_uploaded[0])
    assert forced.objects_uploaded == 0 and forced.objects_present == len(before)


def test_manifest_goes_last(crawled, seaweed, bucket_uri):
    """If a file cannot be uploaded, the run's manifest never reaches the bucket."""
    archive, result = crawled
    victim = next(archive.rglob("part-*.parquet"))
    victim.unlink()
    store = S3Store(bucket_uri, seaweed.config, max_attempts=1)
    with pytest.raises(StoreError, match="missing locally"):
        upload_archive(Layout(archive), store)
    assert not store.exists(f"runs/{result.summary['run_id']}.json")


def test_verify_finds_missing_and_corrupt_objects(crawled, seaweed, bucket_uri):
    archive, _ = crawled
    store = S3Store(bucket_uri, seaweed.config)
    upload_archive(Layout(archive), store)
    ok = run_cli("verify", "--archive", bucket_uri, env=s3_env(seaweed))
    # 9 article parts, the quarantine part, 2 index parts, the WARC file
    assert ok.returncode == 0 and last_json(ok.stdout)["files_checked"] == 13
    assert run_cli("verify", "--archive", str(archive)).returncode == 0
    part = next(k for k in keys(store) if k.startswith("articles/"))
    store.client.put_object(Bucket=store.bucket, Key=store.key(part), Body=b"tampered", Metadata={"sha256": "0" * 64})
    deep = run_cli("verify", "--archive", bucket_uri, "--deep", env=s3_env(seaweed))
    assert deep.returncode == 1 and f"corrupt: {part}" in deep.stdout
    store.delete([part])
    missing = verify_store(store)
    assert missing.problems == [f"missing: {part}"]


def test_an_existing_object_is_never_replaced(tmp_path, seaweed, bucket_uri):
    store = S3Store(bucket_uri, seaweed.config)
    assert store.put_bytes("runs/x.json", b"{}")
    assert not store.put_bytes("runs/x.json", b"{}")
    from newsarchive.archive.files import FinalExistsError

    with pytest.raises(FinalExistsError):
        store.put_bytes("runs/x.json", b'{"other": 1}')


def test_multipart_upload_with_sha256_parts(tmp_path, seaweed, bucket_uri):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * 1024 * 1024 + 123))
    store = S3Store(bucket_uri, seaweed.config, multipart_threshold=5 * 1024 * 1024, part_size=5 * 1024 * 1024)
    assert store.put_file(big, "warc/big.bin")
    head = store.head("warc/big.bin")
    assert head["ContentLength"] == big.stat().st_size
    assert head.get("ChecksumSHA256", "-3").endswith("-3")  # composite checksum of 3 parts
    assert store.get_bytes("warc/big.bin") == big.read_bytes()
    assert not store.put_file(big, "warc/big.bin")  # idempotent


def test_wrong_credentials_fail_clearly_without_leaking(crawled, seaweed, bucket_uri):
    archive, _ = crawled
    secret = "fake-secret-should-never-appear-1234"
    env = s3_env(seaweed, AWS_ACCESS_KEY_ID="AKIAFAKEFAKEFAKE", AWS_SECRET_ACCESS_KEY=secret)
    proc = run_cli("upload", "--archive", str(archive), "--to", bucket_uri, env=env)
    assert proc.returncode == 1
    assert "InvalidAccessKeyId" in proc.stdout or "SignatureDoesNotMatch" in proc.stdout
    assert secret not in proc.stdout + proc.stderr


def test_pull_index_lets_an_empty_worker_crawl_incrementally(
    crawled, tmp_path, seaweed, bucket_uri, sample_settings, sample_server
):
    archive, _ = crawled
    upload_archive(Layout(archive), S3Store(bucket_uri, seaweed.config))
    fresh = tmp_path / "fresh-worker"
    pulled = run_cli("pull-index", "--from", bucket_uri, "--archive", str(fresh), env=s3_env(seaweed))
    assert pulled.returncode == 0 and last_json(pulled.stdout)["index_parts_pulled"] == 2
    texts = sample_server.count("/NewsData/GetNewsText.do")
    rerun = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": fresh})
    assert rerun.returncode == 0 and rerun.manifest["counts"]["articles_written"] == 0
    assert sample_server.count("/NewsData/GetNewsText.do") == texts


def test_pulled_index_parts_are_not_mistaken_for_a_dead_run(crawled, tmp_path, seaweed, bucket_uri, sample_settings):
    """A worker pulls other runs' index parts (no manifests locally): its next crawl must not
    'recover' them as a run that died here."""
    archive, _ = crawled
    upload_archive(Layout(archive), S3Store(bucket_uri, seaweed.config))
    fresh = tmp_path / "worker"
    assert run_cli("pull-index", "--from", bucket_uri, "--archive", str(fresh), env=s3_env(seaweed)).returncode == 0
    rerun = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": fresh})
    assert rerun.returncode == 0
    assert "Adopted files" not in rerun.stderr
    assert sorted(p.stem for p in (fresh / "runs").glob("*.json")) == [rerun.summary["run_id"]]
