"""The thepaper.cn article pages, as pure functions (used by the spider, its tests and ``reparse``).

An article page is HTML whose ``<script id="__NEXT_DATA__">`` holds
``props.pageProps.detailData.contentDetail`` (an article), ``.liveDetail`` (a live page) or
``.specialDetail`` (a special topic, see ``spiders.thepaper_topics``); without it, the
article markup (``index_title__*``, ``index_cententWrap__*``) is read instead.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import lxml.etree
import lxml.html

from newsarchive.bodies import LIMITS, FeedError, JsonLimits, body_text, loads
from newsarchive.htmltext import inner_html
from newsarchive.timeparse import parse_beijing
from spiders.fields import text_value
from spiders.thepaper_fields import dig, keys_of, person, split_names, when
from spiders.thepaper_topics import topic_entries, topic_name

_NEXT_DATA = re.compile(r"<script\b[^>]*\bid\s*=\s*[\"']__NEXT_DATA__[\"'][^>]*>(.*?)</script\s*>", re.S | re.I)
_PAGE_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?")
_PAGE_SOURCE = re.compile(r"来源[：:]\s*([^\s|｜]+)")
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
        detail_data = dig(data, "props", "pageProps", "detailData")
        if isinstance(detail_data, dict):
            found = _from_detail_data(detail_data, cont_id, base)
            if found is not None:
                return found
            where = f"detailData without contentDetail/liveDetail/specialDetail (keys: {keys_of(detail_data)})"
        else:
            props = dig(data, "props", "pageProps")
            keys = keys_of(props) if isinstance(props, dict) else "none"
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
        name = topic_name(special)
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
        channel=text_value(dig(detail, "nodeInfo", "name")),
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
