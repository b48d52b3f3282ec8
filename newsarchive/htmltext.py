"""Article HTML to plain text, and the ``em_media`` credit that names the medium."""

from __future__ import annotations

import re

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


def _fragment(html: str) -> lxml.html.HtmlElement | None:
    if not html or not html.strip():
        return None
    try:
        return lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return None


def _is_credit(el: lxml.html.HtmlElement) -> bool:
    return el.tag == "p" and "em_media" in (el.get("class") or "").split()


def split_credit(html: str | None) -> tuple[str | None, str | None]:
    """Return (credit text, media name) of the body's ``<p class="em_media">`` credit."""
    root = _fragment(html or "")
    if root is None:
        return None, None
    for el in root.iter("p"):
        if _is_credit(el):
            text = el.text_content().strip()
            m = _CREDIT_NAME.search(text)
            return (text or None), (m["name"].strip() if m else None)
    return None, None


def html_to_text(html: str | None) -> str:
    """Plain text: entities decoded, tags, comments and full-width indents gone,
    the ``em_media`` credit removed, one paragraph per line."""
    root = _fragment(html or "")
    if root is None:
        return ""
    parts: list[str] = []
    skipping: lxml.html.HtmlElement | None = None
    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else None
        if event == "start":
            if skipping is not None:
                continue
            if tag is None:
                continue  # comments and processing instructions carry no text
            if tag in _SKIP or _is_credit(el):
                skipping = el
                continue
            if tag in _BLOCK:
                parts.append("\n")
            if el.text:
                parts.append(_WS_NEWLINE.sub(" ", el.text))
        else:
            if skipping is not None and el is not skipping:
                continue
            skipping = None
            if tag in _BLOCK:
                parts.append("\n")
            if el.tail and el is not root:
                parts.append(_WS_NEWLINE.sub(" ", el.tail))
    lines = (line.strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)
