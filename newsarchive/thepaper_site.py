"""A thepaper.cn look-alike served by ``FeedServer`` on 127.0.0.1, for the demo and the tests.

The real saved hot list (``samples/thepaper/rightSidebar.json``); channel lists and
article pages built here to the documented structure (``docs/thepaper.md``). Like the real site, the server answers 403
(an HTML block page) to a request without a Referer, and ``code 99998`` to a channel
request whose Content-Type is not JSON; it answers ``code 10000`` to a page request that
does not send back the previous page's ``startTime``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsarchive.feedserver import FeedServer, Received, Reply
from newsarchive.timeparse import BEIJING, parse_beijing

SIDEBAR = Path(__file__).resolve().parent / "samples" / "thepaper" / "rightSidebar.json"
CHANNEL_PATH = "/contentapi/nodeCont/getByChannelId"
HOT_PATH = "/contentapi/wwwIndex/rightSidebar"
HTML = "text/html; charset=utf-8"
WAF_PAGE = b"<html><head><title>403 Forbidden</title></head><body>WAF: request blocked</body></html>"


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


class ThepaperSite:
    """Routes of one fake thepaper.cn on a FeedServer."""

    def __init__(self, server: FeedServer, *, waf: bool = True) -> None:
        self.server = server
        self.waf = waf
        #: channelId → pages (each a list of entries); page n>1 expects cursor of page n-1.
        self.channels: dict[str, list[list[Any]]] = {}
        self.hot_body: bytes = SIDEBAR.read_bytes()
        server.add_request_handler(CHANNEL_PATH, self._channel)
        server.add_request_handler(HOT_PATH, self._guarded(lambda r: Reply(body=self.hot_body)))

    # --- building ---------------------------------------------------------------------

    def cursor(self, channel: str, page: int) -> int:
        """The ``startTime`` page ``page`` of ``channel`` hands out."""
        return 1_640_000_000_000 + int(channel) * 100 + page

    def add_channel(self, channel: str, *pages: list[Any]) -> None:
        self.channels[channel] = list(pages)

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
            channel, page = str(body["channelId"]), int(body["pageNum"])
        except (ValueError, KeyError, TypeError):
            return self._json({"code": 10000, "desc": "请求无效"})
        pages = self.channels.get(channel)
        if pages is None or not 1 <= page <= len(pages):
            return self._json({"code": 10000, "desc": "请求无效"})
        if page > 1 and body.get("startTime") != self.cursor(channel, page - 1):
            return self._json({"code": 10000, "desc": "请求无效"})
        size = int(body.get("pageSize") or 20)
        data = {
            "list": pages[page - 1][:size],
            "hasNext": page < len(pages),
            "startTime": self.cursor(channel, page),
            "pageNum": page,
            "pageSize": size,
        }
        return self._json({"code": 200, "desc": "ok", "data": data})

    @staticmethod
    def _json(data: Any) -> Reply:
        return Reply(body=json.dumps(data, ensure_ascii=False).encode())

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.server.received if r.path == path]


def install_thepaper(server: FeedServer) -> dict[str, Any]:
    """The demo site: the real hot list, a text page for each of its articles, and one
    channel (财经, 25951) listing them over two pages; returns the settings that point the
    thepaper spider at it (no politeness delay on 127.0.0.1)."""
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
    half = len(entries) // 2
    site.add_channel("25951", entries[:half], entries[half:])
    return site.settings()
