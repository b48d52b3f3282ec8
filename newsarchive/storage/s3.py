"""S3 endpoints and credentials, from the standard AWS chain or an Airflow connection.

Credentials are held in :class:`S3Config` only as long as needed, never logged: its repr
shows the endpoint and key id prefix, nothing secret.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow.fs as pafs

logger = logging.getLogger(__name__)

#: S3 bucket naming rules (general purpose buckets): 3-63 lower-case letters, digits, dots
#: and hyphens, starting and ending with a letter or digit.
BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
#: Keys are at most 1024 bytes; leave room for the archive's own keys under the prefix.
MAX_PREFIX_BYTES = 768


class InvalidS3URIError(ValueError):
    """An ``s3://`` URI no request should be made for; the message names it and says why
    (the CLI reports it as bad usage, exit code 2)."""


class InvalidS3SettingError(InvalidS3URIError):
    """An S3_* setting no client should be made with (the CLI reports it as bad usage, exit
    code 2, like a bad URI: nothing was sent)."""


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


#: botocore's retry modes (``standard``: exponential backoff with jitter on throttling, 5xx
#: and connection errors; ``adaptive``: the same plus client-side rate limiting).
RETRY_MODES = ("standard", "adaptive")


@dataclass(frozen=True)
class S3Config:
    """Where and as whom to talk S3. Empty fields fall back to the AWS default chain
    (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``,
    instance roles...). With ``aws_conn_id`` the Airflow connection of that id decides
    instead, read by the Amazon provider's hook (see :meth:`from_airflow`)."""

    endpoint_url: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    profile: str | None = None
    aws_conn_id: str | None = None

    def __repr__(self) -> str:
        if self.aws_conn_id:
            return f"S3Config(aws_conn_id={self.aws_conn_id!r})"
        key = f"{self.access_key_id[:4]}…" if self.access_key_id else None
        return f"S3Config(endpoint_url={self.endpoint_url!r}, access_key_id={key!r}, region={self.region!r})"

    @classmethod
    def from_airflow(cls, conn_id: str) -> S3Config:
        """The Airflow connection ``conn_id``, read by the Amazon provider's ``AwsBaseHook``
        when the client is made, so that everything the provider documents for an ``aws``
        connection works: login/password or ``aws_access_key_id``/``aws_secret_access_key``,
        ``aws_session_token``, ``profile_name``, ``region_name``, ``endpoint_url`` and
        ``service_config.s3.endpoint_url``, ``config_kwargs``, and ``role_arn`` with
        ``assume_role_method`` (``assume_role``, ``assume_role_with_web_identity``,
        ``assume_role_with_saml``) and ``assume_role_kwargs``, whose temporary credentials
        the provider refreshes before they expire. A connection that does not exist means
        the standard AWS chain (the provider's rule); without the provider installed, the
        standard AWS chain too."""
        try:
            import airflow.providers.amazon.aws.hooks.base_aws  # noqa: F401
        except ImportError:
            logger.info("The Amazon provider is not installed; S3 credentials from the AWS default chain")
            return cls()
        return cls(aws_conn_id=conn_id)

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

    def botocore_config(
        self,
        *,
        max_attempts: int = 5,
        retry_mode: str = "standard",
        connect_timeout: float = 10,
        read_timeout: float = 60,
    ) -> Any:
        """The client configuration: botocore's retries are the only retries of a request
        (``max_attempts`` counts the first one: botocore's ``total_max_attempts``; its
        ``max_attempts`` would not), path-style addressing (S3-compatible servers),
        checksums only where we send them ourselves (SHA-256)."""
        from botocore.config import Config

        if retry_mode not in RETRY_MODES:
            raise InvalidS3SettingError(f"S3_RETRY_MODE {retry_mode!r}: expected one of {', '.join(RETRY_MODES)}")
        if max_attempts < 1:
            raise InvalidS3SettingError(f"S3_MAX_ATTEMPTS {max_attempts}: at least 1 (the first attempt counts)")
        retries: Any = {"total_max_attempts": max_attempts, "mode": retry_mode}
        return Config(
            retries=retries,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )

    def client(
        self,
        *,
        max_attempts: int = 5,
        retry_mode: str = "standard",
        connect_timeout: float = 10,
        read_timeout: float = 60,
    ) -> Any:
        """A boto3 S3 client with botocore's retries (5xx, throttling, connection errors,
        exponential backoff with jitter) and SHA-256 checksums available."""
        config = self.botocore_config(
            max_attempts=max_attempts, retry_mode=retry_mode, connect_timeout=connect_timeout, read_timeout=read_timeout
        )
        if self.aws_conn_id:
            return self._airflow_client(config)
        import boto3

        session = boto3.session.Session(profile_name=self.profile) if self.profile else boto3.session.Session()
        return session.client(
            "s3",
            endpoint_url=self.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or None,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=self.region or _env_region(),
            config=config,
        )

    def _airflow_client(self, config: Any) -> Any:
        """The S3 client of the provider's hook: its session holds the connection's
        credentials (assumed and refreshed when the connection names a role), its endpoint
        is the connection's. Our configuration is the base; ``config_kwargs`` in the
        connection's extra override it (an operator's explicit choice)."""
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

        hook = AwsBaseHook(aws_conn_id=self.aws_conn_id, client_type="s3")
        own = hook.conn_config.botocore_config
        merged = config.merge(own) if own is not None else config
        region = self.region or hook.region_name or _env_region()
        return hook.get_client_type(region_name=region, config=merged)

    def arrow(self) -> pafs.S3FileSystem:
        """The same endpoint and credentials as a pyarrow filesystem (for datasets; the CLI's
        readers of old layouts: explicit fields and the AWS chain, not an Airflow connection)."""
        import pyarrow.fs as pafs

        endpoint = self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        kwargs: dict[str, Any] = {"region": self.region or _env_region()}
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


def _env_region() -> str:
    """The region of the AWS chain's variables; ``us-east-1`` (what S3-compatible servers
    sign with) when none is set."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
