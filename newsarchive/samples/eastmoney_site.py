"""An East Money look-alike served by ``FeedServer`` on 127.0.0.1, for the demo and the tests.

It speaks the formats public code shows (docs/eastmoney.md): column lists paged by
``page_index``/``page_size`` answering ``code`` 1 (an integer) with ``np_dst`` entries (财富号
posts: "CFH", empty ``uniqueUrl``), the 7x24 fast news paged by ``data.sortEnd`` and
answering ``data: null`` past its end, article pages without ``h1`` (``div.title``,
``div.infos > div.item``, ``div#ContentBody.txtinfos`` with an ad slot and the editor's
line), long ones continued on ``<code>_2.html``… It refuses a list request without
``req_trace`` (``{"code": 0, "message": "Required String parameter 'req_trace' is not
present"}``) and, unless told otherwise, one without a ``Referer`` (HTTP 403, assumed). The bundled samples
(``samples/eastmoney/``) are the real articles of the finews samples, listed the East Money way.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from newsarchive.samples.feedserver import FeedServer, Received, Reply
from newsarchive.timeparse import BEIJING, parse_beijing

SAMPLES = Path(__file__).resolve().parent / "eastmoney"
COLUMN_PATH = "/comm/web/getNewsByColumns"
FAST_PATH = "/comm/web/getFastNewsList"
HTML = "text/html; charset=utf-8"
FORBIDDEN = b"<html><head><title>403 Forbidden</title></head><body>Forbidden</body></html>"


def page_html(
    title: str,
    published: str | None,
    media: str | None,
    body: str,
    *,
    editor: str = "DF528",
    editor_form: str = "p",
    labelled: bool = True,
    spaced_title: bool = False,
    ad: bool = True,
    pager: list[str] | None = None,
) -> bytes:
    """An article page as finance.eastmoney.com lays it out (no ``h1``): the title in
    ``div.title`` and in ``<title>…_东方财富网`` (``… _ 东方财富网`` with ``spaced_title``),
    the byline items in ``div.infos > div.item`` (the source item says ``来源：`` only when
    ``labelled``), the body in ``div#ContentBody.txtinfos`` with an ad slot
    (``div.ad_context3``) and the editor's line at its end: ``p.res-edit`` (``editor_form``
    "p"), ``div.res-edit`` ("div") or a plain ``<p>（责任编辑：…）</p>`` ("plain").
    ``pager`` lists the links of a multi-page article's pager (``<code>_2.html``…)."""
    items = ""
    if published:
        stamp = parse_beijing(published)
        shown = stamp.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M") if stamp else published
        items += f'<div class="item">{shown}</div>'
    if media:
        label = "来源：" if labelled else ""
        items += f'<div class="item">{label}<a href="http://finance.eastmoney.com/">{html.escape(media)}</a></div>'
    items += '<div class="item">评论</div>'
    edit = ""
    if editor:
        edit = {
            "p": f'<p class="res-edit">(责任编辑：{editor})</p>',
            "div": f'<div class="res-edit">责任编辑：{editor}</div>',
            "plain": f"<p>（责任编辑：{editor}）</p>",
        }[editor_form]
    slot = '<!-- 正文中部 内嵌广告 --><div class="ad_context3"><a href="https://acttg.eastmoney.com/">广告</a></div>'
    links = "".join(f'<a href="{href}">{n}</a>' for n, href in enumerate(pager or [], start=2))
    pages = f'<div class="pagesize"><a href="#">1</a>{links}</div>' if pager else ""
    sep = " _ " if spaced_title else "_"
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"/>'
        f"<title>{html.escape(title)}{sep}东方财富网</title></head><body>"
        '<div class="main"><div class="mainleft"><div class="newsContent">'
        f'<div class="title">{html.escape(title)}</div><div class="infos">{items}</div>'
        f'<div class="txtinfos" id="ContentBody">{body}{slot if ad and body else ""}{edit}</div>'
        f"{pages}</div></div></div>"
        "</body></html>"
    ).encode()


def column_entry(code: str, title: str, show_time: str, media: str = "", **fields: Any) -> dict[str, Any]:
    """An entry of a column list as the API answers: ``np_dst`` in lower case ("CMS"), the
    old-style ``url`` (``/news/<column>,<code>.html``) and the ``uniqueUrl`` of the page."""
    row: dict[str, Any] = {
        "code": code,
        "showTime": show_time,
        "title": title,
        "mediaName": media,
        "summary": f"{title}（摘要）",
        "image": "",
        "url": f"http://finance.eastmoney.com/news/1351,{code}.html",
        "uniqueUrl": f"http://finance.eastmoney.com/a/{code}.html",
        "np_dst": "CMS",
    }
    row.update(fields)
    return row


def cfh_entry(code: str, title: str, show_time: str, media: str = "东方财富网", **fields: Any) -> dict[str, Any]:
    """A 财富号 post in a column list: ``np_dst`` "CFH", an empty ``uniqueUrl``, the post's
    address on caifuhao.eastmoney.com in ``url`` (its page is not at ``/a/<code>.html``)."""
    fields = {"np_dst": "CFH", "uniqueUrl": "", "url": f"http://caifuhao.eastmoney.com/news/{code}", **fields}
    return column_entry(code, title, show_time, media, **fields)


def fast_entry(code: str, title: str, show_time: str, sort: str, **fields: Any) -> dict[str, Any]:
    """An entry of the 7x24 fast news (no medium: the answers name none)."""
    row: dict[str, Any] = {
        "code": code,
        "title": title,
        "summary": f"【{title}】{title}",
        "showTime": show_time,
        "realSort": sort,
        "stockList": [],
        "image": [],
        "pinglun_Num": 0,
        "share": 0,
        "titleColor": 0,
    }
    row.update(fields)
    return row


def _sort_key(entry: Any) -> str | None:
    """The cursor of an entry as the server knows it: its ``realSort``, else a ``_sort`` the
    server keeps to itself (an entry sent without its ``realSort``)."""
    if not isinstance(entry, dict):
        return None
    value = entry.get("realSort", entry.get("_sort"))
    return None if value is None else str(value)


def _public(entry: Any) -> Any:
    return {k: v for k, v in entry.items() if not k.startswith("_")} if isinstance(entry, dict) else entry


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
        #: The success ``code`` of the column lists (the integer 1 in saved answers; "1" too).
        self.column_code: Any = 1
        #: Whether fast-news answers carry ``data.sortEnd`` (public answers do).
        self.sort_end = True
        server.add_request_handler(COLUMN_PATH, self._guarded(self._column))
        server.add_request_handler(FAST_PATH, self._guarded(self._fast))

    # --- building ---------------------------------------------------------------------

    def add_page(self, code: str, body: bytes, status: int = 200) -> None:
        self.server.add_request_handler(f"/a/{code}.html", _fixed(Reply(status=status, body=body, content_type=HTML)))

    def add_article(
        self, code: str, title: str, published: str | None, media: str | None, body: str, **layout: Any
    ) -> None:
        self.add_page(code, page_html(title, published, media, body, **layout))

    def add_long_article(
        self, code: str, title: str, published: str | None, media: str | None, bodies: list[str], **layout: Any
    ) -> list[str]:
        """An article over several pages: ``/a/<code>.html``, then ``<code>_2.html``… Every
        page carries the pager (relative links, as the site's); only the last the editor's
        line. Returns the pages' paths in order."""
        paths = [f"/a/{code}.html"] + [f"/a/{code}_{n}.html" for n in range(2, len(bodies) + 1)]
        pager = [f"{code}_{n}.html" for n in range(2, len(bodies) + 1)]
        for n, (path, body) in enumerate(zip(paths, bodies, strict=True)):
            last = n == len(bodies) - 1
            page = page_html(title, published, media, body, pager=pager, **{"editor": "DF528" if last else ""} | layout)
            self.server.add_request_handler(path, _fixed(Reply(body=page, content_type=HTML)))
        return paths

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
            if not request.query.get("req_trace"):  # the error shell public code saw (code 0, an int)
                return _json({"code": 0, "message": "Required String parameter 'req_trace' is not present"})
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
        data = {"list": rows, "page_index": index, "page_size": size, "totle_hits": len(entries)}
        trace = q.get("req_trace")
        return _json({"req_trace": trace, "code": self.column_code, "message": "success", "data": data})

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
            after = [i for i, e in enumerate(entries) if _sort_key(e) == cursor]
            if not after:
                return _json({"code": "-1", "message": "bad sortEnd", "data": None})
            start = after[0] + 1
        rows = entries[start : start + size]
        if not rows:  # paging past the end: success, no data
            return _json({"req_trace": q.get("req_trace"), "code": "1", "message": "success", "data": None})
        data: dict[str, Any] = {"fastNewsList": [_public(e) for e in rows], "total": len(entries)}
        data |= {"index": start // max(size, 1) + 1, "size": size}
        if self.sort_end:
            data["sortEnd"] = next((k for e in reversed(rows) if (k := _sort_key(e))), "")
        return _json({"req_trace": q.get("req_trace"), "code": "1", "message": "success", "data": data})


def _fixed(reply: Reply) -> Callable[[Received], Reply]:
    return lambda request: reply


def _json(data: Any) -> Reply:
    return Reply(body=json.dumps(data, ensure_ascii=False).encode())


def install_eastmoney(server: FeedServer, data_dir: Path | None = None) -> dict[str, Any]:
    """The demo site from the bundled samples: columns 345 and 350 (each with a 财富号 post,
    which the spider skips), the fast news, a page per article; returns the settings that
    point the eastmoney spider at it (no delay)."""
    base = data_dir or SAMPLES
    site = EastmoneySite(server)
    site.columns = json.loads((base / "columns.json").read_text(encoding="utf-8"))
    site.fast = json.loads((base / "fast.json").read_text(encoding="utf-8"))
    articles: dict[str, dict[str, str]] = json.loads((base / "articles.json").read_text(encoding="utf-8"))
    for n, (code, art) in enumerate(articles.items()):
        # the layouts the real pages vary in: editor's line forms, 来源： or not, spaced <title>
        layout = {"editor_form": ("p", "div", "plain")[n % 3], "labelled": n % 2 == 0, "spaced_title": n % 2 == 1}
        site.add_article(code, art["title"], art["time"], art["media"] or None, art["body"], **layout)
    return site.settings()


def now_beijing() -> datetime:
    """The current Beijing time (for entries with relative times)."""
    return datetime.now(BEIJING)
