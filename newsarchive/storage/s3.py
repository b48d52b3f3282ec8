"""S3 endpoints and credentials, from the standard AWS chain or an Airflow connection.

Credentials are held in :class:`S3Config` only as long as needed, never logged: its repr
shows the endpoint and key id prefix, nothing secret.
"""

from __future__ import annotations

import ipaddress
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow.fs as pafs


#: S3 bucket naming rules (general purpose buckets): 3-63 lower-case letters, digits, dots
#: and hyphens, starting and ending with a letter or digit.
BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
#: Keys are at most 1024 bytes; leave room for the archive's own keys under the prefix.
MAX_PREFIX_BYTES = 768


class InvalidS3URIError(ValueError):
    """An ``s3://`` URI no request should be made for; the message names it and says why
    (the CLI reports it as bad usage, exit code 2)."""


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` → (``bucket``, ``some/prefix``), or
    :class:`InvalidS3URIError` before any request is made.

    Every command and job that takes an ``s3://`` URI parses it here. Refused: a bucket name
    S3 would refuse (with a 400, after retries), and a prefix with an empty, ``.`` or ``..``
    segment, a backslash or a control or format character: S3 keeps such keys literally, so
    they would put the archive somewhere no other tool finds it (``a/../b`` is not ``b``).
    One trailing ``/`` is allowed."""

    def bad(why: str) -> InvalidS3URIError:
        return InvalidS3URIError(f"invalid S3 URI {uri!r}: {why}")

    if not uri.startswith("s3://"):
        raise bad("not an s3:// URI")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise bad("no bucket")
    if not BUCKET_RE.fullmatch(bucket) or ".." in bucket or _is_ip(bucket):
        raise bad(f"{bucket!r} is not a valid bucket name (3-63 of a-z 0-9 . -, not an IP address)")
    prefix = prefix.removesuffix("/")
    if not prefix:
        return bucket, ""
    for ch in prefix:
        if ch == "\\":
            raise bad("a backslash in the prefix")
        if unicodedata.category(ch) in {"Cc", "Cf", "Cs"}:
            raise bad(f"a control character ({ch!r}) in the prefix")
    for segment in prefix.split("/"):
        if segment in ("", ".", ".."):
            raise bad(f"an empty, '.' or '..' segment in the prefix ({segment!r})")
    if len(prefix.encode("utf-8")) > MAX_PREFIX_BYTES:
        raise bad(f"the prefix is longer than {MAX_PREFIX_BYTES} bytes")
    return bucket, prefix


def format_s3_uri(bucket: str, prefix: str = "") -> str:
    """The inverse of :func:`parse_s3_uri`."""
    return f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def join_key(prefix: str, key: str) -> str:
    return f"{prefix}/{key}" if prefix else key


@dataclass(frozen=True)
class S3Config:
    """Where and as whom to talk S3. Empty fields fall back to the AWS default chain
    (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``,
    instance roles...)."""

    endpoint_url: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    profile: str | None = None

    def __repr__(self) -> str:
        key = f"{self.access_key_id[:4]}…" if self.access_key_id else None
        return f"S3Config(endpoint_url={self.endpoint_url!r}, access_key_id={key!r}, region={self.region!r})"

    @classmethod
    def from_airflow(cls, conn_id: str) -> S3Config:
        """Read an Airflow connection (amazon provider conventions: login/password are the
        key pair; ``endpoint_url``, ``region_name``, ``aws_session_token`` in the extra)."""
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
        extra: dict[str, Any] = conn.extra_dejson or {}
        endpoint = extra.get("endpoint_url") or extra.get("host") or None
        return cls(
            endpoint_url=endpoint,
            access_key_id=conn.login or extra.get("aws_access_key_id") or None,
            secret_access_key=conn.password or extra.get("aws_secret_access_key") or None,
            session_token=extra.get("aws_session_token") or None,
            region=extra.get("region_name") or None,
            profile=extra.get("profile_name") or None,
        )

    def env(self) -> dict[str, str]:
        """As AWS_* environment variables, for a subprocess (never printed)."""
        pairs = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_PROFILE": self.profile,
        }
        return {k: v for k, v in pairs.items() if v}

    def client(self, *, max_attempts: int = 5, connect_timeout: float = 10, read_timeout: float = 60) -> Any:
        """A boto3 S3 client with standard retries (5xx, throttling, connection errors,
        exponential backoff with jitter) and SHA-256 checksums available."""
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(profile_name=self.profile) if self.profile else boto3.session.Session()
        config = Config(
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        return session.client(
            "s3",
            endpoint_url=self.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or None,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=self.region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1",
            config=config,
        )

    def arrow(self) -> pafs.S3FileSystem:
        """The same endpoint and credentials as a pyarrow filesystem (for datasets)."""
        import pyarrow.fs as pafs

        endpoint = self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        kwargs: dict[str, Any] = {
            "region": self.region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1",
        }
        if endpoint:
            scheme, _, host = endpoint.partition("://")
            kwargs.update(endpoint_override=host.rstrip("/"), scheme=scheme or "https")
        access = self.access_key_id or os.environ.get("AWS_ACCESS_KEY_ID")
        secret = self.secret_access_key or os.environ.get("AWS_SECRET_ACCESS_KEY")
        if access and secret:
            kwargs.update(
                access_key=access,
                secret_key=secret,
                session_token=self.session_token or os.environ.get("AWS_SESSION_TOKEN"),
            )
        return pafs.S3FileSystem(**kwargs)
