"""An East Money look-alike served by ``FeedServer`` on 127.0.0.1, for the demo and the tests.

It speaks the documented formats (docs/eastmoney.md): column lists paged by
``page_index``/``page_size``, the 7x24 fast news paged by ``sortEnd`` (the last entry's
``realSort``), article pages with ``div#ContentBody``. Like the descriptions of the live
API, it refuses a list request without ``req_trace`` (``code`` not "1") and, unless told
otherwise, one without a ``Referer`` (HTTP 403). The bundled samples
(``samples/eastmoney/``) are the real articles of the finews samples, listed the East Money way.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from newsarchive.feedserver import FeedServer, Received, Reply
from newsarchive.timeparse import BEIJING, parse_beijing

SAMPLES = Path(__file__).resolve().parent / "samples" / "eastmoney"
COLUMN_PATH = "/comm/web/getNewsByColumns"
FAST_PATH = "/comm/web/getFastNewsList"
HTML = "text/html; charset=utf-8"
FORBIDDEN = b"<html><head><title>403 Forbidden</title></head><body>Forbidden</body></html>"


def page_html(title: str, published: str | None, media: str | None, body: str, *, editor: str = "DF528") -> bytes:
    """An article page as finance.eastmoney.com lays it out: ``h1``, the byline (time and
    source in ``div.infos``), the body in ``div#ContentBody`` ending with the editor's line."""
    items = ""
    if published:
        stamp = parse_beijing(published)
        shown = stamp.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M") if stamp else published
        items += f'<div class="item">{shown}</div>'
    if media:
        items += f'<div class="item">来源：<a href="http://finance.eastmoney.com/">{html.escape(media)}</a></div>'
    edit = f'<p class="res-edit">(责任编辑：{editor})</p>' if editor else ""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"/>'
        f"<title>{html.escape(title)}_东方财富网</title></head><body>"
        '<div class="main"><div class="mainleft"><div class="newsContent">'
        f'<h1>{html.escape(title)}</h1><div class="infos">{items}</div>'
        f'<div class="txtinfos" id="ContentBody">{body}{edit}</div>'
        "</div></div></div>"
        "</body></html>"
    ).encode()


def column_entry(code: str, title: str, show_time: str, media: str = "", **fields: Any) -> dict[str, Any]:
    """An entry of a column list, with the fields the documented ``fields`` parameter asks for."""
    url = f"http://finance.eastmoney.com/a/{code}.html"
    row: dict[str, Any] = {
        "code": code,
        "showTime": show_time,
        "title": title,
        "mediaName": media,
        "summary": f"{title}（摘要）",
        "image": "",
        "url": url,
        "uniqueUrl": url,
        "Np_dst": "",
    }
    row.update(fields)
    return row


def fast_entry(code: str, title: str, show_time: str, sort: str, **fields: Any) -> dict[str, Any]:
    """An entry of the 7x24 fast news."""
    row: dict[str, Any] = {"code": code, "title": title, "summary": title, "showTime": show_time, "realSort": sort}
    row.update(fields)
    return row


class EastmoneySite:
    """Routes of one fake East Money (list API, fast-news API, article pages) on a FeedServer."""

    def __init__(self, server: FeedServer, *, referer_required: bool = True) -> None:
        self.server = server
        self.referer_required = referer_required
        #: column id → its entries, newest first (the site pages them).
        self.columns: dict[str, list[Any]] = {}
        #: fastColumn → its entries, newest first, each with a ``realSort``.
        self.fast: dict[str, list[Any]] = {}
        #: A reply that replaces every answer of one list (``column:<id>`` or ``fast:<id>``).
        self.faults: dict[str, Reply] = {}
        server.add_request_handler(COLUMN_PATH, self._guarded(self._column))
        server.add_request_handler(FAST_PATH, self._guarded(self._fast))

    # --- building ---------------------------------------------------------------------

    def add_page(self, code: str, body: bytes, status: int = 200) -> None:
        reply = Reply(status=status, body=body, content_type=HTML)
        self.server.add_request_handler(f"/a/{code}.html", lambda r: reply)

    def add_article(self, code: str, title: str, published: str | None, media: str | None, body: str) -> None:
        self.add_page(code, page_html(title, published, media, body))

    def settings(self) -> dict[str, Any]:
        base = self.server.url("").rstrip("/")
        return {
            "EASTMONEY_LIST_BASE": base,
            "EASTMONEY_FAST_BASE": base,
            "EASTMONEY_WEB_BASE": base,
            "EASTMONEY_COLUMNS": ",".join(self.columns),
            "EASTMONEY_FAST": str(bool(self.fast)),
            "EASTMONEY_FAST_COLUMN": next(iter(self.fast), "102"),
            "EASTMONEY_DOWNLOAD_DELAY": "0",
        }

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.server.received if r.path == path]

    # --- serving ----------------------------------------------------------------------

    def _guarded(self, handler: Callable[[Received], Reply]) -> Callable[[Received], Reply]:
        def guarded(request: Received) -> Reply:
            if self.referer_required and not request.header("Referer"):
                return Reply(status=403, body=FORBIDDEN, content_type=HTML)
            if not request.query.get("req_trace"):
                return _json({"code": "-1", "message": "req_trace is required", "data": None})
            return handler(request)

        return guarded

    def _column(self, request: Received) -> Reply:
        q = request.query
        column = q.get("column", "")
        if f"column:{column}" in self.faults:
            return self.faults[f"column:{column}"]
        entries = self.columns.get(column)
        try:
            index, size = int(q.get("page_index", "1")), int(q.get("page_size", "20"))
        except ValueError:
            return _json({"code": "-1", "message": "bad page", "data": None})
        if entries is None or index < 1 or size < 1:
            return _json({"code": "-1", "message": "no such column", "data": None})
        rows = entries[(index - 1) * size : index * size]
        return _json({"code": "1", "message": "success", "data": {"list": rows, "page_index": index}})

    def _fast(self, request: Received) -> Reply:
        q = request.query
        column = q.get("fastColumn", "")
        if f"fast:{column}" in self.faults:
            return self.faults[f"fast:{column}"]
        entries = self.fast.get(column)
        try:
            size = int(q.get("pageSize", "50"))
        except ValueError:
            return _json({"code": "-1", "message": "bad pageSize", "data": None})
        if entries is None:
            return _json({"code": "-1", "message": "no such column", "data": None})
        cursor = q.get("sortEnd", "")
        start = 0
        if cursor:
            after = [i for i, e in enumerate(entries) if isinstance(e, dict) and str(e.get("realSort")) == cursor]
            if not after:
                return _json({"code": "-1", "message": "bad sortEnd", "data": None})
            start = after[0] + 1
        rows = entries[start : start + size]
        return _json({"code": "1", "message": "success", "data": {"fastNewsList": rows, "total": len(entries)}})


def _json(data: Any) -> Reply:
    return Reply(body=json.dumps(data, ensure_ascii=False).encode())


def install_eastmoney(server: FeedServer, data_dir: Path | None = None) -> dict[str, Any]:
    """The demo site from the bundled samples: columns 345 and 350, the fast news, a page
    per article; returns the settings that point the eastmoney spider at it (no delay)."""
    base = data_dir or SAMPLES
    site = EastmoneySite(server)
    site.columns = json.loads((base / "columns.json").read_text(encoding="utf-8"))
    site.fast = json.loads((base / "fast.json").read_text(encoding="utf-8"))
    articles: dict[str, dict[str, str]] = json.loads((base / "articles.json").read_text(encoding="utf-8"))
    for code, art in articles.items():
        site.add_article(code, art["title"], art["time"], art["media"] or None, art["body"])
    return site.settings()


def now_beijing() -> datetime:
    """The current Beijing time (for entries with relative times)."""
    return datetime.now(BEIJING)
