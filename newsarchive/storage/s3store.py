"""Objects under ``s3://bucket/prefix``: SHA-256 sent with every PUT (the server refuses a
mismatch) and checked by HEAD afterwards, multipart above a threshold, botocore's retries
(the only retry layer), and a final object never replaced."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from newsarchive.storage.base import (
    ChecksumMismatchError,
    MiB,
    ObjectExistsError,
    ObjectInfo,
    StoreError,
    b64,
    sha256_file,
    temp_name,
)
from newsarchive.storage.s3 import S3Config, join_key, parse_s3_uri

logger = logging.getLogger(__name__)
T = TypeVar("T")


#: Refusals no retry can change: the message points at the configuration.
_CONFIG_ERRORS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "NoSuchBucket", "ExpiredToken"}
)


def _call(what: str, fn: Callable[[], T], attempts: int) -> T:
    """Run one S3 call, retried by botocore only (its standard or adaptive mode: throttling,
    5xx, connection errors, with backoff; ``attempts`` in all), and turn what is left into a
    :class:`StoreError` that says why. No retry loop here: one on top of botocore's made up
    to 25 tries of one object."""
    from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

    try:
        return fn()
    except StoreError:
        raise
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _CONFIG_ERRORS:
            raise StoreError(f"{what}: {code} (check the credentials, endpoint and bucket)") from exc
        tries = int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
        raise StoreError(f"{what}: failed after {tries} attempts: {code or exc}") from exc
    except (ConnectionError, HTTPClientError) as exc:  # retried by botocore up to ``attempts``
        raise StoreError(f"{what}: failed after {attempts} attempts: {exc}") from exc
    except (BotoCoreError, OSError) as exc:
        raise StoreError(f"{what}: {exc}") from exc


class S3Store:
    """Objects under ``s3://bucket/prefix`` (WARC files, the report)."""

    def __init__(
        self,
        uri: str,
        config: S3Config,
        *,
        multipart_threshold: int = 64 * MiB,
        part_size: int = 16 * MiB,
        max_workers: int = 4,
        max_attempts: int = 5,
        retry_mode: str = "standard",
    ) -> None:
        self.uri = uri.rstrip("/")
        self.bucket, self.prefix = parse_s3_uri(uri)
        self.config = config
        self.client = config.client(max_attempts=max_attempts, retry_mode=retry_mode)
        self.multipart_threshold = multipart_threshold
        self.part_size = max(5 * MiB, part_size)
        self.max_workers = max_workers
        self.attempts = max_attempts

    def key(self, key: str) -> str:
        return join_key(self.prefix, key)

    def objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        full = self.key(prefix) if prefix else (self.prefix + "/" if self.prefix else "")
        strip = len(self.prefix) + 1 if self.prefix else 0
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                for obj in page.get("Contents", []):
                    yield ObjectInfo(obj["Key"][strip:], int(obj["Size"]))
        except Exception as exc:
            raise StoreError(f"listing {self.uri}/{prefix}: {exc}") from exc

    def head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        def call() -> dict[str, Any] | None:
            try:
                head: dict[str, Any] = self.client.head_object(
                    Bucket=self.bucket, Key=self.key(key), ChecksumMode="ENABLED"
                )
                return head
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                    return None
                raise

        return _call(f"HEAD {key}", call, self.attempts)

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def get_bytes(self, key: str) -> bytes:
        def call() -> bytes:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=self.key(key))["Body"].read()
            return body

        return _call(f"GET {key}", call, self.attempts)

    def download(self, key: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(temp_name(path.name))
        _call(
            f"GET {key}",
            lambda: self.client.download_file(self.bucket, self.key(key), str(tmp)),
            self.attempts,
        )
        os.replace(tmp, path)

    def recorded_sha256(self, key: str) -> str | None:
        head = self.head(key)
        if head is None:
            return None
        sha: str | None = head.get("Metadata", {}).get("sha256")
        return sha

    def _existing(self, key: str, sha256: str) -> bool:
        """True if the object is already there with this content; error if with another."""
        head = self.head(key)
        if head is None:
            return False
        if head.get("Metadata", {}).get("sha256") == sha256:
            return True
        raise ObjectExistsError(f"s3://{self.bucket}/{self.key(key)} exists with other content")

    def put_file(self, path: Path, key: str, sha256: str | None = None) -> bool:
        """Upload ``path`` under ``key`` unless it is already there; SHA-256 sent, then
        verified by HEAD. Returns True if uploaded."""
        digest = sha256 or sha256_file(path)
        if self._existing(key, digest):
            return False
        size = path.stat().st_size
        if size > self.multipart_threshold:
            expected = _call(f"PUT {key}", lambda: self._multipart(path, key, digest, size), self.attempts)
        else:
            expected = _call(f"PUT {key}", lambda: self._put(path, key, digest), self.attempts)
        self._verify(key, digest, size, expected)
        return True

    def put_bytes(self, key: str, data: bytes) -> bool:
        digest = hashlib.sha256(data).hexdigest()
        if self._existing(key, digest):
            return False

        expected = _call(f"PUT {key}", lambda: self._put_body(key, data, digest), self.attempts)
        self._verify(key, digest, len(data), expected)
        return True

    def replace_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Write ``key`` whatever is there: only for derived, mutable objects (the report),
        never for archive data, which :meth:`put_bytes` refuses to overwrite."""
        digest = hashlib.sha256(data).hexdigest()
        if self.recorded_sha256(key) == digest:
            return
        extra = {"ContentType": content_type} if content_type else {}
        expected = _call(f"PUT {key}", lambda: self._put_body(key, data, digest, **extra), self.attempts)
        self._verify(key, digest, len(data), expected)

    def _put(self, path: Path, key: str, digest: str) -> str:
        with path.open("rb") as body:
            return self._put_body(key, body, digest)

    def _put_body(self, key: str, body: Any, digest: str, **extra: str) -> str:
        """One PUT with the SHA-256 the server must check; returns the checksum sent."""
        checksum = b64(bytes.fromhex(digest))
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.key(key),
            Body=body,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
            Metadata={"sha256": digest},
            **extra,
        )
        return checksum

    def _multipart(self, path: Path, key: str, digest: str, size: int) -> str:
        full = self.key(key)
        self._abort_uploads_of(full)  # an earlier attempt killed mid-way: its parts are dead
        upload_id = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=full, ChecksumAlgorithm="SHA256", Metadata={"sha256": digest}
        )["UploadId"]
        offsets = list(range(0, size, self.part_size))

        def part(number: int, offset: int) -> dict[str, Any]:
            with path.open("rb") as fh:
                fh.seek(offset)
                data = fh.read(self.part_size)
            checksum = b64(hashlib.sha256(data).digest())
            resp = self.client.upload_part(
                Bucket=self.bucket,
                Key=full,
                UploadId=upload_id,
                PartNumber=number,
                Body=data,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
            )
            return {"PartNumber": number, "ETag": resp["ETag"], "ChecksumSHA256": checksum}

        try:
            with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
                parts = list(pool.map(part, range(1, len(offsets) + 1), offsets))
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=full, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)
            except Exception as exc:  # the server is what failed: the next upload aborts it
                logger.warning("Could not abort the multipart upload of %s (%s); the next upload will", full, exc)
            raise
        composite = hashlib.sha256(b"".join(base64.b64decode(p["ChecksumSHA256"]) for p in parts))
        return f"{b64(composite.digest())}-{len(parts)}"

    def _verify(self, key: str, digest: str, size: int, expected_checksum: str) -> None:
        """HEAD after PUT: the object holds what we sent. A mismatch is not retried (no
        second upload): the server checked our SHA-256 when it took the PUT, so a different
        object now means another writer replaced it or the server does not keep what it
        acknowledged; sending again would replace an object we did not write and hide the
        fault. The upload fails, the local file is kept, and the next run names the key."""
        head = self.head(key)
        if head is None:
            raise StoreError(f"{key}: not found right after upload")
        got = head.get("ChecksumSHA256")
        if int(head.get("ContentLength", -1)) != size or head.get("Metadata", {}).get("sha256") != digest:
            raise ChecksumMismatchError(f"{key}: size or recorded SHA-256 differ after upload")
        if got is not None and got != expected_checksum:
            raise ChecksumMismatchError(f"{key}: server checksum {got} != {expected_checksum}")

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": self.key(k)} for k in keys[start : start + 1000]]
            _call(
                "DELETE",
                lambda b=batch: self.client.delete_objects(  # type: ignore[misc]
                    Bucket=self.bucket, Delete={"Objects": b, "Quiet": True}
                ),
                self.attempts,
            )

    def _abort_uploads_of(self, full_key: str) -> None:
        resp = _call(
            "list multipart uploads",
            lambda: self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=full_key),
            self.attempts,
        )
        for up in resp.get("Uploads", []):
            if up["Key"] == full_key:
                logger.warning("Aborting an incomplete multipart upload of %s", full_key)
                _call(
                    f"abort the multipart upload of {full_key}",
                    lambda u=up: self.client.abort_multipart_upload(  # type: ignore[misc]
                        Bucket=self.bucket, Key=full_key, UploadId=u["UploadId"]
                    ),
                    self.attempts,
                )

    def abort_stale_uploads(self, older_than_s: float = 3600) -> list[str]:
        """Abort multipart uploads under the prefix started more than ``older_than_s`` ago
        (left by a killed upload); they are invisible to readers but hold storage."""
        import datetime as dt

        now = dt.datetime.now(dt.UTC)
        aborted: list[str] = []
        resp = _call(
            "list multipart uploads",
            lambda: self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=self.prefix),
            self.attempts,
        )
        for up in resp.get("Uploads", []):
            if (now - up["Initiated"]).total_seconds() >= older_than_s:
                _call(
                    f"abort the multipart upload of {up['Key']}",
                    lambda u=up: self.client.abort_multipart_upload(  # type: ignore[misc]
                        Bucket=self.bucket, Key=u["Key"], UploadId=u["UploadId"]
                    ),
                    self.attempts,
                )
                aborted.append(up["Key"])
        return aborted
