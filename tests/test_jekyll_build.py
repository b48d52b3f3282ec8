"""A real ``jekyll build`` over an export of hostile feeds: every post renders with its
title and body, Liquid does not run, and no XSS payload survives in the HTML.

The feeds are served on 127.0.0.1 and crawled by the finews spider like any other: bodies
from the XSS corpus (tests/data/xss/payloads.json), titles and media names that break
YAML or hold markup, Liquid in bodies and titles, and the seed article that must stay
byte-identical. Jekyll comes from the Debian package ``jekyll`` (``.ci/run`` installs it):
without it this test fails on CI and is skipped elsewhere.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
import yaml

from newsarchive.jekyll.format import parse_post
from newsarchive.samples.feedserver import FeedServer, install_finews, sample_dir
from tests.helpers import DATA, FAST, ROOT, SEED_POST, clean_env, run_crawl

PAYLOADS: list[str] = json.loads((DATA / "xss" / "payloads.json").read_text(encoding="utf-8"))
SEED = "NW202201122245299970"
#: Titles the original would have pasted into YAML as they are, and what a page must show.
TITLES = {
    '他说"涨停"了': '他说"涨停"了',
    "C:\\new\\table": "C:\\new\\table",
    "<script>alert(1)</script>标题": "标题",
    "<img src=x onerror=alert(1)>图片": "图片",
    "{{ 7 | times: 6 }} {% if true %}液体{% endif %}": "{{ 7 | times: 6 }} {% if true %}液体{% endif %}",
    "换行\u2028分隔": "换行\u2028分隔",
    "---": "---",
    "标题 # 注释: 冒号": "标题 # 注释: 冒号",
    "[链接](javascript:alert(1))": "[链接](javascript:alert(1))",
}
MEDIA = ["<img src=x onerror=alert(1)>", "a: b", "true", "[x](javascript:alert(1))", "新闻 {: onclick=x}"]
URL_ATTRS = {"href", "src", "srcset", "action", "formaction", "data", "xlink:href", "background", "poster"}
ACTIVE_TAGS = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|base|link|style|svg|math|form|button|input|frame|"
    r"frameset|applet|template|noscript|textarea|marquee|details|video|source)\b",
    re.I,
)


def code(n: int) -> str:
    return f"NW20220113{n:010d}"


def hostile_feeds(folder: Path) -> dict[str, str]:
    """A copy of the sample feeds whose market list 37 also carries the hostile records;
    returns {infoCode: what it tests}."""
    shutil.copytree(sample_dir(), folder)
    texts = json.loads((folder / "texts.json").read_text(encoding="utf-8"))
    market = json.loads((folder / "market-37.json").read_text(encoding="utf-8"))
    records, what = market["record"], {SEED: "seed"}
    n = 0
    for payload in PAYLOADS:
        n += 1
        records.append(
            {
                "infoCode": code(n),
                "medianame": "澎湃新闻",
                "datetime": "2022-01-13 10:00:00",
                "title": f"载荷{n}",
            }
        )
        texts[code(n)] = {"text": payload}
        what[code(n)] = "body"
    for title in TITLES:
        n += 1
        records.append({"infoCode": code(n), "medianame": "财联社", "datetime": "2022-01-13 11:00:00", "title": title})
        texts[code(n)] = {"text": f"<p>正文{n}</p>"}
        what[code(n)] = "title"
    for media in MEDIA:
        n += 1
        records.append(
            {"infoCode": code(n), "medianame": media, "datetime": "2022-01-13 12:00:00", "title": f"媒体{n}"}
        )
        texts[code(n)] = {"text": f"<p>正文{n}</p>"}
        what[code(n)] = "media"
    (folder / "market-37.json").write_text(json.dumps({"record": records}, ensure_ascii=False), encoding="utf-8")
    (folder / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    return what


def jekyll() -> str:
    found = shutil.which("jekyll")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("jekyll is not installed: CI must install the Debian package `jekyll` (.ci/run)")
    pytest.skip("jekyll is not installed (Debian package `jekyll`)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    binary = jekyll()
    tmp = tmp_path_factory.mktemp("hostile")
    what = hostile_feeds(tmp / "feeds")
    with FeedServer() as server:
        settings = install_finews(server, tmp / "feeds")
        result = run_crawl("finews", {**FAST, **settings, "ARCHIVE_URI": tmp / "archive"})
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "newsarchive", "export-jekyll", "--archive", tmp / "archive", "--out", out],
        capture_output=True,
        text=True,
        timeout=180,
        env=clean_env(),
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    args = [
        "build",
        "--safe",
        "--quiet",
        "--disable-disk-cache",
        "--source",
        out,
        "--destination",
        tmp / "_site",
    ]
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    build = subprocess.run([binary, *args], capture_output=True, text=True, timeout=300, env=env)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return out, tmp / "_site", what, summary


def page_of(built: Path, info_code: str) -> str:
    (page,) = built.rglob(f"{info_code}.html")
    return page.read_text(encoding="utf-8")


def active(page: str) -> list[str]:
    found = [m.group(0) for m in ACTIVE_TAGS.finditer(page)]
    doc = lxml.html.document_fromstring(page)
    found += [f"meta http-equiv={v}" for v in doc.xpath("//meta/@http-equiv")]
    for el in doc.iter():
        for name, value in el.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"{name}=")
            url = re.sub(r"[\x00-\x20]", "", html.unescape(value or "")).lower()
            if name.lower() in URL_ATTRS and re.search(r"(^|,)(javascript|vbscript|data):", url):
                found.append(f"{name}={value}")
    return found


def test_every_exported_post_is_valid_yaml_and_a_built_page(site):
    out, built, what, summary = site
    posts = sorted((out / "_posts").iterdir())
    assert len(posts) == summary["posts"] == 44 + len(what) - 1
    for post in posts:
        meta = yaml.safe_load(post.read_text(encoding="utf-8").split("---\n", 2)[1])
        assert meta["layout"] == "post" and isinstance(meta["title"], str)
        assert isinstance(meta["categories"], str) and isinstance(meta["tags"], str)
        page_of(built, post.stem.split("-", 3)[3])
    assert summary["sanitised"] >= len(PAYLOADS) - 5 and summary["yaml_escaped"] >= 3


def test_the_seed_post_is_byte_identical_and_renders(site):
    out, built, _, _ = site
    assert (out / "_posts" / f"2022-01-12-{SEED}.md").read_bytes() == SEED_POST.read_bytes()
    doc = lxml.html.document_fromstring(page_of(built, SEED))
    assert doc.xpath("string(//h1)") == "上海推进城市数字化转型 启动首席数据官制度研究和试点"
    body = doc.text_content()
    assert "1月12日，上海市政府新闻办举行市政府新闻发布会" in body and "（文章来源：澎湃新闻）" in body
    links = doc.xpath("//a/@href")
    assert f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={SEED}" in links
    assert "//finews.withounder.com/category/pengpaixinwen.html" in links and "//finews.withounder.com/" in links


def test_no_payload_executes(site):
    _, built, what, _ = site
    pages = list(built.rglob("*.html"))
    assert len(pages) >= len(what)
    for page in pages:
        assert active(page.read_text(encoding="utf-8")) == [], page


def test_liquid_does_not_run(site):
    _, built, _, _ = site
    liquid_body = code(1 + PAYLOADS.index("<p>{{ 7 | times: 6 }}</p>"))
    doc = lxml.html.document_fromstring(page_of(built, liquid_body))
    assert "{{ 7 | times: 6 }}" in doc.text_content() and "42" not in doc.text_content()
    include = code(1 + PAYLOADS.index("<p>{% include ../../../../etc/passwd %}</p>"))
    assert (
        "{% include ../../../../etc/passwd %}" in lxml.html.document_fromstring(page_of(built, include)).text_content()
    )


def test_titles_show_as_text(site):
    _, built, what, _ = site
    for info_code, title in zip([c for c, w in what.items() if w == "title"], TITLES.values(), strict=True):
        doc = lxml.html.document_fromstring(page_of(built, info_code))
        assert doc.xpath("string(//h1)") == title
        assert doc.xpath("string(//title)") == title


def test_hostile_media_names_give_plain_back_links(site):
    out, built, what, _ = site
    for info_code in [c for c, w in what.items() if w == "media"]:
        (post,) = (out / "_posts").glob(f"*-{info_code}.md")
        doc = lxml.html.document_fromstring(page_of(built, info_code))
        back = [a for a in doc.xpath("//a") if a.text_content().startswith("返回") and a.text_content() != "返回首页"]
        assert len(back) == 1 and back[0].text_content().endswith("新闻")
        assert back[0].get("href").startswith("//finews.withounder.com/category/"), post.read_text()


def test_exported_posts_read_back_as_they_were_meant(site):
    out, _, what, _ = site
    for info_code, title in zip([c for c, w in what.items() if w == "title"], TITLES.values(), strict=True):
        (post,) = (out / "_posts").glob(f"*-{info_code}.md")
        parsed = parse_post(post.read_bytes(), post.name)
        assert parsed.title == title and parsed.template == "jekyll-market" and parsed.info_code == info_code
