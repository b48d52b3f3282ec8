"""What in an exported post could run in a reader's browser, and how it is made harmless.

A post's body is HTML that Jekyll passes through kramdown, so two languages can carry a
payload: HTML (``<script>``, ``onerror=``, ``javascript:`` URLs) and kramdown itself
(``[x](javascript:…)`` links, ``{: onclick=…}`` attribute lists, ``$$`` math). The
original site published whatever the feeds sent.

Detection comes first and is strict, so that every ordinary article stays byte for byte
what the original wrote: :func:`body_problems` parses the body with lxml and lists what is
not plainly harmless (elements outside a list of formatting tags, event handlers, URLs
with a scheme other than http/https/mailto, scriptable CSS, odd comments, kramdown
syntax that makes links or attributes), and also parses it the way a browser does
(html5ever, through nh3) to catch markup the two parsers read differently. Only a body
with a problem is sanitised, by nh3 (ammonia) with an allow-list, after which the
characters kramdown would still read as syntax (``[ ] { } $``) are written as character
references in text, which renders the same and means nothing to kramdown.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterable

import lxml.etree
import lxml.html
import nh3

#: Formatting elements news bodies use; anything else makes a body "unsafe".
SAFE_TAGS = frozenset(
    "a abbr b bdi bdo big blockquote br caption center cite code col colgroup dd del dfn div "  # noqa: SIM905
    "dl dt em figcaption figure font h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q "
    "s samp small span strike strong sub sup table tbody td tfoot th thead time tr tt u ul var wbr".split()
)
#: URL schemes a link or image may use; URLs without a scheme (relative, ``//host``) are fine.
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
#: Attributes holding URLs (checked for their scheme).
URL_ATTRS = frozenset(
    "href src srcset background poster action formaction cite longdesc lowsrc dynsrc data "  # noqa: SIM905
    "xlink:href usemap ping codebase classid manifest profile icon".split()
)
#: Attributes that are never harmless here (kramdown's ``markdown`` re-enables its syntax).
BAD_ATTRS = frozenset({"markdown", "srcdoc", "formaction", "action", "xmlns", "is"})
_ATTR_NAME = re.compile(r"[a-z_][-a-z0-9_.]*")
_BAD_CSS = re.compile(r"expression|javascript:|vbscript:|url\s*\(|behavio(?:u)?r|-moz-binding|@import|\\", re.I)
_PLAIN_COMMENT = re.compile(r"[\w\s.:/-]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
#: kramdown syntax that can make links, attributes or script: links and reference
#: definitions (their target is checked), attribute lists and extensions ``{:``, math ``$$``.
_MD_TARGET = re.compile(r"\]\s*[(:]\s*<?\s*([^\s)>\"']*)")
_MD_SYNTAX = re.compile(r"\{:|\$\$")
#: Tag names as they appear in the raw text: parsers drop some tags in a fragment (``<body
#: onload=…>``, ``<html>``) that a browser applies to the page itself.
_RAW_TAG = re.compile(r"<\s*/?\s*([A-Za-z][^\s/>]*)")

#: What a sanitised body may keep (nh3 / ammonia allow-list).
SANITISE_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "id", "title", "lang", "dir", "align", "width", "height", "style"},
    "a": {"href", "target", "name"},
    "img": {"src", "alt", "border"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "font": {"color", "size", "face"},
    "q": {"cite"},
    "blockquote": {"cite"},
    "time": {"datetime"},
}
#: CSS properties a sanitised body keeps (the rest of a ``style`` is dropped).
SAFE_CSS = frozenset(
    "display height width max-width min-width overflow text-align text-indent vertical-align "  # noqa: SIM905
    "color background-color border border-color border-style border-width padding margin "
    "padding-top padding-bottom padding-left padding-right margin-top margin-bottom "
    "margin-left margin-right font-size font-weight font-style font-family line-height "
    "text-decoration white-space".split()
)
#: Text characters kramdown reads as syntax, and how a sanitised body writes them instead.
_MD_CHARS = {"[": "&#91;", "]": "&#93;", "{": "&#123;", "}": "&#125;", "$": "&#36;"}
_MD_CHARS_RE = re.compile("[][{}$]")
#: A tag in nh3's output (attribute values are always double-quoted there).
_TAG = re.compile(r"<[^>\"]*(?:\"[^\"]*\"[^>\"]*)*>")
#: Every attribute, for the parser-differential check (nh3 keeps attributes by prefix).
_ALL_ATTR_PREFIXES = set("abcdefghijklmnopqrstuvwxyz_")


def _fragment(html: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return None


def unsafe_url(value: str) -> bool:
    """Whether a URL would do something other than link to a page (``javascript:``, ``data:``...).

    Browsers drop whitespace and control characters inside a scheme and decode entities
    first, so ``jav&#x09;ascript:`` counts as ``javascript:``."""
    url = _URL_JUNK.sub("", htmllib.unescape(value))
    m = _SCHEME.match(url)
    return m is not None and m.group(1).lower() not in SAFE_SCHEMES


def _attr_problems(tag: str, name: str, value: str) -> Iterable[str]:
    low = name.lower()
    if low.startswith("on"):
        yield f"event handler {name!r} on <{tag}>"
    elif low in BAD_ATTRS or not _ATTR_NAME.fullmatch(low):
        yield f"attribute {name!r} on <{tag}>"
    elif low == "style" and _BAD_CSS.search(value):
        yield f"scriptable CSS in <{tag} style>"
    elif low in URL_ATTRS:
        urls = [u.strip().split(" ")[0] for u in value.split(",")] if low == "srcset" else [value]
        if any(unsafe_url(u) for u in urls):
            yield f"unsafe URL in <{tag} {name}>: {value[:60]!r}"


def _markdown_problems(text: str) -> Iterable[str]:
    for m in _MD_TARGET.finditer(text):
        if unsafe_url(m.group(1)):
            yield f"kramdown link to {m.group(1)[:60]!r}"
    m2 = _MD_SYNTAX.search(text)
    if m2:
        yield f"kramdown syntax {m2.group(0)!r}"


def _signature(root: lxml.html.HtmlElement) -> list[tuple[str, ...]]:
    """The tree as a list of (start|end|text|comment) events, text normalised as a browser
    would read it (CR LF and CR become LF), attribute order ignored."""
    out: list[tuple[str, ...]] = []

    def text(value: str | None) -> None:
        if value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
            if out and out[-1][0] == "text":
                out[-1] = ("text", out[-1][1] + value)
            else:
                out.append(("text", value))

    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        if el is root:
            if event == "start":
                text(el.text)
            continue
        if event == "start":
            if isinstance(el.tag, str):
                attrs = sorted((k, (v or "").replace("\r\n", "\n")) for k, v in el.attrib.items())
                out.append(("start", el.tag, *(f"{k}={v}" for k, v in attrs)))
                text(el.text)
            else:
                out.append(("comment", str(el.text or "")))
        else:
            if isinstance(el.tag, str):
                out.append(("end", el.tag))
            text(el.tail)
    return out


def _browser_view(html: str) -> str:
    """The body as html5ever (a browser's parser) reads it, keeping every attribute and
    comment but nothing outside :data:`SAFE_TAGS` and no URL with an unsafe scheme."""
    return nh3.clean(
        html,
        tags=set(SAFE_TAGS),
        attributes={},
        generic_attribute_prefixes=_ALL_ATTR_PREFIXES,
        strip_comments=False,
        link_rel=None,
        url_schemes=set(SAFE_SCHEMES),
    )


def body_problems(html: str) -> list[str]:
    """Why ``html`` is not safe to publish as it is; empty when it is."""
    problems: list[str] = []
    if _CONTROL.search(html):
        problems.append("control characters")
    root = _fragment(html)
    if root is None:
        return [*problems, "HTML that does not parse"]
    for el in root.iter():
        if el is root:
            continue
        if not isinstance(el.tag, str):
            if el.tag is lxml.etree.Comment and _PLAIN_COMMENT.fullmatch(el.text or ""):
                continue
            problems.append("comment or processing instruction that is not plain text")
            continue
        if el.tag not in SAFE_TAGS:
            problems.append(f"<{el.tag}> element")
        for name, value in el.attrib.items():
            problems.extend(_attr_problems(el.tag, name, value or ""))
    for name in {m.group(1).lower() for m in _RAW_TAG.finditer(html)} - SAFE_TAGS:
        problems.append(f"<{name}> tag")
    problems.extend(_markdown_problems(html))
    if not problems:
        browser = _fragment(_browser_view(html))
        if browser is None or _signature(browser) != _signature(root):
            problems.append("markup a browser reads differently")
    return problems


def _escape_markdown_text(html: str) -> str:
    """Write ``[ ] { } $`` in the text (not inside tags) as character references."""
    out: list[str] = []
    pos = 0
    for m in _TAG.finditer(html):
        out.append(_MD_CHARS_RE.sub(lambda c: _MD_CHARS[c.group(0)], html[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_MD_CHARS_RE.sub(lambda c: _MD_CHARS[c.group(0)], html[pos:]))
    return "".join(out)


def sanitise_body(html: str) -> str:
    """An unsafe body made harmless: nh3 with the allow-list, then kramdown syntax escaped."""
    clean = nh3.clean(
        html,
        tags=set(SAFE_TAGS),
        attributes={k: set(v) for k, v in SANITISE_ATTRIBUTES.items()},
        generic_attribute_prefixes={"data-"},
        url_schemes=set(SAFE_SCHEMES),
        strip_comments=True,
        link_rel="noopener noreferrer",
        filter_style_properties=set(SAFE_CSS),
        attribute_filter=_drop_scriptable_css,
    )
    return _escape_markdown_text(clean)


def _drop_scriptable_css(tag: str, name: str, value: str) -> str | None:
    return None if name == "style" and _BAD_CSS.search(value) else value


def as_text(html: str) -> str:
    """The body's text only, every markup character escaped: the last resort."""
    return _escape_markdown_text(nh3.clean(html, tags=set(), strip_comments=True))


def safe_body(html: str) -> tuple[str, list[str]]:
    """(body to publish, problems found); the body is ``html`` itself when there are none.

    A sanitised body is checked again: html5 can build trees (misnested headings, say) that
    re-parse differently once serialised, so sanitising repeats until the check passes,
    and a body that never settles is published as escaped text."""
    problems = body_problems(html)
    if not problems:
        return html, problems
    out = html
    for _ in range(3):
        out = sanitise_body(out)
        if not body_problems(out):
            return out, problems
    return as_text(html), problems


def safe_title(title: str) -> str:
    """A title that cannot become markup in a layout that prints it unescaped.

    Titles are plain text; one holding ``<`` or ``>`` is reduced to its text by nh3
    (tags dropped, ``<script>``/``<style>`` with their content) and any angle bracket left
    is written as its full-width form (＜ ＞)."""
    if "<" not in title and ">" not in title:
        return title
    text = htmllib.unescape(nh3.clean(title, tags=set(), strip_comments=True))
    return text.replace("<", "＜").replace(">", "＞")


#: Characters that make a media name unsafe as kramdown link text.
_LABEL_CHARS = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "[": "&#91;",
    "]": "&#93;",
    "{": "&#123;",
    "}": "&#125;",
    "\\": "&#92;",
    "`": "&#96;",
    "|": "&#124;",
    "*": "&#42;",
    "_": "&#95;",
    "$": "&#36;",
    "\n": " ",
    "\r": " ",
}
_LABEL_RE = re.compile("[" + re.escape("".join(_LABEL_CHARS)) + "]")


def safe_label(text: str) -> str:
    """Link text for the back-links: kramdown and HTML syntax written as character references."""
    return _LABEL_RE.sub(lambda m: _LABEL_CHARS[m.group(0)], text)


#: Characters that would end or break a ``<url>`` or ``(url)`` in a post.
_URL_BREAKERS = re.compile(r"[\x00-\x20\x7f<>()\[\]{}\"'`\\|^]")


def safe_url(url: str) -> str | None:
    """``url`` fit to be a link in a post: http(s) or protocol-relative, with characters that
    would break out of ``<…>`` or ``(…)`` percent-encoded; None when it cannot be a link."""
    candidate = url.strip()
    m = _SCHEME.match(candidate)
    if not candidate or (m is None and not candidate.startswith("//")):
        return None
    if m is not None and m.group(1).lower() not in {"http", "https"}:
        return None
    return _URL_BREAKERS.sub(lambda c: "".join(f"%{b:02X}" for b in c.group(0).encode()), candidate)


#: ASCII punctuation that means something in a URL, YAML or kramdown, and control characters.
_SLUG_UNSAFE = re.compile(r"[\x00-\x1f\x7f:/?#\[\]@!$&'()*+,;=<>\"{}|\\^`%]+")


def safe_slug(slug: str) -> str:
    """A category Jekyll can put in a URL: itself for pinyin slugs; otherwise without the
    punctuation above (a category like ``[x](javascript:…)`` stops ``jekyll build``)."""
    if not _SLUG_UNSAFE.search(slug):
        return slug
    return " ".join(_SLUG_UNSAFE.sub("", slug).split())


def safe_path_segment(text: str) -> str:
    """A category slug as a URL path segment: itself when harmless, else percent-encoded."""
    if re.fullmatch(r"[\w.~-]+", text):
        return text
    from urllib.parse import quote

    return quote(text, safe="")
