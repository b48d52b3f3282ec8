"""One post of the original site: render it byte for byte, and read one back.

The original (``get_emnews.py``) built each post by string concatenation. The market (and
media-feed) template::

    ---
    layout: post
    title: "<title>"
    date: <YYYY-MM-DD HH:MM:SS> +0800
    categories: <slug>
    tags: <media name>新闻
    ---
    <body, "　　" removed>

    <<share link>>

    [返回<media name>新闻](<base>/category/<slug>.html)｜[返回首页](<base>/)

with no newline at the end. Rolling news (东财滚动新闻) used ``categories: emnews``, a
``> digest`` line above the body, the publisher's ``url_w`` as the link and back-links to
``<base>/emnews/``; earlier runs wrote variants (no ``+0800``, a newline before the first
``---``, the digest as the whole body, other or no back-links).

:func:`parse_post` reads any of them (and posts hand-edited since) and says which template
it recognised: the ``feed`` value the importer stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from newsarchive.ids import valid_info_code
from newsarchive.jekyll import yamltext
from newsarchive.timeparse import parse_beijing

#: Category, tag and back-link label of the rolling-news posts (no media name).
ROLLING_CATEGORY = "emnews"
ROLLING_MEDIA = "东财滚动"
ROLLING_TAGS = ROLLING_MEDIA + "新闻"
#: What the original removed from every market body.
INDENT = "　　"

#: ``feed`` values of imported rows: the template each post was recognised as.
TEMPLATES: dict[str, str] = {
    "jekyll-market": "Exactly the market/media template (the seed post's format): YAML front "
    "matter, body, share link, back-links to `<base>/category/<slug>.html`, no final newline.",
    "jekyll-market-early": "A market post that differs from that template (other back-links, "
    "no `+0800`, a final newline, edited by hand...).",
    "jekyll-rolling": "Exactly the last rolling-news template: `> digest` line, HTML body, "
    "`url_w` link, back-links to `<base>/emnews/`.",
    "jekyll-rolling-early": "An earlier rolling-news variant: the digest as the whole body, "
    "no `+0800`, a newline before the first `---`, no, relative or other back-links.",
    "jekyll-other": "A post with an infoCode, a title and a date in none of the templates "
    "above; its whole body is kept.",
}

_FRONT = re.compile(r"\A(?P<lead>\s*)---[ \t]*\r?\n(?P<front>.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(?P<body>.*)\Z", re.S)
_FRONT_LINE = re.compile(r"(?P<key>[A-Za-z_][\w-]*)[ \t]*:(?:[ \t](?P<value>.*)|)\Z")
_LINK = re.compile(r"\n\n<(?P<url>[^<>\s]*)>")
_BACKLINK = r"\[返回[^\]\n]*\]\([^)\s]*\)"
_TAIL = re.compile(rf"\n?|\n\n{_BACKLINK}(?:(?:｜|\n){_BACKLINK})*\n?")
_BASE_MARKET = re.compile(r"\[返回(?P<label>[^\]\n]*)\]\((?P<base>[^)\s]*)/category/(?P<slug>[^)\s/]*)\.html\)")
_BASE_ROLLING = re.compile(r"\[返回[^\]\n]*\]\((?P<base>[^)\s]*)/emnews/\)")
_DATE = re.compile(
    r"(?P<dt>\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?)"
    r"(?:[ \t]*(?P<tz>Z|[+-]\d{2}:?\d{2}))?"
)
_CODE_IN_LINK = re.compile(r"(?:[?&]infoCode=|[,/])(?P<code>(?:NW|AN)?\d{18})(?:\.s?html?)?(?:[?#&]|\Z)")
_CODE_IN_NAME = re.compile(r"(?:\A|[^0-9A-Za-z])(?P<code>(?:NW|AN)?\d{18})\.[A-Za-z]+\Z")


def market_post(
    *,
    title: str,
    date: str,
    categories: str,
    tags: str,
    body: str,
    link: str | None,
    label: str,
    slug_path: str,
    base_url: str,
    extra_front: str = "",
) -> str:
    """The market template, filled with already-escaped pieces (``title`` is the quoted
    YAML scalar); with the original's plain values it is exactly what the original wrote."""
    link_part = f"\n\n<{link}>" if link is not None else ""
    return (
        f"---\nlayout: post\ntitle: {title}\ndate: {date} +0800\ncategories: {categories}\n"
        f"tags: {tags}\n{extra_front}---\n{body}{link_part}\n\n"
        f"[返回{label}]({base_url}/category/{slug_path}.html)｜[返回首页]({base_url}/)"
    )


def original_market_post(title: str, date: str, slug: str, media_name: str, body: str, link: str, base_url: str) -> str:
    """What the original wrote for a market record, unescaped (its broken YAML included)."""
    tags = media_name + "新闻"
    return market_post(
        title=f'"{title}"',
        date=date,
        categories=slug,
        tags=tags,
        body=body.replace(INDENT, ""),
        link=link,
        label=tags,
        slug_path=slug,
        base_url=base_url,
    )


def original_rolling_post(title: str, date: str, digest: str, body: str, link: str, base_url: str) -> str:
    """The last rolling-news template of the original."""
    return (
        f'---\nlayout: post\ntitle: "{title}"\ndate: {date} +0800\ncategories: {ROLLING_CATEGORY}\n'
        f"tags: {ROLLING_TAGS}\n---\n> {digest}\n\n{body}\n\n<{link}>\n\n"
        f"[返回{ROLLING_TAGS}]({base_url}/{ROLLING_CATEGORY}/)｜[返回首页]({base_url}/)"
    )


@dataclass(frozen=True)
class ParsedPost:
    """What the importer takes from one post file."""

    template: str
    info_code: str
    title: str | None
    date_raw: str
    published_at: datetime | None
    content_html: str
    digest: str | None = None
    media_name: str | None = None
    media_slug: str | None = None
    share_url: str | None = None
    article_url: str | None = None


class PostError(Exception):
    """A file the importer cannot take, with a quarantine reason code."""

    def __init__(self, reason: str, detail: str, info_code: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.info_code = info_code


def parse_time(value: str) -> datetime | None:
    """A front-matter date (Beijing time unless it carries an offset) in UTC, or None."""
    m = _DATE.fullmatch(value.strip())
    if not m:
        return None
    return parse_beijing(m["dt"] + (m["tz"] or ""))


def info_code_of_link(url: str) -> str | None:
    """The infoCode a link names: ``?infoCode=NW…`` (share pages) or a numeric rolling id
    (``…/news/1350,<id>.html``, ``…/a/<id>.html``), which is the infoCode without ``NW``."""
    m = _CODE_IN_LINK.search(url)
    return _as_info_code(m["code"]) if m else None


def info_code_of_name(name: str) -> str | None:
    """The infoCode in a post's file name (``2022-01-12-NW….md``, ``2021-12-08-<id>.md``)."""
    m = _CODE_IN_NAME.search(name)
    return _as_info_code(m["code"]) if m else None


def _as_info_code(code: str) -> str | None:
    return valid_info_code(code if code[:2] in ("NW", "AN") else "NW" + code)


def _split_link(body: str) -> tuple[str, str | None, str]:
    """(content, link, tail): the last ``\\n\\n<url>`` followed only by back-links."""
    for m in reversed(list(_LINK.finditer(body))):
        tail = body[m.end() :]
        if _TAIL.fullmatch(tail):
            return body[: m.start()], m["url"], tail
    return body, None, ""


def parse_post(data: bytes, name: str) -> ParsedPost:
    """Read one post file (its bytes, exactly); raise :class:`PostError` if it is no article."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PostError("bad_post", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    m = _FRONT.match(text)
    if m is None:
        raise PostError("bad_post", "no Jekyll front matter (--- … --- at the start of the file)")
    front: dict[str, str] = {}
    for line in m["front"].splitlines():
        fm = _FRONT_LINE.fullmatch(line.rstrip("\r"))
        if fm and fm["key"] not in front:
            front[fm["key"]] = fm["value"] or ""
    body = m["body"]
    content, link, _tail = _split_link(body)

    from_link = info_code_of_link(link) if link else None
    from_name = info_code_of_name(name)
    if from_link and from_name and from_link != from_name:
        raise PostError(
            "invalid_info_code",
            f"the file name says {from_name} but the link says {from_link}",
            info_code=from_link,
        )
    code = from_link or from_name
    if code is None:
        category = yamltext.read_scalar(front.get("categories", ""))
        raise PostError(
            "not_an_article",
            f"no infoCode in the file name or a link: not a news post (category {category!r})",
        )

    title_raw = front.get("title", "").strip(" \t")
    title = yamltext.read_scalar(title_raw) if "title" in front else None
    date_raw = front.get("date", "").strip(" \t")
    published = parse_time(date_raw)
    categories = yamltext.read_scalar(front.get("categories", ""))
    tags = yamltext.read_scalar(front.get("tags", ""))

    if categories == ROLLING_CATEGORY or tags == ROLLING_TAGS:
        return _rolling(text, m["lead"], content, link, body, title_raw, title, date_raw, published, code)
    if "categories" in front and "tags" in front and link is not None:
        return _market(text, content, link, body, title_raw, title, date_raw, published, categories, tags, code)
    return ParsedPost(
        template="jekyll-other",
        info_code=code,
        title=title,
        date_raw=date_raw,
        published_at=published,
        content_html=body,
        share_url=link if link and "infoCode=" in link else None,
        article_url=link if link and "infoCode=" not in link else None,
    )


def _unquoted(title_raw: str) -> str | None:
    """The text between the quotes of a ``"…"`` title, as the original pasted it."""
    if len(title_raw) >= 2 and title_raw[0] == title_raw[-1] == '"':
        return title_raw[1:-1]
    return None


def _market(
    text: str,
    content: str,
    link: str,
    body: str,
    title_raw: str,
    title: str | None,
    date_raw: str,
    published: datetime | None,
    categories: str,
    tags: str,
    code: str,
) -> ParsedPost:
    media = tags[: -len("新闻")] if tags.endswith("新闻") and len(tags) > len("新闻") else tags
    template = "jekyll-market-early"
    base = _BASE_MARKET.search(body[len(content) :])
    inner = _unquoted(title_raw)
    if base is not None and inner is not None and date_raw.endswith(" +0800"):
        rendered = original_market_post(
            inner, date_raw[: -len(" +0800")], categories, media, content, link, base["base"]
        )
        if rendered == text:
            template = "jekyll-market"
    return ParsedPost(
        template=template,
        info_code=code,
        title=title,
        date_raw=date_raw,
        published_at=published,
        content_html=content,
        media_name=media or None,
        media_slug=categories or None,
        share_url=link or None,
    )


def _rolling(
    text: str,
    lead: str,
    content: str,
    link: str | None,
    body: str,
    title_raw: str,
    title: str | None,
    date_raw: str,
    published: datetime | None,
    code: str,
) -> ParsedPost:
    template = "jekyll-rolling-early"
    if content.startswith("> "):
        digest, _, html = content[2:].partition("\n\n")
        base = _BASE_ROLLING.search(body[len(content) :])
        inner = _unquoted(title_raw)
        if base is not None and inner is not None and link is not None and date_raw.endswith("+0800"):
            date = date_raw[: -len("+0800")].rstrip(" ")
            if original_rolling_post(inner, date, digest, html, link, base["base"]) == text:
                template = "jekyll-rolling"
        if not html.strip():
            html = digest
    else:
        digest = html = content[1:] if content.startswith("\n") else content
    return ParsedPost(
        template=template,
        info_code=code,
        title=title,
        date_raw=date_raw,
        published_at=published,
        content_html=html,
        digest=digest or None,
        article_url=link or None,
    )
