"""A TCP proxy on 127.0.0.1 in front of the S3 server, to inject object-store faults.

``slow``: forwards at most ``rate`` bytes per second each way; ``fail_next``: answers the
next N HTTP requests itself with ``500 InternalError`` (S3's own retryable error) instead of
forwarding them. Each connection is handled by its own threads.

:class:`CountingS3Proxy` works per HTTP request instead: it counts attempts per object.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FaultProxy:
    def __init__(self, target_port: int, *, rate: float | None = None) -> None:
        self.target = ("127.0.0.1", target_port)
        self.rate = rate
        self.fail_next = 0
        self.failed = 0
        self._lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _take_failure(self) -> bool:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                self.failed += 1
                return True
        return False

    def _handle(self, client: socket.socket) -> None:
        if self._take_failure():
            self._answer_500(client)
            return
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
        self._pipe(upstream, client)

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    break
                if self.rate:
                    time.sleep(len(data) / self.rate)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _answer_500(client: socket.socket) -> None:
        try:
            client.settimeout(2)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    break
                head += chunk
            body = (
                b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
                b"<Message>injected fault</Message></Error>"
            )
            client.sendall(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
            )
        except OSError:
            pass
        finally:
            client.close()

    def close(self) -> None:
        self._stop = True
        self.sock.close()


class CountingS3Proxy:
    """An HTTP proxy on 127.0.0.1 in front of the S3 server that sees every request, not
        only a connection's first: it records each one as (method, key, access key id, whether
        it carried a session token) and answers ``500 InternalError`` itself to those ``fail``
        picks (``fail(method, key, n)``, ``n`` the request's number among those to that method
        and key, from 1), forwarding the others; ``rewrite`` may change a forwarded response's
    headers (a server not keeping what it acknowledged). For counting attempts per object."""

    def __init__(
        self,
        target_port: int,
        fail: Callable[[str, str, int], bool] | None = None,
        rewrite: Callable[[str, str, int, dict[str, str]], dict[str, str]] | None = None,
    ) -> None:
        self.target_port = target_port
        self.fail = fail or (lambda method, key, n: False)
        #: ``rewrite(method, key, status, headers)`` → the headers the client gets instead
        self.rewrite = rewrite
        self.requests: list[tuple[str, str, str, bool]] = []
        self.failed = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def count(self, method: str, key: str) -> int:
        """Requests seen for ``method`` on ``key`` (the path without the leading ``/``)."""
        with self._lock:
            return sum(1 for m, k, _, _ in self.requests if (m, k) == (method, key))

    def _record(self, method: str, key: str, key_id: str, token: bool) -> bool:
        with self._lock:
            self.requests.append((method, key, key_id, token))
            n = sum(1 for m, k, _, _ in self.requests if (m, k) == (method, key))
            failing = self.fail(method, key, n)
            self.failed += failing
            return failing

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                key = urllib.parse.unquote(self.path.split("?", 1)[0].lstrip("/"))
                match = re.search(r"Credential=([^/,\s]+)/", self.headers.get("Authorization", ""))
                token = "X-Amz-Security-Token" in self.headers
                if proxy._record(self.command, key, match.group(1) if match else "", token):
                    payload = (
                        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
                        b"<Message>injected fault</Message></Error>"
                    )
                    self.send_response(500)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    resp = upstream.getresponse()
                    data = resp.read()
                finally:
                    upstream.close()
                self.send_response(resp.status, resp.reason)
                got = dict(resp.getheaders())
                if proxy.rewrite is not None:
                    got = proxy.rewrite(self.command, key, resp.status, got)
                for name, value in got.items():
                    if name.lower() not in {"transfer-encoding", "content-length", "connection"}:
                        self.send_header(name, value)
                length = resp.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any  # noqa: N815 - http.server's names

        return Handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
