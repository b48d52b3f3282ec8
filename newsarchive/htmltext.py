"""Article HTML to plain text, and the ``em_media`` credit that names the medium.

One parse serves both (:func:`text_and_credit`, what the normalise pipeline calls), with
lxml's plain HTML parser: ``lxml.html``'s parser calls back into Python for every element
it creates (to pick an ``HtmlElement`` class) and made the two separate parses cost
three times as much (see docs/benchmarks.md, "Profile").
"""

from __future__ import annotations

import re
from html import escape

import lxml.etree
import lxml.html

#: Elements that start a new line of text.
_BLOCK = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 tr table center blockquote section article pre hr "  # noqa: SIM905
    "header footer figure figcaption dd dt dl".split()
)
_SKIP = frozenset(("script", "style", "noscript", "template"))
_WS_NEWLINE = re.compile(r"[\r\n\t\f\v]+")
_CREDIT_NAME = re.compile(r"(?:文章)?来源[：:]\s*(?P<name>[^（）()]+?)\s*[）)]?\s*$")
#: Same options as ``lxml.html``'s parser, without its per-element Python class lookup.
_PARSER = lxml.etree.HTMLParser()
#: ``text_content()`` of ``lxml.html`` elements, for plain elements.
_STRING = lxml.etree.XPath("string()")
_FULL_DOCUMENT = re.compile(r"^\s*<(?:html|!doctype)", re.I)


def _fragment(html: str) -> lxml.etree._Element | None:
    """The parsed fragment: an element whose children (and text) are the fragment's,
    exactly as ``lxml.html.fragment_fromstring(html, create_parent="div")`` builds it."""
    if not html or not html.strip():
        return None
    if _FULL_DOCUMENT.match(html):  # rare: keep lxml.html's own handling, quirks included
        try:
            return lxml.html.fragment_fromstring(html, create_parent="div")
        except (lxml.etree.ParserError, ValueError):
            return None
    try:
        doc = lxml.etree.fromstring(f"<html><body>{html}</body></html>", _PARSER)
    except (lxml.etree.ParserError, ValueError):
        return None
    if doc is None:
        return None
    bodies = [e for e in doc if e.tag == "body"]
    if len(bodies) != 1:  # as fragment_fromstring would (it asserts)
        raise AssertionError(f"too many bodies: {bodies!r}")
    body = bodies[0]
    if body.text is not None and not body.text.strip():
        body.text = None  # fragment_fromstring keeps leading text only when not blank
    return body


#: A plain paragraph that is the body's credit: ``<p>（文章来源：证券时报网）</p>``.
_PLAIN_CREDIT = re.compile(r"[（(]\s*文章来源[：:][^（）()]*[）)]")
#: A plain paragraph that is the editor's line: ``<p>（责任编辑：DF528）</p>``.
_PLAIN_EDITOR = re.compile(r"[（(]\s*责任编辑[：:][^（）()]*[）)]")
#: Classes of East Money page furniture inside ``div#ContentBody``: the editor's line, the ad
#: slots, share bars.
_NOISE_CLASSES = frozenset(("res-edit", "ad_context3", "share", "bdsharebuttonbox", "social-share"))
_OPENERS = ("（", "(")


def _plain(el: lxml.etree._Element, pattern: re.Pattern[str]) -> bool:
    """A ``<p>`` whose whole text is one parenthesised line matching ``pattern`` (cheap first:
    only a paragraph whose text opens with a parenthesis is read whole)."""
    head = (el.text or "").lstrip(" \t\r\n\u3000\xa0")
    if not head.startswith(_OPENERS):
        return False
    return pattern.fullmatch(str(_STRING(el)).strip(" \t\r\n\u3000\xa0")) is not None


def _is_credit(el: lxml.etree._Element) -> bool:
    """The media credit: ``<p class="em_media">`` (or ``div``), or a plain ``<p>（文章来源：…）</p>``."""
    tag = el.tag
    if tag != "p" and tag != "div":
        return False
    cls = el.get("class")
    if cls and "em_media" in cls.split():
        return True
    return tag == "p" and not cls and _plain(el, _PLAIN_CREDIT)


def _is_noise(el: lxml.etree._Element) -> bool:
    """East Money page furniture that is no part of the article's text: the editor's line
    (``p.res-edit``, ``div.res-edit`` or a plain ``<p>（责任编辑：…）</p>``), the ad slots
    (``div.ad_context3``), share bars (``.share``…, ``<p>分享到：…</p>``) and the live quote a
    stock link carries (``<span id="quote_1.600519">1689.00 +1.20%</span>``, next to the
    linked name, which stays)."""
    tag = el.tag
    if tag == "span":
        return (el.get("id") or "").startswith("quote_")
    cls = el.get("class")
    if cls and not _NOISE_CLASSES.isdisjoint(cls.split()):
        return True
    if tag == "p":
        if _plain(el, _PLAIN_EDITOR):
            return True
        return (el.text or "").lstrip().startswith("分享到")
    return False


def _credit_of(el: lxml.etree._Element | None) -> tuple[str | None, str | None]:
    if el is None:
        return None, None
    text = str(_STRING(el)).strip()
    m = _CREDIT_NAME.search(text)
    return (text or None), (m["name"].strip() if m else None)


def _credit(root: lxml.etree._Element) -> tuple[str | None, str | None]:
    """The first credit in document order."""
    return _credit_of(next((el for el in root.iter("p", "div") if _is_credit(el)), None))


def _walk(root: lxml.etree._Element) -> tuple[str, lxml.etree._Element | None, bool]:
    """(plain text, the first credit element met, whether a skipped subtree came before it).

    The walk skips script-like elements without looking inside; a credit inside one that
    comes first is found only by :func:`_credit`, so the third value says when to ask it.
    """
    parts: list[str] = []
    append = parts.append
    sub = _WS_NEWLINE.sub
    block, skip = _BLOCK, _SKIP
    skipping: lxml.etree._Element | None = None
    credit: lxml.etree._Element | None = None
    unseen = False
    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        if skipping is not None:
            if el is not skipping:
                continue
            skipping = None  # the end of the skipped element: its tail is text again
            if el.tag in block:
                append("\n")
            if el.tail and el is not root:
                append(sub(" ", el.tail))
            continue
        tag = el.tag
        if event == "start":
            if tag.__class__ is not str:
                continue  # comments and processing instructions carry no text
            if tag in skip:
                skipping = el
                unseen = unseen or credit is None
                continue
            if (tag == "p" or tag == "div") and _is_credit(el):
                skipping = el
                credit = credit if credit is not None else el
                continue
            if (tag == "p" or tag == "span" or tag == "div") and _is_noise(el):
                skipping = el
                continue
            if tag in block:
                append("\n")
            if el.text:
                append(sub(" ", el.text))
        else:
            if tag.__class__ is str and tag in block:
                append("\n")
            if el.tail and el is not root:
                append(sub(" ", el.tail))
    lines = (line.strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line), credit, unseen


def _text(root: lxml.etree._Element) -> str:
    return _walk(root)[0]


def text_and_credit(html: str | None) -> tuple[str, str | None, str | None]:
    """(plain text, credit text, credited media name) of a body, from one parse and one walk."""
    root = _fragment(html or "")
    if root is None:
        return "", None, None
    text, credit, unseen = _walk(root)
    return (text, *(_credit(root) if unseen else _credit_of(credit)))


def split_credit(html: str | None) -> tuple[str | None, str | None]:
    """Return (credit text, media name) of the body's ``<p class="em_media">`` credit."""
    root = _fragment(html or "")
    return (None, None) if root is None else _credit(root)


def html_to_text(html: str | None) -> str:
    """Plain text: entities decoded, tags, comments and full-width indents gone,
    the ``em_media`` credit and East Money's noise (:func:`_is_noise`) removed, one
    paragraph per line."""
    root = _fragment(html or "")
    return "" if root is None else _text(root)


def inner_html(el: lxml.etree._Element) -> str:
    """The markup inside ``el`` (its text escaped, its children serialised), stripped: what a
    page parser keeps of an article's body element."""
    parts = [escape(el.text, quote=False)] if el.text else []
    parts += [lxml.html.tostring(child, encoding="unicode") for child in el]
    return "".join(parts).strip()
