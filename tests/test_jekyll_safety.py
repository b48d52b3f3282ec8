"""Unsafe HTML and kramdown in exported bodies: every payload of the XSS corpus is caught
and made inert, every real article is left exactly as it was."""

from __future__ import annotations

import html
import json
import re

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.jekyll.format import parse_post
from newsarchive.jekyll.safety import (
    body_problems,
    safe_body,
    safe_label,
    safe_path_segment,
    safe_slug,
    safe_title,
    safe_url,
)
from tests.helpers import DATA, REFERENCE, ROOT

PAYLOADS: list[str] = json.loads((DATA / "xss" / "payloads.json").read_text(encoding="utf-8"))
LIQUID = [p for p in PAYLOADS if "{{" in p or "{%" in p]
ACTIVE_TAGS = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|base|meta|link|style|svg|math|form|button|input|body|"
    r"frame|frameset|applet|template|noscript|textarea|title|marquee|details|video|source)\b",
    re.I,
)
URL_ATTRS = {"href", "src", "srcset", "action", "formaction", "data", "xlink:href", "background", "poster"}


def active_content(text: str) -> list[str]:
    """What could run in a browser after kramdown: an independent check, not safety.py's."""
    found = [f"tag {m.group(1)}" for m in ACTIVE_TAGS.finditer(text)]
    try:
        root = lxml.html.fragment_fromstring(text, create_parent="div")
    except Exception:
        root = None
    for el in root.iter() if root is not None else []:
        for name, value in el.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"{name} attribute")
            url = re.sub(r"[\x00-\x20]", "", html.unescape(value or "")).lower()
            if name.lower() in URL_ATTRS and re.search(r"(^|,)(javascript|vbscript|data):", url):
                found.append(f"{name}={value!r}")
            if name.lower() == "style" and "expression" in url:
                found.append("CSS expression")
    for m in re.finditer(r"\]\s*[(:]\s*<?\s*([^\s)>]*)", text):  # kramdown links, raw text
        if re.match(r"(javascript|vbscript|data):", re.sub(r"[\x00-\x20]", "", html.unescape(m.group(1))), re.I):
            found.append(f"kramdown link {m.group(1)!r}")
    if "{:" in text:
        found.append("kramdown attribute list")
    return found


def real_bodies() -> list[str]:
    texts = json.loads((ROOT / "newsarchive" / "samples" / "finews" / "texts.json").read_text(encoding="utf-8"))
    bodies = [b for entry in texts.values() for b in entry.values()]
    for path in sorted((REFERENCE / "finews-posts").glob("*.md")):
        if "init" not in path.name:
            bodies.append(parse_post(path.read_bytes(), path.name).content_html)
    return bodies


def test_every_real_article_body_is_left_byte_for_byte():
    bodies = real_bodies()
    assert len(bodies) > 100
    for body in bodies:
        assert body_problems(body) == [], body[:200]
        assert safe_body(body)[0] is body


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_survives(payload):
    out, problems = safe_body(payload)
    assert active_content(out) == []
    assert body_problems(out) == []  # what is published passes the check itself
    if active_content(payload):
        assert problems, "an active payload went undetected"
        assert out != payload


#: Payloads the independent checker does not count as active: dangerous only in old
#: browsers (CSS url(javascript:)), with MathJax on the page, or inert in html5 parsing.
NOT_ACTIVE_HERE = {
    "<img/src=x/onerror=alert(1)>",  # html5 reads src="x/onerror=alert(1)"
    '<span style="background:url(javascript:alert(1))">x</span>',
    "<javascript:alert(1)>",
    "$$\\href{javascript:alert(1)}{x}$$",
}


def test_the_corpus_really_is_dangerous():
    """The checker is not vacuous: every other payload is active before sanitising."""
    inactive = {p for p in PAYLOADS if not active_content(p)}
    assert inactive - set(LIQUID) == NOT_ACTIVE_HERE


def test_sanitising_keeps_the_harmless_markup():
    body = (
        '<p>正文<strong>加粗</strong><a href="http://example.com/a" target="_blank">链接</a></p>'
        '<img src="https://example.com/i.png" onerror="alert(1)" alt="图">'
        '<p class="em_media">（文章来源：澎湃新闻）</p>'
    )
    out, problems = safe_body(body)
    assert problems == ["event handler 'onerror' on <img>"]
    root = lxml.html.fragment_fromstring(out, create_parent="div")
    assert root.xpath("//strong/text()") == ["加粗"]
    assert root.xpath("//a/@href") == ["http://example.com/a"]
    assert root.xpath("//img/@src") == ["https://example.com/i.png"] and not root.xpath("//img/@onerror")
    assert root.xpath("//p[@class='em_media']/text()") == ["（文章来源：澎湃新闻）"]


#: Pieces random bodies are made of: markup, kramdown syntax and what parsers disagree on.
_ATOM_TEXT = (
    '<p> </p> <table> <td> <h1> <b> <script> <!-- --> [ ]( ) {: } $$ javascript: &lt; & " < > / '
    "中文 <svg> <style> <math> <mglyph> <noscript> <xmp> <textarea>"
)
ATOMS = [
    *_ATOM_TEXT.split(" "),
    *[" ", "\n", "\r\n", '<a href="javascript:x">', "</a>", "<img src=x onerror=y>", "<body onload=x>"],
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(ATOMS), max_size=30).map("".join))
def test_whatever_the_body_the_published_one_is_inert(body):
    out, _ = safe_body(body)
    assert active_content(out) == [] and body_problems(out) == []


def test_titles_labels_and_links():
    assert safe_title("上海推进城市数字化转型 启动首席数据官制度研究和试点") == (
        "上海推进城市数字化转型 启动首席数据官制度研究和试点"
    )
    assert safe_title('他说"涨停" & C:\\d') == '他说"涨停" & C:\\d'  # YAML escaping is not this
    assert safe_title("<script>alert(1)</script>标题<b>加粗</b>") == "标题加粗"
    assert safe_title("<img src=x onerror=alert(1)>标题") == "标题"
    assert safe_title("PE<10倍 >5") == "PE＜10倍 ＞5"
    assert safe_label("澎湃新闻新闻") == "澎湃新闻新闻"
    assert safe_label("a](javascript:x)[") == "a&#93;(javascript:x)&#91;"
    assert safe_url("http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202201122245299970") == (
        "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202201122245299970"
    )
    assert safe_url("javascript:alert(1)") is None and safe_url("data:text/html,x") is None
    # what a browser reads as javascript: (case, control characters, tabs and newlines) is no link either
    for hostile in (" jav\tascript:alert(1)", "\x01javascript:alert(1)", "JaVaScript:x", "java\nscript:x", "file:///x"):
        assert safe_url(hostile) is None, hostile
    assert safe_url("http://x/a><script>alert(1)</script>") == "http://x/a%3E%3Cscript%3Ealert%281%29%3C/script%3E"
    assert safe_slug("pengpaixinwen") == "pengpaixinwen" and safe_slug("xinjingbao·beike 2") == "xinjingbao·beike 2"
    assert safe_slug("[x](javascript:alert(1))") == "xjavascriptalert1" and safe_slug("a: b") == "a b"
    assert safe_path_segment("pengpaixinwen") == "pengpaixinwen"
    assert safe_path_segment("a) [b") == "a%29%20%5Bb"
