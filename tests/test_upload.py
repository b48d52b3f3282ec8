"""Uploading raw capture: a crawl's WARC files to a plain bucket prefix of a real
S3-compatible server (SeaweedFS on 127.0.0.1), verified and idempotent.

``test_e2e_*`` needs the crawl's Iceberg write path (the ``runs`` table listing its WARC files).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from newsarchive.storage.store import ObjectExistsError, S3Store
from tests.faultproxy import CountingS3Proxy
from tests.helpers import last_json, run_cli, run_crawl, s3_env

DAY = "date=2026-11-27"


@pytest.fixture
def env(seaweed, tmp_path):
    """The S3 server's credentials, and a HOME without a .pyiceberg.yaml."""
    home = tmp_path / "home"
    home.mkdir()
    env = s3_env(seaweed, HOME=str(home), PYICEBERG_HOME=str(home))
    return {k: v for k, v in env.items() if not k.upper().startswith("PYICEBERG_CATALOG")}


def workdir(root: Path, sizes: tuple[int, ...] = (1000, 2000)) -> Path:
    """A crawl's working directory: WARC files, one being written, and what is not raw capture."""
    warc = root / "warc" / DAY
    warc.mkdir(parents=True)
    for n, size in enumerate(sizes):
        (warc / f"20261127T000000Z-abcdef01-{n}.warc.gz").write_bytes(os.urandom(size))
    (warc / ".20261127T000000Z-abcdef02-0.warc.gz.tmp").write_bytes(b"being written")
    (root / "warc" / "notes.txt").write_text("not a WARC file")
    (root / "catalog.db").write_bytes(b"SQLite format 3\x00")
    (root / "warehouse" / "articles").mkdir(parents=True)
    (root / "warehouse" / "articles" / "part.parquet").write_bytes(b"PAR1")
    return root


def keys(store: S3Store) -> dict[str, int]:
    return {o.key: o.size for o in store.objects("")}


def local_warc(root: Path) -> dict[str, int]:
    return {f"{DAY}/{p.name}": p.stat().st_size for p in (root / "warc" / DAY).glob("*.warc.gz") if not p.is_symlink()}


def test_upload_sends_the_warc_files_and_nothing_else(tmp_path, seaweed, bucket_uri, env):
    root = workdir(tmp_path / "work")
    proc = run_cli("upload", "--archive", str(root), "--to", bucket_uri, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = last_json(proc.stdout)
    assert (report["status"], report["files_uploaded"], report["bytes_uploaded"]) == ("complete", 2, 3000)
    store = S3Store(bucket_uri, seaweed.config)
    assert keys(store) == local_warc(root)  # <prefix>/<path under warc/>: no temp file, no table file
    for key in local_warc(root):
        digest = hashlib.sha256((root / "warc" / key).read_bytes()).hexdigest()
        assert store.recorded_sha256(key) == digest
    again = last_json(run_cli("upload", "--archive", str(root), "--to", bucket_uri, env=env).stdout)
    assert (again["files_uploaded"], again["files_present"]) == (0, 2)
    assert keys(store) == local_warc(root)


def test_the_destination_defaults_to_warc_uri(tmp_path, seaweed, bucket_uri, env):
    root = workdir(tmp_path / "work", (10,))
    missing = run_cli("upload", "--archive", str(root), env=env)
    assert missing.returncode == 2 and "WARC_URI" in missing.stderr
    proc = run_cli("upload", env={**env, "NEWSARCHIVE_WARC_URI": bucket_uri, "NEWSARCHIVE_ARCHIVE_URI": str(root)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert keys(S3Store(bucket_uri, seaweed.config)) == local_warc(root)


def test_prune_deletes_only_what_the_bucket_holds(tmp_path, seaweed, bucket_uri, env):
    root = workdir(tmp_path / "work")
    uploaded = local_warc(root)
    proc = run_cli("upload", "--archive", str(root), "--to", bucket_uri, "--prune", env=env)
    assert proc.returncode == 0 and last_json(proc.stdout)["files_pruned"] == 2
    assert local_warc(root) == {} and keys(S3Store(bucket_uri, seaweed.config)) == uploaded
    assert (root / "warc" / DAY / ".20261127T000000Z-abcdef02-0.warc.gz.tmp").exists()  # not complete: kept
    assert (root / "catalog.db").exists()


def test_an_object_with_other_content_is_never_replaced(tmp_path, seaweed, bucket_uri, env):
    root = workdir(tmp_path / "work", (100,))
    (key,) = local_warc(root)
    store = S3Store(bucket_uri, seaweed.config)
    assert store.put_bytes(key, b"someone else's bytes")
    proc = run_cli("upload", "--archive", str(root), "--to", bucket_uri, "--prune", env=env)
    assert proc.returncode == 1 and "exists with other content" in last_json(proc.stdout)["error"]
    assert store.get_bytes(key) == b"someone else's bytes"
    assert local_warc(root)  # not pruned: the bucket does not hold it
    with pytest.raises(ObjectExistsError):
        store.put_bytes(key, b"other")


def test_a_symbolic_link_is_never_followed(tmp_path, seaweed, bucket_uri, env):
    root = workdir(tmp_path / "work", (10,))
    secret = tmp_path / "outside.warc.gz"
    secret.write_bytes(b"not the archive's")
    (root / "warc" / DAY / "planted.warc.gz").symlink_to(secret)
    (root / "warc" / "date=2026-11-28").symlink_to(tmp_path)
    proc = run_cli("upload", "--archive", str(root), "--to", bucket_uri, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert last_json(proc.stdout)["links_skipped"] == ["warc/date=2026-11-27/planted.warc.gz", "warc/date=2026-11-28"]
    assert keys(S3Store(bucket_uri, seaweed.config)) == local_warc(root)
    assert "planted.warc.gz" in proc.stderr and secret.exists()


def test_warc_files_never_go_into_the_catalogs_table_bucket(tmp_path, seaweed, bucket_uri, env):
    root = workdir(tmp_path / "work", (10,))
    catalog = {
        "PYICEBERG_CATALOG__NEWSARCHIVE__TYPE": "rest",
        "PYICEBERG_CATALOG__NEWSARCHIVE__URI": "http://127.0.0.1:9",
        "PYICEBERG_CATALOG__NEWSARCHIVE__WAREHOUSE": f"s3://{seaweed.bucket}",
    }
    proc = run_cli("upload", "--archive", str(root), "--to", bucket_uri, env={**env, **catalog})
    assert proc.returncode == 2 and "never into a table bucket" in proc.stderr
    assert keys(S3Store(bucket_uri, seaweed.config)) == {}


def test_an_invalid_destination_is_refused_before_any_request(tmp_path, env):
    root = workdir(tmp_path / "work", (10,))
    for bad in ("/some/dir", "s3://Bad_Bucket/x", "s3://bucket/a/../b"):
        proc = run_cli("upload", "--archive", str(root), "--to", bad, env=env)
        assert proc.returncode == 2, (bad, proc.stderr)


def test_multipart_upload_with_sha256_parts(tmp_path, seaweed, bucket_uri):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * 1024 * 1024 + 123))
    store = S3Store(bucket_uri, seaweed.config, multipart_threshold=5 * 1024 * 1024, part_size=5 * 1024 * 1024)
    assert store.put_file(big, "date=2026-11-27/big.warc.gz")
    head = store.head("date=2026-11-27/big.warc.gz")
    assert head["ContentLength"] == big.stat().st_size
    assert head.get("ChecksumSHA256", "-3").endswith("-3")  # composite checksum of 3 parts
    assert store.get_bytes("date=2026-11-27/big.warc.gz") == big.read_bytes()
    assert not store.put_file(big, "date=2026-11-27/big.warc.gz")  # idempotent


def test_wrong_credentials_fail_clearly_without_leaking(tmp_path, seaweed, bucket_uri, env):
    """Refused at once: one request (a 403 is not retried by botocore, and nothing of ours
    retries on top), a clear message, the secret nowhere."""
    root = workdir(tmp_path / "work", (10,))
    secret = "fake-secret-should-never-appear-1234"
    proxy = CountingS3Proxy(int(seaweed.port))
    bad = {
        **env,
        "AWS_ENDPOINT_URL": proxy.endpoint,
        "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKE",
        "AWS_SECRET_ACCESS_KEY": secret,
    }
    try:
        proc = run_cli("upload", "--archive", str(root), "--to", bucket_uri, env=bad)
    finally:
        proxy.close()
    assert proc.returncode == 1
    assert "InvalidAccessKeyId" in proc.stdout or "SignatureDoesNotMatch" in proc.stdout
    assert secret not in proc.stdout + proc.stderr
    assert [(method, key_id) for method, _, key_id, _ in proxy.requests] == [("GET", "AKIAFAKEFAKEFAKE")]


def test_the_retry_settings_are_checked_before_any_request(tmp_path, env):
    root = workdir(tmp_path / "work", (10,))
    for name, value in (("S3_RETRY_MODE", "legacy"), ("S3_MAX_ATTEMPTS", "0")):
        proc = run_cli(
            "upload", "--archive", str(root), "--to", "s3://bucket/x", env={**env, f"NEWSARCHIVE_{name}": value}
        )
        assert proc.returncode == 2 and name in proc.stderr, proc.stderr[-2000:]


def test_e2e_crawl_then_upload_every_warc_file_its_runs_row_lists(tmp_path, seaweed, bucket_uri, env, sample_settings):
    """A real crawl (embedded catalog in its working directory), then the upload: the bucket
    holds each WARC file the ``runs`` row lists, with the size and SHA-256 it records."""
    archive = tmp_path / "archive"
    crawl_env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    result = run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive}, env=crawl_env)
    assert result.returncode == 0, result.stderr[-3000:]
    proc = run_cli("upload", "--archive", str(archive), "--to", bucket_uri, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    store = S3Store(bucket_uri, seaweed.config)
    local = {p.relative_to(archive / "warc").as_posix(): p.stat().st_size for p in archive.rglob("*.warc.gz")}
    assert local and keys(store) == local
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog(
        "newsarchive", uri=f"sqlite:///{archive}/catalog.db", warehouse=(archive / "warehouse").as_uri()
    )
    (row,) = catalog.load_table(("newsarchive", "runs")).scan().to_arrow().to_pylist()
    assert row["warc_files"]
    for f in row["warc_files"]:
        key = f["path"].removeprefix("warc/")
        assert store.recorded_sha256(key) == f["sha256"] and keys(store)[key] == f["bytes"]
