"""A local HTTP server that speaks the feed formats: the demo's data source and the tests'.

It serves pre-rendered bytes (routes are registered up front), logs every request, and
lets tests inject faults per route: a status sequence (``503, 503, 200``), a delay, a
dropped connection, a truncated body. It binds 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

JSON = "application/json; charset=utf-8"
ROBOTS_ALLOW_ALL = b"User-agent: *\nAllow: /\n"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    #: ``"reset"`` closes the connection without answering; ``"truncate"`` announces the
    #: full Content-Length and sends half of the body; ``"chunked_cut"`` sends half of the
    #: body as one chunk of a chunked transfer and closes before the last (empty) chunk.
    action: str | None = None


Handler = Callable[[str, dict[str, str]], Reply]


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (as a crawler refusing a too large body does) is
    normal here, not an error to print."""

    #: The default listen backlog (5) drops connections when a crawler opens 16 at once.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


@dataclass(frozen=True)
class Received:
    """One request as the server saw it, for handlers that answer by header or body
    (a WAF that wants a Referer, a JSON API that pages by its POST body)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name; None when absent."""
        low = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == low), None)


RequestHandler = Callable[[Received], Reply]


def route_key(path: str, query: dict[str, str] | str = "") -> str:
    if isinstance(query, str):
        query = dict(parse_qsl(query, keep_blank_values=True))
    return f"{path}?{urlencode(sorted(query.items()))}" if query else path


class FeedServer:
    """``with FeedServer() as server: server.url("/web/webapi?type=102")``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.exact: dict[str, Reply | list[Reply]] = {}
        self.prefix: dict[str, Handler] = {
            "/robots.txt": lambda p, q: Reply(body=ROBOTS_ALLOW_ALL, content_type="text/plain")
        }
        self.by_request: dict[str, RequestHandler] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path?query, headers)
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._serve(self)

            def do_POST(self) -> None:
                server._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = _QuietServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        host_, port_ = self.httpd.server_address[:2]
        self.host: str = host_ if isinstance(host_, str) else host_.decode()
        self.port: int = int(port_)
        self._thread: threading.Thread | None = None

    # --- routes -----------------------------------------------------------------------

    def add(self, path_and_query: str, reply: Reply | list[Reply] | bytes) -> None:
        """Serve ``reply`` for this exact path and query (a list: one reply per request,
        the last one repeating)."""
        parts = urlsplit(path_and_query)
        self.exact[route_key(parts.path, parts.query)] = Reply(body=reply) if isinstance(reply, bytes) else reply

    def add_handler(self, path: str, handler: Handler) -> None:
        """Answer every request to ``path`` (any query) with ``handler(path, query)``."""
        self.prefix[path] = handler

    def add_request_handler(self, path: str, handler: RequestHandler) -> None:
        """Answer every request to ``path`` (any query, any method) with ``handler(received)``,
        which sees the headers and the body."""
        self.by_request[path] = handler

    def url(self, path_and_query: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path_and_query}"

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for _, p, _ in self.requests if urlsplit(p).path == path)

    # --- serving ----------------------------------------------------------------------

    def _reply_for(self, raw_path: str, received: Received | None = None) -> Reply:
        parts = urlsplit(raw_path)
        by_request = self.by_request.get(parts.path)
        if by_request is not None and received is not None:
            return by_request(received)
        key = route_key(parts.path, parts.query)
        with self._lock:
            found = self.exact.get(key)
            if isinstance(found, list):
                reply = found.pop(0) if len(found) > 1 else found[0]
                return reply
        if found is not None:
            return found
        handler = self.prefix.get(parts.path)
        if handler is not None:
            return handler(parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)))
        return Reply(status=404, body=b'{"error": "not found"}')

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        parts = urlsplit(req.path)
        received = Received(
            req.command,
            parts.path,
            dict(parse_qsl(parts.query, keep_blank_values=True)),
            dict(req.headers.items()),
            body,
            time.monotonic(),
        )
        with self._lock:
            self.requests.append((req.command, req.path, dict(req.headers.items())))
            self.received.append(received)
        reply = self._reply_for(req.path, received)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.action == "reset":
            req.close_connection = True
            req.connection.shutdown(2)
            return
        req.send_response(reply.status)
        req.send_header("Content-Type", reply.content_type)
        if reply.action == "chunked_cut":
            req.send_header("Transfer-Encoding", "chunked")
        else:
            req.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            req.send_header(name, value)
        req.end_headers()
        body = reply.body
        if reply.action in ("truncate", "chunked_cut"):
            half = body[: len(body) // 2]
            req.wfile.write(f"{len(half):x}\r\n".encode() + half + b"\r\n" if reply.action == "chunked_cut" else half)
            req.wfile.flush()
            req.close_connection = True
            req.connection.shutdown(2)
            return
        if req.command != "HEAD":
            req.wfile.write(body)

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> FeedServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the finews sample site ---------------------------------------------------------------

ROLLING = "/web/webapi?type=102&count=100&newsid=1"
MEDIA = "/web/webapi?type=45&count=100&newsid=1"
MARKET = "/information/newmarket/web/webapi?marketType={}&count=100"
TEXT = "/NewsData/GetNewsText.do"


def sample_dir() -> Path:
    return Path(str(resources.files("newsarchive.samples") / "finews"))


def install_finews(server: FeedServer, data_dir: Path | None = None) -> dict[str, Any]:
    """Serve the finews lists and text endpoint from ``data_dir`` (default: the bundled
    samples); return the settings that point the spider at this server."""
    base = data_dir or sample_dir()
    lists = [ROLLING, MEDIA, *(MARKET.format(mt) for mt in ("37", "38", "39"))]
    names = ["rolling.json", "media.json", "market-37.json", "market-38.json", "market-39.json"]
    for path, name in zip(lists, names, strict=True):
        server.add(path, (base / name).read_bytes())
    texts: dict[str, Any] = json.loads((base / "texts.json").read_text(encoding="utf-8"))
    rendered = {code: json.dumps(body, ensure_ascii=False).encode() for code, body in texts.items()}

    def text(path: str, query: dict[str, str]) -> Reply:
        body = rendered.get(query.get("id", ""))
        if body is None:
            return Reply(status=404, body=b'{"error": "no such infoCode"}')
        return Reply(body=body)

    server.add_handler(TEXT, text)
    return finews_settings(server)


#: The share page the original site's posts link (never requested; its host is gone). The
#: samples are those posts, so their crawl stores it and the Jekyll export reproduces them.
ORIGINAL_SHARE_URL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode={info_code}"


def finews_settings(server: FeedServer) -> dict[str, Any]:
    """Everything finews needs to crawl this server (it has no default hosts)."""
    lists = [ROLLING, MEDIA, *(MARKET.format(mt) for mt in ("37", "38", "39"))]
    return {
        "FINEWS_LIST_URLS": ",".join(server.url(p) for p in lists),
        "FINEWS_TEXT_URL": server.url(TEXT + "?id={info_code}"),
        "FINEWS_SHARE_URL": ORIGINAL_SHARE_URL,
    }
