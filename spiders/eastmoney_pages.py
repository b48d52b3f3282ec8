"""East Money's public web formats, as pure functions (used by the spider, its tests and ``reparse``).

============== ==========================================================================
answer         shape
============== ==========================================================================
column list    ``GET {LIST}/comm/web/getNewsByColumns?column=<id>&page_index=<n>&...`` →
               ``{code: 1 (or "1"), data: {list: [{code, showTime, title, mediaName, summary,
               uniqueUrl, url, np_dst}]}}``; ``np_dst`` "CFH" marks a 财富号 post (empty
               ``uniqueUrl``, ``url`` on caifuhao.eastmoney.com), not at ``/a/<code>.html``
fast news      ``GET {FAST}/comm/web/getFastNewsList?fastColumn=102&sortEnd=<cursor>&...`` →
               ``{code: "1", data: {fastNewsList: [{code, title, summary, showTime,
               realSort}], sortEnd}}``; the next page sends ``data.sortEnd`` (the last
               entry's ``realSort`` when it is missing); ``data: null`` past the end
article page   ``{WEB}/a/<code>.html``: the title in ``div.title`` (and ``<title>… _
               东方财富网``), the byline items in ``div.infos > div.item``, the body in
               ``div#ContentBody``; a long article goes on at ``<code>_2.html``, ``_3.html``…
============== ==========================================================================

``code`` is the infoCode without its ``NW`` prefix. Times are Beijing time, sometimes
relative ("今天 16:25", "5分钟前"): :func:`newsarchive.timeparse.resolve_time` reads them against the fetch time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from newsarchive.bodies import LIMITS, FeedError, JsonLimits, body_text, json_text, loads
from newsarchive.htmltext import inner_html
from newsarchive.ids import INFO_CODE_DIGITS, valid_info_code
from newsarchive.timeparse import CN_DATE, is_relative, resolve_time
from spiders.fields import text_value

_JSONP = re.compile(r"^\s*[A-Za-z_$][\w$.]*\s*\((?P<json>.*)\)\s*;?\s*$", re.S)
_ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?")
_SOURCE = re.compile(r"来源[：:]\s*(?P<name>[^\s|｜]+)")
#: The body's own credit, ``（文章来源：证券时报网）``, in an ``em_media`` element or a plain ``<p>``.
_BODY_CREDIT = re.compile(r"^\s*[（(]\s*(?:文章)?来源[：:]\s*(?P<name>[^（）()]+?)\s*[）)]\s*$")
#: A byline item that is a label (``作者：``, ``编辑：``, ``评论``…), not the medium's name.
_LABELLED = re.compile(r"[：:]|^\s*(?:评论|阅读|分享|收藏|举报|作者|编辑|责任编辑)")
#: A byline item that is a time or a date, and what a medium's name has (a letter, not digits only).
_NOT_A_NAME = re.compile(r"\d{1,2}:\d{2}|\d{4}[-年/]")
_A_NAME = re.compile(r"[^\W\d_]")
_TITLE_SUFFIX = re.compile(r"\s*[_|｜-]\s*东方财富网.*$")
#: ``np_dst`` of a 财富号 post (the answer spells the key ``np_dst``; requests ask ``Np_dst``).
CFH = "CFH"
#: Elements around the body that carry the byline (time, source), newest layout first.
BYLINE_CLASSES = ("infos", "time-source", "time", "source", "Info")


# --- small readers ---------------------------------------------------------------------


def info_code_of(code: Any) -> str | None:
    """The full infoCode of a list entry's ``code``: ``NW`` + 18 digits (a code that already
    carries its ``NW``/``AN`` prefix is kept); None when it is anything else."""
    if isinstance(code, bool):
        return None
    if isinstance(code, int) and code >= 0:
        code = str(code)
    if not isinstance(code, str):
        return None
    if INFO_CODE_DIGITS.fullmatch(code):
        return f"NW{code}"
    return valid_info_code(code)


def _url(value: Any) -> str | None:
    text = text_value(value)
    if text and text.startswith("//"):
        text = "https:" + text
    return text if text and text.startswith(("http://", "https://")) else None


# --- lists -----------------------------------------------------------------------------


def load_answer(body: bytes, content_type: str | bytes | None = None, limits: JsonLimits = LIMITS) -> dict[str, Any]:
    """The JSON object of a list answer (a JSONP wrapper is unwrapped), or FeedError:
    ``bad_json``, ``undecodable``, ``too_deep``, ``bad_feed`` (not an object) or ``api_error``
    (``code`` not "1")."""
    text = json_text(body, content_type)
    m = _JSONP.match(text) if text.lstrip()[:1] not in ("{", "[") else None
    data = loads(m["json"] if m else text, limits)
    if not isinstance(data, dict):
        raise FeedError("bad_feed", f"top-level JSON is a {type(data).__name__}, not an object")
    if "code" in data and not _success(data["code"]):
        message = next((data[k] for k in ("message", "msg", "desc") if data.get(k)), "")
        raise FeedError("api_error", f"code {data['code']!r} {message}".rstrip())
    return data


def _success(code: Any) -> bool:
    """East Money's success code: the integer 1 (column lists) or the string "1" (fast news)."""
    if isinstance(code, bool):
        return False
    if isinstance(code, int):
        return code == 1
    return isinstance(code, str) and code.strip() == "1"


def _list_under(data: dict[str, Any], key: str) -> list[Any]:
    inner = data.get("data")
    if not isinstance(inner, dict) or not isinstance(inner.get(key), list):
        what = ", ".join(sorted(map(str, inner))[:12]) if isinstance(inner, dict) else type(inner).__name__
        raise FeedError("bad_feed", f"no data.{key} in the answer (data: {what})")
    found: list[Any] = inner[key]
    return found


def parse_column_page(body: bytes, content_type: str | bytes | None = None, limits: JsonLimits = LIMITS) -> list[Any]:
    """The raw entries of one page of a column list."""
    return _list_under(load_answer(body, content_type, limits), "list")


@dataclass
class FastPage:
    """One page of the 7x24 fast news."""

    entries: list[Any]
    #: ``data.sortEnd``: the cursor of the next page (None when the answer has none).
    sort_end: str | None = None
    #: The answer says the feed is over: success with ``data: null`` (or no entries).
    end: bool = False


def parse_fast_page(body: bytes, content_type: str | bytes | None = None, limits: JsonLimits = LIMITS) -> FastPage:
    """One page of the 7x24 fast news. Paging past the end answers ``code "1"`` with
    ``data: null``: that, a null or empty ``fastNewsList``, is the end of the feed, not a
    fault; a ``data`` that is neither null nor an object with ``fastNewsList`` is ``bad_feed``."""
    data = load_answer(body, content_type, limits)
    inner = data.get("data")
    if inner is None or (isinstance(inner, dict) and "fastNewsList" in inner and inner["fastNewsList"] is None):
        return FastPage([], end=True)
    raws = _list_under(data, "fastNewsList")
    sort = inner.get("sortEnd") if isinstance(inner, dict) else None
    sort_end = None if isinstance(sort, bool) or sort is None or str(sort).strip() == "" else str(sort).strip()
    return FastPage(raws, sort_end, end=not raws)


@dataclass
class ListEntry:
    """One list entry with its fields read."""

    raw: Any
    feed: str
    list_url: str
    #: (list order, page, position): when several lists carry a code, the lowest wins.
    rank: tuple[int, int, int]
    code_raw: Any = None
    info_code: str | None = None
    title: str | None = None
    digest: str | None = None
    media_name: str | None = None
    time_raw: Any = None
    published_at: datetime | None = None
    url: str | None = None
    #: The fast news cursor (``realSort``) of this entry.
    sort: str | None = None
    #: Whether the time was relative ("今天 16:25", "5分钟前"): a page's own time beats it.
    relative_time: bool = False
    #: ``np_dst`` (read whatever its case), upper-cased: "CMS", "CFH" (财富号)…
    dst: str | None = None

    @property
    def cfh(self) -> bool:
        """A 财富号 post: ``np_dst`` "CFH", or (no ``np_dst``) a ``url`` on caifuhao.eastmoney.com
        with an empty ``uniqueUrl``. Its article is not at ``/a/<code>.html``."""
        if self.dst is not None:
            return self.dst == CFH
        raw = self.raw if isinstance(self.raw, dict) else {}
        link = _url(raw.get("url")) or ""
        return not text_value(raw.get("uniqueUrl")) and urlsplit(link).hostname == "caifuhao.eastmoney.com"


def read_entry(
    raw: Any, feed: str, list_url: str, rank: tuple[int, int, int], fetched_at: datetime
) -> ListEntry | None:
    """The entry's fields; None when it is not a JSON object."""
    if not isinstance(raw, dict):
        return None
    entry = ListEntry(raw=raw, feed=feed, list_url=list_url, rank=rank)
    entry.code_raw = raw.get("code")
    entry.info_code = info_code_of(entry.code_raw)
    entry.title = text_value(raw.get("title"))
    entry.digest = text_value(raw.get("summary")) or text_value(raw.get("digest"))
    entry.media_name = text_value(raw.get("mediaName"))
    entry.time_raw = raw.get("showTime")
    entry.published_at = resolve_time(entry.time_raw, fetched_at)
    entry.relative_time = entry.published_at is not None and is_relative(entry.time_raw)
    entry.url = _url(raw.get("uniqueUrl")) or _url(raw.get("url"))
    dst = text_value(next((v for k, v in raw.items() if isinstance(k, str) and k.lower() == "np_dst"), None))
    entry.dst = dst.upper() if dst else None
    sort = raw.get("realSort")
    entry.sort = None if isinstance(sort, bool) or sort in (None, "") else str(sort)
    return entry


def next_cursor(entries: Sequence[ListEntry | None], sort_end: str | None = None) -> str | None:
    """The ``sortEnd`` of the next fast news page: the answer's ``data.sortEnd``; only when
    it is missing, the last entry's ``realSort`` (the same value in every answer seen)."""
    if sort_end:
        return sort_end
    return next((e.sort for e in reversed(entries) if e is not None and e.sort), None)


def stop_paging(
    entries: Sequence[ListEntry | None],
    size: int,
    page: int,
    max_pages: int,
    since: datetime | None,
    archived: Callable[[str], bool],
) -> str | None:
    """Why paging a list stops after this page, or None to ask for the next one.

    Lists are newest first, so the page's *last* usable entry decides: older than
    ``since``, or already archived, means the rest is too. A page shorter than asked is
    the last one.
    """
    if len(entries) < size:
        return "last_page"
    if page >= max_pages:
        return "max_pages"
    valid = [e for e in entries if e is not None and e.info_code]
    if not valid:
        return "empty_page"
    dated = [e.published_at for e in valid if e.published_at is not None]
    if since is not None and dated and dated[-1] < since:
        return "since"
    last = valid[-1].info_code
    if last is not None and archived(last):
        return "archived"
    return None


# --- article pages ---------------------------------------------------------------------


@dataclass
class ArticlePage:
    """What an article page says, ready for the archive's columns."""

    title: str | None
    content_html: str
    published_at: datetime | None = None
    #: The byline's source item (``来源：X`` or a bare name), else the body's ``（文章来源：X）``.
    media_name: str | None = None
    #: The continuation pages it links to (``<code>_2.html``…): {page number: absolute URL}.
    continuations: dict[int, str] = field(default_factory=dict)


def _classes(el: Any) -> list[str]:
    return (el.get("class") or "").split() if isinstance(el.tag, str) else []


def _squash(text: str) -> str:
    return " ".join(text.split())


def _content(root: Any) -> Any:
    """``div#ContentBody``; else the first ``div.txtinfos`` (the class the body carries)."""
    found = root.get_element_by_id("ContentBody", None)
    if found is None:
        found = next((el for el in root.iter("div") if "txtinfos" in _classes(el)), None)
    return found


def _title(root: Any, content: Any) -> str | None:
    """``div.title`` (the last one before the body: a sidebar's box titles come after it, or
    inside boxes of their own); else ``<title>`` without ``_东方财富网`` (spaces or not); else
    an ``h1``."""
    found = None
    for el in root.iter():
        if el is content:
            break
        if el.tag == "div" and "title" in _classes(el) and (text := _squash(el.text_content())):
            found = text
    if found:
        return found
    page_title = _squash(root.findtext(".//title") or "")
    if title := _TITLE_SUFFIX.sub("", page_title).strip():
        return title
    h1 = next(iter(root.iter("h1")), None)
    return (_squash(h1.text_content()) or None) if h1 is not None else None


def _byline_source(items: list[str]) -> str | None:
    """The medium of the byline: the item saying ``来源：X``; else the first item that is
    neither a time nor labelled (``作者：``, ``评论``…), e.g. a bare ``澎湃新闻``."""
    for item in items:
        if m := _SOURCE.search(item):
            return m["name"]
    for item in items:
        if item and not _LABELLED.search(item) and not _NOT_A_NAME.search(item) and _A_NAME.search(item):
            return item if len(item) <= 40 else None
    return None


def _body_credit(content: Any) -> str | None:
    """The body's own credit: the last paragraph (or ``em_media`` element) reading ``（文章来源：X）``."""
    for el in reversed(list(content.iter("p", "div"))):
        if el is content:
            continue
        if m := _BODY_CREDIT.match(_squash(el.text_content())):
            return m["name"].strip() or None
    return None


def continuation_pages(root: Any, page_url: str, limit: int) -> dict[int, str]:
    """The pages ``<code>_<n>.html`` (n from 2 to ``limit``) a page links to, on its own host,
    by page number; query and fragment dropped."""
    base = urlsplit(page_url)
    stem, dot, _ = base.path.rpartition(".")
    stem = re.sub(r"_\d+$", "", stem)  # a continuation page links its siblings too
    if not dot or not stem:
        return {}
    pattern = re.compile(re.escape(stem) + r"_(?P<n>[0-9]{1,4})\." + re.escape(base.path.rpartition(".")[2]))
    found: dict[int, str] = {}
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href:
            continue
        link = urlsplit(urljoin(page_url, href))
        if link.scheme not in ("http", "https") or link.hostname != base.hostname or link.port != base.port:
            continue
        if (m := pattern.fullmatch(link.path)) and 2 <= (n := int(m["n"])) <= limit:
            found.setdefault(n, f"{base.scheme}://{base.netloc}{link.path}")
    return found


def parse_article(
    body: bytes,
    fetched_at: datetime,
    content_type: str | bytes | None = None,
    page_url: str | None = None,
    max_pages: int = 1,
) -> ArticlePage:
    """Read an article page; FeedError ``not_article`` when it has no ``div#ContentBody``,
    ``empty_text`` when that body is empty, ``undecodable`` when its bytes are not valid in
    the encoding it declares (header, BOM, ``<meta charset>``; UTF-8 when none). With
    ``page_url`` and ``max_pages`` > 1, the continuation pages it links to are listed."""
    text = body_text(body, content_type, html=True)
    try:
        root = lxml.html.document_fromstring(text) if text.strip() else None
    except (lxml.etree.ParserError, ValueError):
        root = None
    content = _content(root) if root is not None else None
    if content is None:
        title = root.findtext(".//title") if root is not None else None
        raise FeedError("not_article", f"no div#ContentBody in the page (title: {(title or '').strip()[:80]!r})")
    assert root is not None
    content_html = inner_html(content)
    if not content_html:
        raise FeedError("empty_text", "div#ContentBody is empty")
    bylines = [
        el for el in root.iter() if any(c in BYLINE_CLASSES for c in _classes(el)) and content not in el.iterancestors()
    ]
    bylines = [el for el in bylines if el is not content and not any(a in bylines for a in el.iterancestors())]
    byline = " | ".join(el.text_content() for el in bylines)
    items = [_squash(el.text_content()) for b in bylines for el in b if "item" in _classes(el)]
    published = None
    if m := CN_DATE.search(byline):
        published = resolve_time(m.group(0), fetched_at)
    elif m := _ISO_DATE.search(byline):
        published = resolve_time(" ".join(m.group(0).split()), fetched_at)
    source = _SOURCE.search(byline)
    media = _byline_source(items) or (source["name"] if source else None) or _body_credit(content)
    return ArticlePage(
        title=_title(root, content),
        content_html=content_html,
        published_at=published,
        media_name=media,
        continuations=continuation_pages(root, page_url, max_pages) if page_url and max_pages > 1 else {},
    )


def dumps(raw: Any) -> str:
    """A raw entry as compact JSON (for log lines)."""
    return json.dumps(raw, ensure_ascii=False, default=str)[:200]
