"""A TCP proxy on 127.0.0.1 in front of the S3 server, to inject object-store faults.

``slow``: forwards at most ``rate`` bytes per second each way; ``fail_next``: answers the
next N HTTP requests itself with ``500 InternalError`` (S3's own retryable error) instead of
forwarding them. Each connection is handled by its own threads.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time


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
