"""Build ``bench/data/corpus.json`` (the generator's text vocabulary) from the real posts in
``tests/data/reference/``. Run by hand when the reference corpus changes:
``uv run python -m bench.build_corpus``. The benchmarks read only the built file (through ``bench/corpus.py``).

What is kept: the plain text of every paragraph of the finews posts (entities decoded,
tags removed, duplicates dropped) and the real headlines (finews posts, thepaper hot list).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTS = ROOT / "tests" / "data" / "reference" / "finews-posts"
HOT = ROOT / "tests" / "data" / "reference" / "thepaper" / "rightSidebar.json"
OUT = Path(__file__).resolve().parent / "data" / "corpus.json"
_BLOCK = re.compile(r"</?(?:p|br|div|center|h[1-6]|li|table|tr)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")


def _post_parts(path: Path) -> tuple[str, list[str]]:
    text = path.read_text(encoding="utf-8")
    front, _, body = text.lstrip("\n").partition("\n---\n")
    title = next((ln[len("title: ") :].strip('"') for ln in front.splitlines() if ln.startswith("title: ")), "")
    body = re.split(r"\n\n<https?://", body, maxsplit=1)[0]
    plain = html.unescape(_TAG.sub("", _BLOCK.sub("\n", body)))
    lines = [ln.strip().strip("　").removeprefix("> ") for ln in plain.splitlines()]
    return title, [ln for ln in lines if len(ln) >= 8 and "文章来源" not in ln]


def _hot_titles() -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            name = node.get("name")
            if isinstance(name, str) and len(name) >= 12:
                found.append(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(HOT.read_text(encoding="utf-8")))
    return found


def main() -> None:
    paragraphs: dict[str, None] = {}
    titles: dict[str, None] = {}
    for path in sorted(POSTS.glob("*.md")):
        title, lines = _post_parts(path)
        if len(title) >= 8:
            titles[title.rstrip("。")] = None
        paragraphs.update(dict.fromkeys(lines))
    titles.update(dict.fromkeys(_hot_titles()))
    corpus = {"paragraphs": list(paragraphs), "titles": list(titles)}
    OUT.write_text(json.dumps(corpus, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(paragraphs)} paragraphs, {len(titles)} titles")


if __name__ == "__main__":
    main()
