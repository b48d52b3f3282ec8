"""A thepaper.cn look-alike served by ``FeedServer`` on 127.0.0.1, for the demo and the tests.

The real saved hot list (``samples/thepaper/rightSidebar.json``); channel lists and
article pages built here to the documented structure (``docs/thepaper.md``). Like the real
site, the server answers 403 (an HTML block page) to a request without a Referer, and
``code 99998`` to a channel request whose Content-Type is not JSON. Channel lists page as
public code shows the real one does: ``pageNum`` is ignored, the first page is the one
asked for with an empty ``startTime`` and each next one is the one after the page that
handed out the ``startTime`` sent (an unknown cursor answers ``code 10000``). Entries are
served in the order given: the demo's lists are in an editorial order, a pinned old entry
on top of every page, not newest first.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsarchive.samples.feedserver import FeedServer, Received, Reply
from newsarchive.timeparse import BEIJING, parse_beijing

SIDEBAR = Path(__file__).resolve().parent / "thepaper" / "rightSidebar.json"
CHANNEL_PATH = "/contentapi/nodeCont/getByChannelId"
HOT_PATH = "/contentapi/wwwIndex/rightSidebar"
HTML = "text/html; charset=utf-8"
WAF_PAGE = b"<html><head><title>403 Forbidden</title></head><body>WAF: request blocked</body></html>"
#: A cursor override that leaves ``startTime`` out of the answer.
OMIT = object()


def ms(beijing: str) -> int:
    """Epoch milliseconds of a Beijing time ``YYYY-MM-DD HH:MM[:SS]``."""
    dt = parse_beijing(beijing)
    assert dt is not None, beijing
    return int(dt.timestamp() * 1000)


def next_json(data: Any) -> str:
    """JSON as Next.js embeds it in a page (``<``, ``>``, ``&`` escaped)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_html(
    title: str,
    *,
    detail_data: dict[str, Any] | None = None,
    next_data: str | None = None,
    body: str = "",
    byline: tuple[str, ...] = (),
) -> bytes:
    """An article page: optional article markup (title, byline, body) and an optional
    ``__NEXT_DATA__`` script holding ``detail_data`` (or the raw text ``next_data``)."""
    markup = ""
    if body:
        items = "".join(f'<div class="ant-space-item"><span>{b}</span></div>' for b in byline)
        markup = (
            '<div class="index_wrapper__L_zqV"><div class="index_left__LfzyH">'
            f'<h1 class="index_title__B8mhI">{title}</h1>'
            f'<div class="ant-space ant-space-horizontal">{items}</div>'
            '<div class="index_cententWrapBox__bh0OY">'
            f'<div class="index_cententWrap__Jv8jK">{body}</div></div></div></div>'
        )
    script = ""
    if detail_data is not None:
        data = {
            "props": {"pageProps": {"detailData": detail_data}, "__N_SSP": True},
            "page": "/newsDetail_forward/[id]",
            "query": {},
            "buildId": "test-build",
            "isFallback": False,
            "gssp": True,
        }
        next_data = next_json(data)
    if next_data is not None:
        script = f'<script id="__NEXT_DATA__" type="application/json">{next_data}</script>'
    return (
        '<!DOCTYPE html><html><head><meta charSet="utf-8"/>'
        f"<title>{title}_澎湃新闻-The Paper</title></head><body>"
        f'<div id="__next"><main>{markup}</main></div>{script}</body></html>'
    ).encode()


def text_detail(cont_id: str, name: str, published: str, **fields: Any) -> dict[str, Any]:
    """A ``contentDetail`` of a text article with every documented field."""
    detail: dict[str, Any] = {
        "contId": int(cont_id),
        "name": name,
        "summary": f"{name}（摘要）",
        "content": f"<p>{name}。</p><p>第二段正文。</p>",
        "author": "澎湃新闻记者 张三",
        "source": "澎湃新闻",
        "responEditor": "李四",
        "pubTime": published[:16],
        "publishTime": ms(published),
        "updateTime": ms(published) + 3_600_000,
        "nodeInfo": {"nodeId": 25462, "name": "中国政库"},
        "tagList": [{"tagId": 1, "tag": "上海"}],
        "images": [],
        "videos": None,
        "contType": 0,
    }
    detail.update(fields)
    return detail


def entry(cont_id: str | int | None, name: str, published: str | None = None, **fields: Any) -> dict[str, Any]:
    """A list entry as the channel API gives it."""
    row: dict[str, Any] = {
        "name": name,
        "link": "",
        "contType": 0,
        "nodeInfo": {"nodeId": 25462, "name": "中国政库"},
    }
    if cont_id is not None:
        row["contId"] = cont_id
    if published is not None:
        row["pubTimeLong"] = ms(published)
        row["pubTime"] = "1小时前"  # relative, as the site gives it: never used
    row.update(fields)
    return row


@dataclass
class Channel:
    """One channel's pages, and what each answer says besides its entries."""

    pages: list[list[Any]]
    #: The ``startTime`` each page hands out (``OMIT``: none); by default a distinct epoch ms.
    cursors: list[Any] = field(default_factory=list)
    #: The ``hasNext`` each page says (``OMIT``: none); by default true but on the last page.
    has_next: list[Any] = field(default_factory=list)


class ThepaperSite:
    """Routes of one fake thepaper.cn on a FeedServer."""

    def __init__(self, server: FeedServer, *, waf: bool = True) -> None:
        self.server = server
        self.waf = waf
        self.channels: dict[str, Channel] = {}
        self.hot_body: bytes = SIDEBAR.read_bytes()
        server.add_request_handler(CHANNEL_PATH, self._channel)
        server.add_request_handler(HOT_PATH, self._guarded(lambda r: Reply(body=self.hot_body)))

    # --- building ---------------------------------------------------------------------

    def cursor(self, channel: str, page: int) -> Any:
        """The ``startTime`` page ``page`` (from 1) of ``channel`` hands out."""
        return self.channels[channel].cursors[page - 1]

    def add_channel(
        self,
        channel: str,
        *pages: list[Any],
        cursors: list[Any] | None = None,
        has_next: list[Any] | None = None,
    ) -> None:
        """A channel serving ``pages`` in the order given. Each page's cursor defaults to
        one millisecond before its oldest entry's ``pubTimeLong`` (made distinct)."""
        if cursors is None:
            cursors, used = [], set()
            for n, page in enumerate(pages):
                raw = [r.get("pubTimeLong") for r in page if isinstance(r, dict)]
                times = [t for t in raw if isinstance(t, int) and not isinstance(t, bool)]
                cursor = min(times, default=1_640_000_000_000 - 1000 * n) - 1
                while cursor in used:
                    cursor -= 1
                used.add(cursor)
                cursors.append(cursor)
        if has_next is None:
            has_next = [n < len(pages) - 1 for n in range(len(pages))]
        assert len(cursors) == len(has_next) == len(pages)
        self.channels[channel] = Channel(list(pages), list(cursors), list(has_next))

    def add_page(self, cont_id: str | int, body: bytes, status: int = 200) -> None:
        reply = Reply(status=status, body=body, content_type=HTML)
        self.server.add_request_handler(f"/newsDetail_forward_{cont_id}", self._guarded(lambda r: reply))

    def add_hot_pages(self) -> list[str]:
        """A text article page for every contId in the saved hot list; returns the ids."""
        data = json.loads(self.hot_body)["data"]
        ids: list[str] = []
        for key in ("hotNews", "morningEveningNews", "editorHandpicked", "financialInformationNews"):
            for row in data[key]:
                if "contId" not in row:
                    continue
                cid = str(row["contId"])
                stamp = parse_beijing(int(row["pubTimeLong"]))
                assert stamp is not None
                published = stamp.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
                detail = text_detail(cid, row["name"], published, nodeInfo=row.get("nodeInfo"))
                self.add_page(cid, page_html(row["name"], detail_data={"contentDetail": detail}))
                ids.append(cid)
        return ids

    def settings(self) -> dict[str, Any]:
        base = self.server.url("").rstrip("/")
        return {
            "THEPAPER_API_BASE": base,
            "THEPAPER_CACHE_BASE": base,
            "THEPAPER_WEB_BASE": base,
            "THEPAPER_CHANNELS": ",".join(self.channels),
            "THEPAPER_DOWNLOAD_DELAY": "0",
        }

    # --- serving ----------------------------------------------------------------------

    def _guarded(self, handler: Callable[[Received], Reply]) -> Callable[[Received], Reply]:
        def guarded(request: Received) -> Reply:
            if self.waf and not request.header("Referer"):
                return Reply(status=403, body=WAF_PAGE, content_type=HTML)
            return handler(request)

        return guarded

    def _channel(self, request: Received) -> Reply:
        if self.waf and not request.header("Referer"):
            return Reply(status=403, body=WAF_PAGE, content_type=HTML)
        if request.method != "POST":
            return Reply(status=405, body=b'{"code": 405}')
        if not (request.header("Content-Type") or "").startswith("application/json"):
            return self._json({"code": 99998, "desc": "系统繁忙"})
        try:
            body = json.loads(request.body)
            channel = self.channels.get(str(body["channelId"]))
            size = int(body.get("pageSize") or 20)
        except (ValueError, KeyError, TypeError, AttributeError):
            return self._json({"code": 10000, "desc": "请求无效"})
        if channel is None:
            return self._json({"code": 10000, "desc": "请求无效"})
        start = body.get("startTime")
        if start in (None, "", 0):
            index = 0
        else:
            after = [n for n, c in enumerate(channel.cursors) if c is not OMIT and str(c) == str(start)]
            if not after:
                return self._json({"code": 10000, "desc": "请求无效"})
            index = after[0] + 1
        if index >= len(channel.pages):
            return self._json({"code": 200, "desc": "ok", "data": {"hasNext": False, "list": []}})
        # pageNum and friends come back null: the real answer does not page by number.
        data: dict[str, Any] = {"list": channel.pages[index][:size], "pageNum": None, "pageSize": None, "total": None}
        for key, value in (("hasNext", channel.has_next[index]), ("startTime", channel.cursors[index])):
            if value is not OMIT:
                data[key] = value
        return self._json({"code": 200, "desc": "ok", "data": data})

    @staticmethod
    def _json(data: Any) -> Reply:
        return Reply(body=json.dumps(data, ensure_ascii=False).encode())

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.server.received if r.path == path]


def install_thepaper(server: FeedServer) -> dict[str, Any]:
    """The demo site: the real hot list, a text page for each of its articles, and one
    channel (财经, 25951) listing them over two pages in an editorial order (the oldest
    entry pinned on top of both pages, the rest shuffled), paged by ``startTime``; returns
    the settings that point the thepaper spider at it (no politeness delay on 127.0.0.1)."""
    site = ThepaperSite(server)
    ids = site.add_hot_pages()
    data = json.loads(site.hot_body)["data"]
    rows = {str(r["contId"]): r for key in ("hotNews", "editorHandpicked") for r in data[key] if "contId" in r}
    entries = [
        entry(cid, rows[cid]["name"], nodeInfo=rows[cid].get("nodeInfo"), pubTimeLong=rows[cid]["pubTimeLong"])
        for cid in ids
        if cid in rows
    ]
    entries.sort(key=lambda e: -int(e["pubTimeLong"]))
    pinned, rest = entries[-1], entries[:-1]
    random.Random(16).shuffle(rest)
    half = len(rest) // 2
    site.add_channel("25951", [pinned, *rest[:half]], [pinned, *rest[half:]])
    return site.settings()
