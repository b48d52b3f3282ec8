"""The Jekyll site around the posts: Liquid off in ``_config.yml``, a minimal layout for a
new site, and the ``old_post/`` rotation the original ran before each run.

Liquid: a body that holds ``{{`` or ``{%`` would be executed by Jekyll. A front-matter
default ``render_with_liquid: false`` for posts (and for ``old_post/``, which Jekyll
renders as pages) keeps every post byte-identical and Liquid inert. An existing
``_config.yml`` is never rewritten: the defaults are added as a marked block (appended, or
inserted at the top of an existing block-style ``defaults:`` list). When that is not
possible the caller is told, and marks the posts that hold Liquid syntax themselves.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

POSTS = "_posts"
OLD_POSTS = "old_post"
MARK_BEGIN = "# newsarchive: begin (export-jekyll: Liquid stays off in exported posts)"
MARK_END = "# newsarchive: end"
#: The defaults as list items; ``{i}`` is the indentation of the ``defaults:`` items.
_DEFAULT_ITEMS = """\
{i}- scope:
{i}    path: ""
{i}    type: posts
{i}  values:
{i}    render_with_liquid: false
{i}- scope:
{i}    path: {old}
{i}  values:
{i}    render_with_liquid: false
"""
NEW_CONFIG = f"""\
# Written by `newsarchive export-jekyll` for a new site (see docs/jekyll.md); edit freely.
title: finews
timezone: Asia/Shanghai
{MARK_BEGIN}
defaults:
{_DEFAULT_ITEMS.format(i="  ", old=OLD_POSTS)}{MARK_END}
"""
DEFAULT_LAYOUT = """\
<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{ page.title | escape }}</title>
</head>
<body>
{{ content }}
</body>
</html>
"""
POST_LAYOUT = """\
---
layout: default
---
<article>
<h1>{{ page.title | escape }}</h1>
<p><time datetime="{{ page.date | date_to_xmlschema }}">{{ page.date | date: "%Y-%m-%d %H:%M:%S" }}</time></p>
{{ content }}
</article>
"""
#: A post the exporter wrote (and may rotate): ``<date>-<infoCode or rolling id>.md``.
ARTICLE_POST = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2})-(?:(?:NW|AN)\d{18}|\d{18})\.(?:md|markdown)")
_TOP_DEFAULTS = re.compile(r"^defaults[ \t]*:(?P<rest>.*)$", re.M)
_EMPTY_REST = re.compile(r"[ \t\r]*(?:#.*)?")
_ITEM = re.compile(r"(?P<indent>[ \t]*)-(?:[ \t]|$)")


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a hidden temporary file and rename, so no reader sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass
class SiteSetup:
    """What :func:`prepare_site` did: ``liquid_off`` says whether the config turns Liquid off."""

    liquid_off: bool
    actions: list[str]
    warnings: list[str]


def merged_config(text: str) -> str | None:
    """``text`` with the newsarchive defaults added; itself if they are there; None if the
    file has a ``defaults:`` that is not a block list (it cannot be merged safely)."""
    if MARK_BEGIN in text:
        return text
    m = _TOP_DEFAULTS.search(text)
    if m is None:
        sep = "" if not text or text.endswith("\n") else "\n"
        items = _DEFAULT_ITEMS.format(i="  ", old=OLD_POSTS)
        return f"{text}{sep}{MARK_BEGIN}\ndefaults:\n{items}{MARK_END}\n"
    if not _EMPTY_REST.fullmatch(m["rest"]):  # ``defaults: []`` or another inline form
        return None
    head, rest = text[: m.end() + 1], text[m.end() + 1 :]
    if not head.endswith("\n"):
        head += "\n"
    indent = "  "  # ``defaults:`` with no value (null): our items become the list
    for line in rest.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _ITEM.match(line)
        if item is not None:
            indent = item["indent"]
        elif line[0] in " \t":  # a mapping or scalar under ``defaults:``
            return None
        break
    block = f"{MARK_BEGIN}\n{_DEFAULT_ITEMS.format(i=indent, old=OLD_POSTS)}{MARK_END}\n"
    return head + block + rest


def prepare_site(site: Path) -> SiteSetup:
    """Make ``site`` ready for posts: ``_posts/``, Liquid off, and for a new site a
    ``_config.yml`` and minimal layouts (an existing site keeps its own layouts or theme)."""
    actions: list[str] = []
    warnings: list[str] = []
    (site / POSTS).mkdir(parents=True, exist_ok=True)
    config = site / "_config.yml"
    if not config.exists():
        write_atomic(config, NEW_CONFIG.encode())
        actions.append(f"wrote {config}")
        for name, text in (("default.html", DEFAULT_LAYOUT), ("post.html", POST_LAYOUT)):
            path = site / "_layouts" / name
            if not path.exists():
                write_atomic(path, text.encode())
                actions.append(f"wrote {path}")
        return SiteSetup(True, actions, warnings)
    current = config.read_text(encoding="utf-8")
    merged = merged_config(current)
    if merged is None:
        warnings.append(
            f"{config} has a `defaults:` that is not a block list; not touched. Add "
            "`render_with_liquid: false` for posts yourself; meanwhile posts whose body holds "
            "Liquid syntax get it in their own front matter"
        )
        return SiteSetup(False, actions, warnings)
    if merged != current:
        write_atomic(config, merged.encode())
        actions.append(f"added render_with_liquid: false defaults to {config}")
    return SiteSetup(True, actions, warnings)


def rotate(site: Path, keep_days: int, today: date) -> list[Path]:
    """Move article posts dated before the last ``keep_days`` days (today included) from
    ``_posts/`` to ``old_post/``, as the original's ``mv_files`` did before each run.

    Only files named like an exported article (``<date>-<infoCode or id>.md``) move: the
    site's own posts (``2021-12-01-init.md``) and posts dated in the future stay."""
    if keep_days < 1:
        raise ValueError("keep_days must be at least 1")
    cutoff = today - timedelta(days=keep_days - 1)
    posts, old = site / POSTS, site / OLD_POSTS
    moved: list[Path] = []
    if not posts.is_dir():
        return moved
    for path in sorted(posts.iterdir()):
        m = ARTICLE_POST.fullmatch(path.name)
        if m is None or not path.is_file():
            continue
        try:
            day = date.fromisoformat(m["date"])
        except ValueError:
            continue
        if day < cutoff:
            old.mkdir(exist_ok=True)
            target = old / path.name
            os.replace(path, target)
            moved.append(target)
    return moved
