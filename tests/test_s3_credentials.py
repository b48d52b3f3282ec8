"""S3 credentials in Airflow: the connection AWS_CONN_ID is read by the Amazon provider's
hook, so what the provider documents for an ``aws`` connection (login/password, an
endpoint, ``role_arn`` with assume-role, refresh) decides how the WARC upload signs.

Real parts: the real SeaweedFS (it checks signatures), the provider's real hook and
boto3's STS client. The one stand-in is STS itself, which cannot run here: a tiny
responder on 127.0.0.1 that answers AssumeRole with the credentials it is given and
records who asked for which role. A proxy in front of SeaweedFS records which key id
signed each request.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from newsarchive import jobs
from newsarchive.config import setting
from newsarchive.storage.s3 import S3Config
from newsarchive.storage.store import S3Store, StoreError, StoreOptions, s3_store
from newsarchive.storage.upload import upload_warc
from tests.faultproxy import CountingS3Proxy

pytest.importorskip("airflow.providers.amazon.aws.hooks.base_aws")

ROLE = "arn:aws:iam::123456789012:role/newsarchive-warc-upload"
#: The connection's own key pair: unknown to SeaweedFS, so a request it signs is refused.
SOURCE_KEY = "AKIASOURCEONLY000001"
SOURCE_SECRET = "source-secret-never-logged-0001"
TOKEN = "assumed-session-token-never-logged-0001"
CONN_ID = "newsarchive_s3"


class StsResponder:
    """AssumeRole on 127.0.0.1: answers with ``credentials`` (AccessKeyId, SecretAccessKey,
    optionally SessionToken) valid for ``lifetime``, and records each call's form fields
    and the key id that signed it."""

    def __init__(self, credentials: dict[str, str], lifetime: dt.timedelta = dt.timedelta(hours=1)) -> None:
        self.credentials = credentials
        self.lifetime = lifetime
        self.calls: list[dict[str, str]] = []
        responder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = dict(urllib.parse.parse_qsl(body))
                signed = re.search(r"Credential=([^/]+)/", self.headers.get("Authorization", ""))
                responder.calls.append({**form, "signed_by": signed.group(1) if signed else ""})
                payload = responder.answer().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def answer(self) -> str:
        expires = (dt.datetime.now(dt.UTC) + self.lifetime).strftime("%Y-%m-%dT%H:%M:%SZ")
        creds = "".join(f"<{k}>{v}</{k}>" for k, v in self.credentials.items())
        return (
            '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
            f"<Credentials>{creds}<Expiration>{expires}</Expiration></Credentials>"
            f"<AssumedRoleUser><Arn>{ROLE}/session</Arn><AssumedRoleId>AROATEST:session</AssumedRoleId>"
            "</AssumedRoleUser></AssumeRoleResult>"
            "<ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>"
            "</AssumeRoleResponse>"
        )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def no_aws_env(monkeypatch, tmp_path):
    """Nothing of the machine's AWS chain: only the connection can make a request succeed."""
    for name in [n for n in os.environ if n.startswith(("AWS_", "AIRFLOW_CONN_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def sts(seaweed):
    """STS handing out SeaweedFS's key pair (no session token: SeaweedFS refuses one it did
    not issue itself)."""
    responder = StsResponder({"AccessKeyId": seaweed.access_key, "SecretAccessKey": seaweed.secret_key})
    yield responder
    responder.close()


@pytest.fixture
def s3_proxy(seaweed):
    proxy = CountingS3Proxy(int(seaweed.port))
    yield proxy
    proxy.close()


def connection(monkeypatch, **fields: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps({"conn_type": "aws", **fields}))


def role_connection(monkeypatch, sts: StsResponder, endpoint: str) -> None:
    """A connection as an operator writes one for a role: the source keys, the role, the S3
    endpoint, and STS's own endpoint (the provider never sends AssumeRole to endpoint_url)."""
    connection(
        monkeypatch,
        login=SOURCE_KEY,
        password=SOURCE_SECRET,
        extra={
            "region_name": "us-east-1",
            "endpoint_url": endpoint,
            "role_arn": ROLE,
            "assume_role_kwargs": {"ExternalId": "newsarchive-external-id", "DurationSeconds": 3600},
            "service_config": {"sts": {"endpoint_url": sts.url}},
        },
    )


def warc_dir(root: Path, n: int = 2) -> dict[str, bytes]:
    """A crawl's working directory with ``n`` WARC files; returns key (under warc/) → bytes."""
    files = {}
    for i in range(n):
        key = f"date=2026-12-02/20261202T000000Z-creds000-{i}.warc.gz"
        path = root / "warc" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data := os.urandom(1000 + i))
        files[key] = data
    return files


def s3_requests(proxy: CountingS3Proxy) -> set[tuple[str, bool]]:
    """(key id that signed, carried a session token) of every request the S3 server got."""
    return {(key_id, token) for _, _, key_id, token in proxy.requests}


def test_a_role_in_the_connection_is_assumed_and_the_upload_signs_with_what_sts_returned(
    tmp_path, seaweed, bucket_uri, no_aws_env, sts, s3_proxy, monkeypatch, caplog
):
    caplog.set_level(logging.INFO)  # a task log's level (botocore's DEBUG prints bodies)
    role_connection(monkeypatch, sts, s3_proxy.endpoint)
    files = warc_dir(tmp_path)
    cfg = jobs.s3_config(CONN_ID)
    report = upload_warc(tmp_path, s3_store(bucket_uri, cfg, StoreOptions.from_settings(setting)))
    assert report.files_uploaded == len(files)
    # STS was asked for that role, with the connection's kwargs, signed by the source keys
    assert sts.calls and {c["Action"] for c in sts.calls} == {"AssumeRole"}
    (call, *_) = sts.calls
    assert (call["RoleArn"], call["ExternalId"], call["DurationSeconds"]) == (ROLE, "newsarchive-external-id", "3600")
    assert call["signed_by"] == SOURCE_KEY and call["RoleSessionName"].lower() == f"airflow_{CONN_ID}"
    # every S3 request was signed with the assumed key id, none with the connection's own
    assert s3_requests(s3_proxy) == {(seaweed.access_key, False)}
    readback = S3Store(bucket_uri, seaweed.config)
    assert {k: readback.get_bytes(k) for k in files} == files
    # the connection's own keys would have been refused: the upload worked through the role
    with pytest.raises(StoreError, match="InvalidAccessKeyId"):
        list(S3Store(bucket_uri, S3Config(seaweed.endpoint, SOURCE_KEY, SOURCE_SECRET, region="us-east-1")).objects())
    for secret in (SOURCE_SECRET, seaweed.secret_key):
        assert secret not in caplog.text and secret not in repr(cfg)


def test_credentials_about_to_expire_are_refreshed_from_sts(
    tmp_path, seaweed, bucket_uri, no_aws_env, s3_proxy, monkeypatch
):
    """Credentials that expire within botocore's refresh window are fetched again before a
    request is signed (the provider's refreshable credentials): STS is asked again."""
    sts = StsResponder(
        {"AccessKeyId": seaweed.access_key, "SecretAccessKey": seaweed.secret_key}, lifetime=dt.timedelta(minutes=5)
    )
    try:
        role_connection(monkeypatch, sts, s3_proxy.endpoint)
        files = warc_dir(tmp_path, 3)
        report = upload_warc(
            tmp_path, s3_store(bucket_uri, jobs.s3_config(CONN_ID), StoreOptions.from_settings(setting))
        )
    finally:
        sts.close()
    assert report.files_uploaded == len(files)
    assert len(sts.calls) >= 2 and {c["RoleArn"] for c in sts.calls} == {ROLE}


def test_the_assumed_session_token_reaches_the_s3_server(
    tmp_path, seaweed, bucket_uri, no_aws_env, s3_proxy, monkeypatch, caplog
):
    """With a session token (as real STS always sends), the requests carry the assumed key
    id and the token. SeaweedFS 4.x refuses a token it did not issue (InvalidAccessKeyId),
    so the upload itself is not asserted here; the test above shows it with a key pair."""
    caplog.set_level(logging.INFO)  # a task log's level (botocore's DEBUG prints bodies)
    sts = StsResponder(
        {"AccessKeyId": seaweed.access_key, "SecretAccessKey": seaweed.secret_key, "SessionToken": TOKEN}
    )
    try:
        role_connection(monkeypatch, sts, s3_proxy.endpoint)
        warc_dir(tmp_path, 1)
        error = ""
        try:
            upload_warc(tmp_path, s3_store(bucket_uri, jobs.s3_config(CONN_ID), StoreOptions.from_settings(setting)))
        except StoreError as exc:
            error = str(exc)
    finally:
        sts.close()
    assert [c["RoleArn"] for c in sts.calls][:1] == [ROLE]
    assert s3_requests(s3_proxy) == {(seaweed.access_key, True)}
    assert TOKEN not in caplog.text and SOURCE_SECRET not in caplog.text
    assert TOKEN not in error and seaweed.secret_key not in error


def test_a_connection_with_login_password_and_endpoint_still_works(
    tmp_path, seaweed, bucket_uri, no_aws_env, s3_proxy, monkeypatch
):
    """The shape tests/test_dags.py's deployment uses: keys as login/password, the endpoint
    in the extra; no role, so no STS."""
    connection(
        monkeypatch,
        login=seaweed.access_key,
        password=seaweed.secret_key,
        extra={"endpoint_url": s3_proxy.endpoint, "region_name": "us-east-1"},
    )
    files = warc_dir(tmp_path)
    report = upload_warc(tmp_path, s3_store(bucket_uri, jobs.s3_config(CONN_ID), StoreOptions.from_settings(setting)))
    assert report.files_uploaded == len(files)
    assert s3_requests(s3_proxy) == {(seaweed.access_key, False)}


def test_the_s3_endpoint_of_service_config_is_used(tmp_path, seaweed, bucket_uri, no_aws_env, s3_proxy, monkeypatch):
    """``service_config.s3.endpoint_url`` (the provider's per-service endpoint) wins over
    ``endpoint_url``: BaseHook's reading of the connection ignored it."""
    connection(
        monkeypatch,
        login=seaweed.access_key,
        password=seaweed.secret_key,
        extra={
            "endpoint_url": "http://127.0.0.1:9",  # nothing listens there
            "region_name": "us-east-1",
            "service_config": {"s3": {"endpoint_url": s3_proxy.endpoint}},
        },
    )
    files = warc_dir(tmp_path, 1)
    assert upload_warc(
        tmp_path, s3_store(bucket_uri, jobs.s3_config(CONN_ID), StoreOptions.from_settings(setting))
    ).files_uploaded == len(files)
    assert s3_proxy.requests


def test_without_the_connection_the_aws_chain_is_used(tmp_path, seaweed, bucket_uri, no_aws_env, monkeypatch):
    for name, value in seaweed.config.env().items():
        monkeypatch.setenv(name, value)
    files = warc_dir(tmp_path, 1)
    cfg = jobs.s3_config("no_such_connection")
    assert upload_warc(tmp_path, s3_store(bucket_uri, cfg, StoreOptions.from_settings(setting))).files_uploaded == len(
        files
    )


def test_the_config_repr_holds_no_secret():
    cfg = S3Config("http://127.0.0.1:1", "AKIAEXAMPLEKEYID0001", "the-secret-0001", "the-token-0001")
    assert "the-secret" not in repr(cfg) and "the-token" not in repr(cfg) and "AKIAEXAMPLE" not in repr(cfg)
    assert repr(S3Config.from_airflow(CONN_ID)) == f"S3Config(aws_conn_id={CONN_ID!r})"
