"""Object-store faults: the server down, slow, answering 500, killed mid-upload. botocore's
retries (the only layer: S3_MAX_ATTEMPTS requests per object at most), then a clear error;
nothing half-written under a final key; leftovers cleaned by the next upload."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsarchive.storage.s3 import S3Config
from newsarchive.storage.store import S3Store
from tests.faultproxy import CountingS3Proxy, FaultProxy
from tests.helpers import ROOT, last_json, run_cli, s3_env

MiB = 1024 * 1024
DAY = "date=2026-11-27"


def synthetic_run(root: Path, run_id: str, sizes: list[int]) -> dict[str, str]:
    """A crawl's working directory with WARC files of the given sizes; returns key → SHA-256
    (keys as uploaded: the path under ``warc/``)."""
    out = {}
    for n, size in enumerate(sizes):
        path = root / "warc" / DAY / f"{run_id}-{n}.warc.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
        out[f"{DAY}/{path.name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def intact(store: S3Store, files: dict[str, str]) -> bool:
    """Every file is in the bucket, its bytes hashing to its SHA-256, and nothing else is."""
    present = {o.key for o in store.objects("")}
    return present == set(files) and all(
        hashlib.sha256(store.get_bytes(k)).hexdigest() == sha for k, sha in files.items()
    )


def via(seaweed, endpoint: str) -> S3Config:
    cfg = seaweed.config
    return S3Config(
        endpoint_url=endpoint,
        access_key_id=cfg.access_key_id,
        secret_access_key=cfg.secret_access_key,
        region="us-east-1",
    )


ATTEMPTS = 3


def upload_env(seaweed, endpoint: str, **extra: str) -> dict[str, str]:
    return s3_env(seaweed, AWS_ENDPOINT_URL=endpoint, NEWSARCHIVE_S3_MAX_ATTEMPTS=str(ATTEMPTS), **extra)


def object_key(bucket_uri: str, key: str) -> str:
    """``bucket/prefix/key``: the path a request for ``key`` under ``bucket_uri`` names."""
    return f"{bucket_uri.removeprefix('s3://')}/{key}"


def test_server_down_fails_clearly_and_writes_nothing(tmp_path, seaweed, bucket_uri):
    synthetic_run(tmp_path, "20261127T000000Z-down0000", [1000])
    closed = "http://127.0.0.1:9"  # nothing listens there
    start = time.monotonic()
    proc = run_cli("upload", "--archive", str(tmp_path), "--to", bucket_uri, env=upload_env(seaweed, closed))
    assert proc.returncode == 1
    out = last_json(proc.stdout)
    assert out["status"] == "failed" and "failed after 3 attempts" in out["error"]
    assert time.monotonic() - start < 120
    assert list(S3Store(bucket_uri, seaweed.config).objects("")) == []


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_500s_are_retried_then_the_upload_succeeds(tmp_path, seaweed, bucket_uri, mode):
    """Each object's PUT answered 500 twice, then let through: botocore's retries (either
    mode) carry it, with exactly one more request per failure and nothing retried on top."""
    files = synthetic_run(tmp_path, "20261127T000000Z-flaky000", [2000, 3000])
    proxy = CountingS3Proxy(int(seaweed.port), fail=lambda method, key, n: method == "PUT" and n <= ATTEMPTS - 1)
    try:
        env = upload_env(seaweed, proxy.endpoint, NEWSARCHIVE_S3_RETRY_MODE=mode)
        proc = run_cli("upload", "--archive", str(tmp_path), "--to", bucket_uri, env=env)
    finally:
        proxy.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert proxy.failed == 2 * len(files)
    assert {k: proxy.count("PUT", object_key(bucket_uri, k)) for k in files} == dict.fromkeys(files, ATTEMPTS)
    assert intact(S3Store(bucket_uri, seaweed.config), files)


def test_500s_that_never_stop_fail_clearly_and_leave_nothing(tmp_path, seaweed, bucket_uri):
    """A PUT answered 500 for good costs S3_MAX_ATTEMPTS requests for that object, no more
    (botocore's retries are the only layer), then a clear error."""
    synthetic_run(tmp_path, "20261127T000000Z-broken00", [2000])
    proxy = CountingS3Proxy(int(seaweed.port), fail=lambda method, key, n: method == "PUT")
    try:
        proc = run_cli(
            "upload", "--archive", str(tmp_path), "--to", bucket_uri, env=upload_env(seaweed, proxy.endpoint)
        )
    finally:
        proxy.close()
    assert proc.returncode == 1 and f"failed after {ATTEMPTS} attempts" in last_json(proc.stdout)["error"]
    key = object_key(bucket_uri, f"{DAY}/20261127T000000Z-broken00-0.warc.gz")
    assert proxy.count("PUT", key) == ATTEMPTS
    assert [r for r in proxy.requests if r[0] == "PUT"] == [r for r in proxy.requests if r[1] == key and r[0] == "PUT"]
    assert list(S3Store(bucket_uri, seaweed.config).objects("")) == []  # nothing under a final key
    assert (tmp_path / "warc" / DAY / "20261127T000000Z-broken00-0.warc.gz").exists()  # kept for a retry


def test_a_server_answering_500_to_everything_gets_max_attempts_requests(tmp_path, seaweed, bucket_uri):
    """Every request refused with 500: the upload's first call is tried S3_MAX_ATTEMPTS
    times in all, then it stops (25 requests before: 5 of ours times 5 of botocore's)."""
    synthetic_run(tmp_path, "20261127T000000Z-all50000", [2000])
    proxy = FaultProxy(int(seaweed.port))
    proxy.fail_next = 10_000
    try:
        proc = run_cli(
            "upload", "--archive", str(tmp_path), "--to", bucket_uri, env=upload_env(seaweed, proxy.endpoint)
        )
    finally:
        proxy.close()
    assert proc.returncode == 1 and f"failed after {ATTEMPTS} attempts" in last_json(proc.stdout)["error"]
    assert proxy.failed == ATTEMPTS  # each failed attempt is a new connection (the 500 closes it)


def test_an_object_that_differs_after_its_put_is_not_sent_again(tmp_path, seaweed, bucket_uri):
    """The server took the PUT (our SHA-256 checked), but HEAD afterwards shows another
    digest: the upload fails with one PUT, no second one (it would replace an object we did
    not write), and the local file stays for the operator."""
    synthetic_run(tmp_path, "20261127T000000Z-differs0", [2000])
    key = object_key(bucket_uri, f"{DAY}/20261127T000000Z-differs0-0.warc.gz")

    def other_digest(method: str, path: str, status: int, headers: dict[str, str]) -> dict[str, str]:
        if method == "HEAD" and path == key and status == 200:
            return {**headers, "X-Amz-Meta-sha256": "0" * 64}
        return headers

    proxy = CountingS3Proxy(int(seaweed.port), rewrite=other_digest)
    try:
        proc = run_cli(
            "upload", "--archive", str(tmp_path), "--to", bucket_uri, env=upload_env(seaweed, proxy.endpoint)
        )
    finally:
        proxy.close()
    assert proc.returncode == 1 and "differ after upload" in last_json(proc.stdout)["error"]
    assert proxy.count("PUT", key) == 1
    assert (tmp_path / "warc" / DAY / "20261127T000000Z-differs0-0.warc.gz").exists()


def test_a_slow_server_still_gets_a_verified_upload(tmp_path, seaweed, bucket_uri):
    files = synthetic_run(tmp_path, "20261127T000000Z-slow0000", [6 * MiB])
    proxy = FaultProxy(int(seaweed.port), rate=4 * MiB)
    try:
        proc = run_cli(
            "upload",
            "--archive",
            str(tmp_path),
            "--to",
            bucket_uri,
            env=upload_env(
                seaweed,
                proxy.endpoint,
                NEWSARCHIVE_UPLOAD_MULTIPART_THRESHOLD=str(5 * MiB),
                NEWSARCHIVE_UPLOAD_PART_SIZE=str(5 * MiB),
            ),
        )
    finally:
        proxy.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert intact(S3Store(bucket_uri, seaweed.config), files)


def test_kill_9_mid_upload_then_rerun(tmp_path, seaweed, bucket_uri):
    """Killed in the middle of a multipart upload: nothing visible under the final key; the
    next upload aborts the dead multipart upload and completes."""
    run_id = "20261127T000000Z-killed00"
    files = synthetic_run(tmp_path, run_id, [20 * MiB])
    store = S3Store(bucket_uri, seaweed.config)
    proxy = FaultProxy(int(seaweed.port), rate=2 * MiB)  # ~10 s for the whole file
    env = upload_env(
        seaweed,
        proxy.endpoint,
        NEWSARCHIVE_UPLOAD_MULTIPART_THRESHOLD=str(5 * MiB),
        NEWSARCHIVE_UPLOAD_PART_SIZE=str(5 * MiB),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "upload", "--archive", str(tmp_path), "--to", bucket_uri],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ups = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix).get("Uploads", [])
            if ups:
                break
            time.sleep(0.1)
        assert ups, "the upload never started"
        time.sleep(1.0)  # some parts on their way
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proxy.close()
    (key,) = files
    assert not store.exists(key)
    assert store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix).get("Uploads")
    again = run_cli(
        "upload",
        "--archive",
        str(tmp_path),
        "--to",
        bucket_uri,
        env=s3_env(
            seaweed, NEWSARCHIVE_UPLOAD_MULTIPART_THRESHOLD=str(5 * MiB), NEWSARCHIVE_UPLOAD_PART_SIZE=str(5 * MiB)
        ),
    )
    assert again.returncode == 0, again.stdout + again.stderr[-2000:]
    assert store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix).get("Uploads", []) == []
    assert intact(store, files)
