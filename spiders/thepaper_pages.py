"""The thepaper.cn formats, as pure functions (used by the spider, its tests and ``reparse``).

============== ==========================================================================
answer         shape
============== ==========================================================================
channel list   ``POST {API}/contentapi/nodeCont/getByChannelId`` →
               ``{code: 200, data: {list: [entry], hasNext, startTime}}``, in the
               editors' order; the next page sends back ``startTime`` (epoch ms)
hot list       ``GET {CACHE}/contentapi/wwwIndex/rightSidebar`` →
               ``{resultCode: 1, resultMsg, data: {hotNews: [entry], morningEveningNews: ...}}``
               (the list shape ``{code: 200, data: {list: [entry]}}`` is accepted too)
article page   HTML whose ``<script id="__NEXT_DATA__">`` holds
               ``props.pageProps.detailData.contentDetail`` (an article), ``.liveDetail`` (a
               live page) or ``.specialDetail`` (a special topic); without it, the article
               markup (``index_title__*``, ``index_cententWrap__*``) is read instead
============== ==========================================================================

An entry is ``{contId, name, pubTimeLong, nodeInfo: {name}, link, authorInfo: {sname}, ...}``;
its ``pubTime`` is relative ("17小时前") and never used. ``author`` is read as a string or
an object with a ``name``; times as epoch ms (number or digits) or Beijing time strings.
Error answers look like ``{code: 99998, desc}``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from newsarchive.bodies import LIMITS, FeedError, JsonLimits, body_text, load_json, loads
from newsarchive.htmltext import inner_html
from newsarchive.timeparse import parse_beijing
from spiders.fields import NUMERIC_ID, text_value

#: A channel id: digits, or a minus and digits (RSSHub's ``channel.ts`` lists -21 体育 and
#: -24 评论; -8 上海 appears elsewhere). It only goes into the JSON body, kept as a string.
CHANNEL_ID = re.compile(r"-?[0-9]{1,12}")
_NEXT_DATA = re.compile(r"<script\b[^>]*\bid\s*=\s*[\"']__NEXT_DATA__[\"'][^>]*>(.*?)</script\s*>", re.S | re.I)
_NAMES = re.compile(r"[、,，;；/|｜\s]+")
_PAGE_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?")
_PAGE_SOURCE = re.compile(r"来源[：:]\s*([^\s|｜]+)")
#: Epoch milliseconds as digits (longer is no time: ``int()`` of thousands of digits raises).
_DIGITS = re.compile(r"[0-9]{1,19}")
#: Class-name prefixes of the article markup (CSS modules add a hash: ``index_title__B8mhI``),
#: and the pre-2022 layout's class names.
TITLE_CLASSES = ("index_title__", "news_title")
BODY_CLASSES = ("index_cententWrap__", "news_txt")
HEADER_CLASSES = ("index_left__", "news_about")
META_CLASSES = ("ant-space-item",)


class PageError(FeedError):
    """A page that is not archived as an article; ``follow`` holds the entries it lists
    that may be (the articles of a special topic)."""

    def __init__(self, reason: str, detail: str, follow: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(reason, detail)
        self.follow = list(follow)


# --- small readers -------------------------------------------------------------------


def valid_cont_id(value: Any) -> str | None:
    """The contId as digits, or None when it is missing or anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        value = str(value)
    if isinstance(value, str) and NUMERIC_ID.fullmatch(value.strip()):
        return value.strip()
    return None


def valid_channel_id(value: Any) -> str | None:
    """The channel id as a string ("25951", "-21"), or None when it is anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and CHANNEL_ID.fullmatch(value.strip()):
        return value.strip()
    return None


def when(value: Any) -> datetime | None:
    """A source time in UTC: epoch milliseconds (number or digits) or a Beijing time string."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    return parse_beijing(value)


def person(value: Any) -> str | None:
    """A name given as a string, or as an object carrying ``name`` (or ``sname``, as the
    cards' ``authorInfo`` does), or as a list of either (joined with 、)."""
    if isinstance(value, dict):
        return text_value(value.get("name")) or text_value(value.get("sname"))
    if isinstance(value, list):
        names = [n for n in (person(v) for v in value if not isinstance(v, list)) if n]
        return "、".join(dict.fromkeys(names)) or None
    return text_value(value) if isinstance(value, str) else None


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def split_names(value: Any) -> list[str] | None:
    """``responEditor`` as a list: "张三、李四" → ["张三", "李四"]; None when absent."""
    if isinstance(value, list):
        names = [n for v in value for n in (split_names(v) or [])]
        return names
    text = text_value(value)
    if text is None:
        return None
    return [n for n in _NAMES.split(text) if n]


# --- lists ---------------------------------------------------------------------------


def check_status(data: Any) -> dict[str, Any]:
    """The answer as an object, or FeedError when it carries an error code."""
    if not isinstance(data, dict):
        raise FeedError("bad_feed", f"top-level JSON is a {type(data).__name__}, not an object")
    message = next((data[k] for k in ("desc", "msg", "message", "resultMsg") if data.get(k)), "")
    if "code" in data and str(data["code"]) != "200":
        raise FeedError("api_error", f"code {data['code']!r} {message}".rstrip())
    if "resultCode" in data and str(data["resultCode"]) != "1":
        raise FeedError("api_error", f"resultCode {data['resultCode']!r} {message}".rstrip())
    return data


def _keys(data: dict[str, Any]) -> str:
    return ", ".join(sorted(map(str, data))[:12])


@dataclass
class ListPage:
    """One page of a channel list."""

    entries: list[Any]
    #: ``data.hasNext``: False ends the paging; None when the answer does not say.
    has_next: bool | None
    #: The cursor the next page sends back (``data.startTime``, epoch ms), as given; None
    #: when it is missing, empty, zero or not a number.
    start_time: int | str | None


def _cursor(value: Any) -> int | str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()) and int(value) > 0:
        return value.strip()
    return None


def _flag(value: Any) -> bool | None:
    if value in (True, 1, "true", "True", "1"):
        return True
    if value in (False, 0, "false", "False", "0"):
        return False
    return None


def parse_channel_page(body: bytes, content_type: str | bytes | None = None, limits: JsonLimits = LIMITS) -> ListPage:
    """A channel-list answer: its entries, ``hasNext`` and the ``startTime`` cursor."""
    data = check_status(load_json(body, content_type, limits))
    inner = data.get("data")
    has_next = _flag(inner.get("hasNext")) if isinstance(inner, dict) else None
    if isinstance(inner, dict) and inner.get("list") is None and has_next is False:
        # The end of a channel, said with a null list: nothing more to read, not a bad answer.
        return ListPage([], False, None)
    if not isinstance(inner, dict) or not isinstance(inner.get("list"), list):
        what = _keys(inner) if isinstance(inner, dict) else type(inner).__name__
        raise FeedError("bad_feed", f"no data.list in the channel answer (data: {what})")
    return ListPage(inner["list"], has_next, _cursor(inner.get("startTime")))


def parse_hot(
    body: bytes, keys: Sequence[str], content_type: str | bytes | None = None, limits: JsonLimits = LIMITS
) -> list[tuple[str, Any]]:
    """(list key, raw entry) of a hot-list answer, in the order of ``keys``."""
    data = check_status(load_json(body, content_type, limits))
    inner = data.get("data")
    if isinstance(inner, list):
        return [("list", raw) for raw in inner]
    if not isinstance(inner, dict):
        raise FeedError("bad_feed", f"`data` is a {type(inner).__name__}, not an object")
    if isinstance(inner.get("list"), list):
        return [("list", raw) for raw in inner["list"]]
    found = [k for k in keys if isinstance(inner.get(k), list)]
    if not found:
        raise FeedError("bad_feed", f"none of {', '.join(keys)} is a list under data (keys: {_keys(inner)})")
    return [(key, raw) for key in found for raw in inner[key]]


@dataclass
class ListEntry:
    """One list entry with its fields read."""

    raw: Any
    feed: str
    list_url: str
    #: (list order, page, position): when several lists carry a contId, the lowest wins.
    rank: tuple[int, int, int]
    cont_id_raw: Any = None
    cont_id: str | None = None
    title: str | None = None
    #: ``pubTimeLong`` (else ``publishTime``, else ``trackPublishTime``) as listed: epoch
    #: ms as a number or digits, or a Beijing time string; an out-of-range number gets the
    #: entry quarantined.
    time_raw: Any = None
    published_at: datetime | None = None
    channel: str | None = None
    link: str | None = None
    #: The card's ``author`` (string or ``{name}``), else ``authorInfo.sname`` (the 澎湃号
    #: account): the row's author when the page names none.
    author: str | None = None


def read_entry(raw: Any, feed: str, list_url: str, rank: tuple[int, int, int]) -> ListEntry | None:
    """The entry's fields; None when it is not a JSON object."""
    if not isinstance(raw, dict):
        return None
    entry = ListEntry(raw=raw, feed=feed, list_url=list_url, rank=rank)
    entry.cont_id_raw = raw.get("contId")
    entry.cont_id = valid_cont_id(entry.cont_id_raw)
    entry.title = text_value(raw.get("name"))
    entry.time_raw = next(
        (raw[k] for k in ("pubTimeLong", "publishTime", "trackPublishTime") if raw.get(k) not in (None, "")), None
    )
    entry.published_at = when(entry.time_raw)
    entry.channel = text_value(_dig(raw, "nodeInfo", "name"))
    entry.link = text_value(raw.get("link"))
    entry.author = person(raw.get("author")) or person(raw.get("authorInfo"))
    return entry


def is_offsite(link: str | None, allowed_hosts: set[str]) -> bool:
    """Whether a list entry's ``link`` leads away from the configured hosts."""
    if not link:
        return False
    parts = urlsplit(link)
    if parts.scheme not in ("", "http", "https"):
        return True
    host = parts.hostname
    return bool(host) and host not in allowed_hosts


def stop_paging(
    page: ListPage,
    entries: Sequence[ListEntry | None],
    page_num: int,
    max_pages: int,
    since: datetime | None,
    archived: Callable[[str], bool],
    cursors: Sequence[Any] = (),
) -> str | None:
    """Why paging a channel stops after this page, or None to ask for the next one.

    Channel lists come in the editors' order, not newest first (pinned entries on top, old
    ones anywhere), so no single entry's place says the rest is older: paging stops after a
    page whose *newest* entry is older than ``since``, or whose every entry is archived
    already. The site pages by the ``startTime`` it hands back (``pageNum`` does nothing),
    so a missing cursor, or one handed out before (``cursors``), ends the channel too.
    """
    if page.has_next is False:
        return "last_page"
    if page_num >= max_pages:
        return "max_pages"
    if page.start_time is None:
        return "no_cursor"
    if str(page.start_time) in {str(c) for c in cursors}:
        return "cursor_repeat"
    valid = [e for e in entries if e is not None and e.cont_id]
    if not valid:
        return "empty_page"
    dated = [e.published_at for e in valid if e.published_at is not None]
    if since is not None and dated and max(dated) < since:
        return "since"
    if all(archived(e.cont_id) for e in valid if e.cont_id is not None):
        return "archived"
    return None


# --- article pages -------------------------------------------------------------------


@dataclass
class ArticlePage:
    """What an article page says, ready for the archive's columns."""

    kind: str  # "article" (contentDetail), "live" (liveDetail), "html" (markup fallback)
    title: str | None
    content_html: str
    digest: str | None = None
    media_name: str | None = None
    author: str | None = None
    editors: list[str] | None = None
    channel: str | None = None
    tags: list[str] | None = None
    image_urls: list[str] | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None


def next_data(text: str, limits: JsonLimits = LIMITS) -> Any | None:
    """The JSON of the page's ``__NEXT_DATA__`` script; None when there is none."""
    match = _NEXT_DATA.search(text)
    if match is None:
        return None
    try:
        return loads(match.group(1), limits)
    except FeedError as exc:
        raise FeedError(exc.reason, f"__NEXT_DATA__: {exc.detail}") from exc


def parse_article(
    body: bytes,
    cont_id: str | None = None,
    base: str = "https://www.thepaper.cn/",
    content_type: str | bytes | None = None,
    limits: JsonLimits = LIMITS,
) -> ArticlePage:
    """Read an article page; PageError (with its reason) when it holds no article.

    ``base`` resolves relative image URLs; ``cont_id`` is the page's own id (left out of a
    special topic's entries). The bytes are decoded strictly in the encoding the page
    declares (``content_type``, BOM, ``<meta charset>``; UTF-8 when none): FeedError
    ``undecodable`` otherwise.
    """
    text = body_text(body, content_type, html=True)
    problem: FeedError | None = None
    try:
        data = next_data(text, limits)
    except FeedError as exc:
        data, problem = None, exc
    where = problem.detail if problem else "no __NEXT_DATA__ script"
    if data is not None:
        detail_data = _dig(data, "props", "pageProps", "detailData")
        if isinstance(detail_data, dict):
            found = _from_detail_data(detail_data, cont_id, base)
            if found is not None:
                return found
            where = f"detailData without contentDetail/liveDetail/specialDetail (keys: {_keys(detail_data)})"
        else:
            props = _dig(data, "props", "pageProps")
            keys = _keys(props) if isinstance(props, dict) else "none"
            page = data.get("page") if isinstance(data, dict) else None
            where = f"__NEXT_DATA__ of page {page!r} has no detailData (pageProps keys: {keys})"
    fallback = from_markup(text, base)
    if fallback is not None:
        return fallback
    if problem is not None:
        raise problem
    raise PageError("not_article", f"{where}, and no article markup")


def _from_detail_data(detail_data: dict[str, Any], cont_id: str | None, base: str) -> ArticlePage | None:
    content = detail_data.get("contentDetail")
    if isinstance(content, dict) and content:
        page = from_detail(content, "article", base)
        if not page.content_html:
            raise PageError("empty_text", "contentDetail has no content, summary, images or videos")
        return page
    live = detail_data.get("liveDetail")
    if isinstance(live, dict) and live:
        page = from_detail(live, "live", base)
        missing = [
            n for n, v in (("title", page.title), ("time", page.published_at), ("body", page.content_html)) if not v
        ]
        if missing:
            raise PageError("live_page", f"live page {page.title!r} has no {', '.join(missing)} to archive")
        return page
    special = detail_data.get("specialDetail")
    if isinstance(special, dict) and special:
        info = special.get("specialInfo") if isinstance(special.get("specialInfo"), dict) else special
        name = text_value(info.get("name")) or text_value(info.get("shareName"))
        follow = list(topic_entries(special, exclude=cont_id))
        raise PageError(
            "special_topic",
            f"special topic {name!r} is a collection page, not an article; it lists {len(follow)} articles",
            follow,
        )
    return None


def from_detail(detail: dict[str, Any], kind: str, base: str = "https://www.thepaper.cn/") -> ArticlePage:
    """The fields of a ``contentDetail`` (or ``liveDetail``) object."""
    body = build_body(detail)
    tag_list = detail.get("tagList")
    tags = None
    if isinstance(tag_list, list):
        tags = [t for t in (text_value(x.get("tag")) for x in tag_list if isinstance(x, dict)) if t]
    return ArticlePage(
        kind=kind,
        title=text_value(detail.get("name")) or text_value(detail.get("shareName")),
        content_html=body,
        digest=text_value(detail.get("summary")) or text_value(detail.get("desc")),
        media_name=text_value(detail.get("source")),
        author=person(detail.get("author")),
        editors=split_names(detail.get("responEditor")),
        channel=text_value(_dig(detail, "nodeInfo", "name")),
        tags=tags,
        image_urls=image_urls(body, detail.get("images"), base),
        published_at=when(detail.get("publishTime")) or when(detail.get("pubTime")),
        updated_at=when(detail.get("updateTime")),
    )


def _images(value: Any) -> Iterator[tuple[str, str | None]]:
    for image in value if isinstance(value, list) else []:
        if isinstance(image, dict):
            src = text_value(image.get("src")) or text_value(image.get("url"))
            if src:
                yield src, text_value(image.get("description"))


def _video(value: Any) -> tuple[str, str | None] | None:
    videos = value if isinstance(value, list) else [value]
    for video in videos:
        if isinstance(video, dict):
            url = text_value(video.get("url")) or text_value(video.get("hdurl"))
            if url:
                return url, text_value(video.get("coverUrl"))
    return None


def build_body(detail: dict[str, Any]) -> str:
    """``content`` as served; for pages without one (video, image set, some live pages) a
    minimal body from the summary, the images with their captions, and the video."""
    content = detail.get("content")
    if isinstance(content, str) and content.strip():
        return content
    esc = html.escape
    parts: list[str] = []
    summary = text_value(detail.get("summary")) or text_value(detail.get("desc"))
    if summary:
        parts.append(f"<p>{esc(summary)}</p>")
    for src, caption in _images(detail.get("images")):
        figcaption = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
        parts.append(f'<figure><img src="{esc(src)}"/>{figcaption}</figure>')
    video = _video(detail.get("videos"))
    if video is not None:
        poster = f' poster="{esc(video[1])}"' if video[1] else ""
        parts.append(f'<video src="{esc(video[0])}"{poster} controls></video>')
    return "".join(parts)


def image_urls(body: str, images: Any = None, base: str = "https://www.thepaper.cn/") -> list[str]:
    """Images of the article in page order: the body's ``<img>`` (also lazy ``data-src``),
    then the ``images`` list; absolute, without duplicates."""
    found: list[str] = []
    if body.strip():
        try:
            root = lxml.html.fragment_fromstring(body, create_parent="div")
        except (lxml.etree.ParserError, ValueError):
            root = None
        if root is not None:
            for img in root.iter("img"):
                src = img.get("data-src") or img.get("data-original") or img.get("src")
                if src and src.strip():
                    found.append(src.strip())
    found.extend(src for src, _ in _images(images))
    out: list[str] = []
    for src in found:
        if src.startswith("data:"):
            continue
        url = urljoin(base, src)
        if url not in out:
            out.append(url)
    return out


def topic_entries(special: Any, exclude: str | None = None) -> Iterator[dict[str, Any]]:
    """Every object with a valid ``contId`` inside a special topic (its listed articles)."""
    seen: set[str] = set() if exclude is None else {exclude}
    stack: list[Any] = [special]
    while stack:
        node = stack.pop(0)
        if isinstance(node, list):
            stack[:0] = node
        elif isinstance(node, dict):
            cont_id = valid_cont_id(node.get("contId"))
            if cont_id is not None and cont_id not in seen and text_value(node.get("name")):
                seen.add(cont_id)
                yield node
            stack[:0] = [v for v in node.values() if isinstance(v, (list, dict))]


def _has_class(el: lxml.html.HtmlElement, prefixes: Sequence[str]) -> bool:
    if not isinstance(el.tag, str):
        return False
    tokens = (el.get("class") or "").split()
    return any(t == p or (p.endswith("__") and t.startswith(p)) for t in tokens for p in prefixes)


def _first(root: lxml.html.HtmlElement, prefixes: Sequence[str]) -> lxml.html.HtmlElement | None:
    return next((el for el in root.iter() if isinstance(el.tag, str) and _has_class(el, prefixes)), None)


def from_markup(text: str, base: str = "https://www.thepaper.cn/") -> ArticlePage | None:
    """The article read from the page markup (title, body, header line), for pages whose
    ``__NEXT_DATA__`` is missing or broken; None when the markup is not there either."""
    try:
        root = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError):
        return None
    body_el = _first(root, BODY_CLASSES)
    if body_el is None:
        return None
    title_el = _first(root, TITLE_CLASSES)
    if title_el is None:
        title_el = next(iter(root.iter("h1")), None)
    title = " ".join(title_el.text_content().split()) if title_el is not None else ""
    body = inner_html(body_el)
    if not title or not body:
        return None
    # The byline items (source, time) first: the header wraps the body on some layouts.
    items = " | ".join(el.text_content() for el in root.iter() if _has_class(el, META_CLASSES))
    header = _first(root, HEADER_CLASSES)
    header_text = header.text_content() if header is not None else ""
    stamp = _PAGE_TIME.search(items) or _PAGE_TIME.search(header_text)
    source = _PAGE_SOURCE.search(items) or _PAGE_SOURCE.search(header_text)
    return ArticlePage(
        kind="html",
        title=title,
        content_html=body,
        media_name=source.group(1) if source else None,
        image_urls=image_urls(body, None, base),
        published_at=parse_beijing(" ".join(stamp.group(0).split())) if stamp else None,
    )
