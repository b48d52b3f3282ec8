"""The benchmark feed server: pre-rendered responses, in a process of its own.

``python -m bench.server --articles N`` renders the universe of ``N`` articles once (every
list page, every text answer, each as the complete HTTP response bytes), listens on three
free ports of 127.0.0.1 (the list, market and text "hosts"), prints one JSON line with the
ports, and serves until terminated. Per request it does a dictionary lookup and a counter
increment, nothing else (HTTP/1.1 keep-alive, no threads, no logging), so its CPU stays
small, and it stays out of the crawler's process: the crawler's CPU time and peak RSS
(measured by ``os.wait4`` on the crawl subprocess) never include it.

It counts requests by host and kind (``robots``, ``list``, ``text``, ``other``):
``GET /__bench__/stats`` answers them as JSON, ``GET /__bench__/reset`` zeroes them (neither
is counted). :class:`FeedProcess` starts and talks to it from the driver.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.feeds import HOSTS, PAGE, TEXT_PATH, build, text_path
from bench.generator import DEFAULT_SEED, stories

ROBOTS = b"User-agent: *\nAllow: /\n"
STATS, RESET = b"/__bench__/stats", b"/__bench__/reset"
KINDS = ("robots", "list", "text", "other")


def response(body: bytes, status: str = "200 OK", content_type: str = "application/json; charset=utf-8") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("ascii") + body


NOT_FOUND = response(b'{"error":"not found"}', "404 Not Found")


class Routes:
    """Target (path?query, as bytes) → (kind, complete response), per host."""

    def __init__(self) -> None:
        self.table: dict[str, dict[bytes, tuple[int, bytes]]] = {h: {} for h in HOSTS}
        self.counts: dict[str, list[int]] = {h: [0] * len(KINDS) for h in HOSTS}

    def add(self, host: str, path: str, kind: str, reply: bytes) -> None:
        self.table[host][path.encode("ascii")] = (KINDS.index(kind), reply)

    def stats(self) -> dict[str, dict[str, int]]:
        return {h: dict(zip(KINDS, c, strict=True)) for h, c in self.counts.items()}

    def reset(self) -> None:
        for counts in self.counts.values():
            counts[:] = [0] * len(KINDS)


def render(n: int, seed: int) -> tuple[Routes, list[tuple[str, str, int]]]:
    """Every response of the universe of ``n`` articles, and its list pages (host, path, covers)."""
    universe = build(stories(n, seed))
    routes = Routes()
    for host, table in universe.routes().items():
        routes.add(host, "/robots.txt", "robots", response(ROBOTS, content_type="text/plain"))
        for path, body in table.items():
            routes.add(host, path, "text" if path.startswith(TEXT_PATH) else "list", response(body))
    return routes, [(p.host, p.path, p.covers) for p in universe.pages]


class _Http(asyncio.Protocol):
    def __init__(self, routes: Routes, host: str) -> None:
        self.routes = routes
        self.table = routes.table[host]
        self.counts = routes.counts[host]
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        assert self.transport is not None
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            line = buffer[: buffer.find(b"\r\n")]
            buffer = buffer[end + 4 :]
            target = line.split(b" ", 2)[1] if line.count(b" ") >= 2 else b""
            found = self.table.get(target)
            if found is not None:
                self.counts[found[0]] += 1
                self.transport.write(found[1])
            elif target == STATS:
                self.transport.write(response(json.dumps(self.routes.stats()).encode()))
            elif target == RESET:
                self.routes.reset()
                self.transport.write(response(b"{}"))
            else:
                self.counts[KINDS.index("other")] += 1
                self.transport.write(NOT_FOUND)
        self.buffer = buffer


async def serve(routes: Routes, pages: list[tuple[str, str, int]]) -> None:
    loop = asyncio.get_running_loop()
    servers = {}
    for host in HOSTS:
        servers[host] = await loop.create_server(lambda h=host: _Http(routes, h), "127.0.0.1", 0, backlog=512)  # type: ignore[misc]
    ports = {h: s.sockets[0].getsockname()[1] for h, s in servers.items()}
    print(json.dumps({"ports": ports, "pages": pages}), flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.server", description=__doc__)
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    routes, pages = render(args.articles, args.seed)
    print(json.dumps({"rendered_s": round(time.perf_counter() - started, 2)}), flush=True)
    asyncio.run(serve(routes, pages))


# --- the driver's side ----------------------------------------------------------------------


class FeedProcess:
    """``with FeedProcess(50_000) as feeds: feeds.settings(20_000)`` → the spider's settings."""

    def __init__(self, articles: int, seed: int = DEFAULT_SEED, log: Path | None = None) -> None:
        self.articles = articles
        self.seed = seed
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self.ports: dict[str, int] = {}
        self.pages: list[tuple[str, str, int]] = []
        self.rendered_s = 0.0

    def start(self, timeout: float = 300) -> FeedProcess:
        root = Path(__file__).resolve().parent.parent
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server", "--articles", str(self.articles), "--seed", str(self.seed)],
            stdout=subprocess.PIPE,
            stderr=self.log.open("ab") if self.log else subprocess.DEVNULL,
            text=True,
            cwd=root,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"bench server exited with {self.proc.wait()}")
            data = json.loads(line)
            self.rendered_s = data.get("rendered_s", self.rendered_s)
            if "ports" in data:
                self.ports = data["ports"]
                self.pages = [(str(h), str(p), int(c)) for h, p, c in data["pages"]]
                return self
        raise RuntimeError("bench server did not start in time")

    def url(self, host: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[host]}{path}"

    def list_urls(self, n: int) -> list[str]:
        """The lists that cover articles ``0..n-1`` exactly (see :mod:`bench.feeds`)."""
        if n % PAGE or n > self.articles:
            raise ValueError(f"run sizes are multiples of {PAGE} up to {self.articles}, not {n}")
        return [self.url(host, path) for host, path, covers in self.pages if covers <= n]

    def settings(self, n: int) -> dict[str, str]:
        """The settings that point the finews spider at the first ``n`` articles."""
        return {
            "FINEWS_LIST_URLS": ",".join(self.list_urls(n)),
            "FINEWS_TEXT_URL": self.url("text", text_path("{info_code}")),
        }

    def _get(self, path: bytes) -> Any:
        with urllib.request.urlopen(self.url("lists", path.decode()), timeout=10) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, dict[str, int]]:
        data: dict[str, dict[str, int]] = self._get(STATS)
        return data

    def reset(self) -> None:
        self._get(RESET)

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system)."""
        import psutil

        assert self.proc is not None
        times = psutil.Process(self.proc.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> FeedProcess:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def totals(stats: dict[str, dict[str, int]], kinds: Iterable[str] = KINDS) -> dict[str, int]:
    """Requests by kind over every host."""
    return {k: sum(host.get(k, 0) for host in stats.values()) for k in kinds}


if __name__ == "__main__":
    main()
