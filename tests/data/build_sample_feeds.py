"""Build the bundled sample feeds (newsarchive/samples/finews/) from the real posts in
tests/data/reference/finews-posts/, which the original script wrote from the live feeds.

Run once by hand when the corpus changes: ``uv run python tests/data/build_sample_feeds.py``.
Market-template posts become market-feed records (and media-feed twins); rolling-news
(emnews) posts become rolling records; each body becomes a text-endpoint answer. Three
records are broken on purpose, as real feeds were: an empty record (the original wrote it
as ``-202205262391921712.md``), an invalid infoCode and a record without a time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).parent
POSTS = HERE / "reference" / "finews-posts"
OUT = HERE.parent.parent / "newsarchive" / "samples" / "finews"
MARKET_OF = {  # which market list carries which post (marketType 37/38/39)
    "NW202201122245299970": "37",
    "NW202201072239307540": "37",
    "NW202202112274017262": "37",
    "NW202204212352227421": "38",
    "NW202204212352230938": "38",
    "NW202205262391921712": "39",
    "NW202205302396671291": "39",
    "NW202205312398034850": "39",
}
FRONT = re.compile(r"\A\n?---\n(?P<front>.*?)\n---\n(?P<body>.*)\Z", re.S)


def read_post(path: Path) -> dict[str, str]:
    text = path.read_bytes().decode("utf-8")
    m = FRONT.match(text)
    assert m, path
    front = dict(line.split(": ", 1) for line in m["front"].split("\n") if ": " in line)
    title = front.get("title", "")
    if title.startswith('"') and title.endswith('"'):
        title = title[1:-1]
    date = front.get("date", "").strip().removesuffix(" +0800").strip()
    body = m["body"]
    link = re.search(r"\n\n<(?P<url>[^>\n]*)>(?:\n|$)", body)
    assert link, path
    content = body[: link.start()]
    return {
        "title": title,
        "date": date,
        "category": front.get("categories", ""),
        "tags": front.get("tags", ""),
        "content": content,
        "url": link["url"],
        "file": path.name,
    }


def main() -> None:
    posts = [read_post(p) for p in sorted(POSTS.glob("*.md")) if "init" not in p.name]
    market: dict[str, list[dict[str, object]]] = {"37": [], "38": [], "39": []}
    media: list[dict[str, object]] = []
    rolling: list[dict[str, object]] = []
    texts: dict[str, dict[str, str]] = {}
    seen_rolling: set[str] = set()
    for post in posts:
        if post["category"] != "emnews":  # market template: NW<code> in the file name
            code = re.search(r"(NW\d{18})", post["file"])[1]  # type: ignore[index]
            media_name = post["tags"].removesuffix("新闻")
            market[MARKET_OF[code]].append(
                {"infoCode": code, "medianame": media_name, "datetime": post["date"], "title": post["title"]}
            )
            if media_name in ("澎湃新闻", "财联社"):  # the media feed lists some of them too
                media.append(
                    {
                        "infocode": code,
                        "from": media_name,
                        "showtime": post["date"],
                        "title": post["title"],
                        "simtitle": post["title"],
                        "simdigest": re.sub(r"<[^>]+>", "", post["content"])[:60],
                    }
                )
            texts.setdefault(code, {})["text"] = post["content"]
            continue
        num = re.search(r"(\d{18})\.md$", post["file"])
        if not num or num[1] in seen_rolling:
            continue
        if post["file"].startswith("-"):
            continue  # the empty record; added below
        seen_rolling.add(num[1])
        code = f"NW{num[1]}"
        content = post["content"].lstrip("\n")
        digest, html = content, ""
        if content.startswith("> "):
            digest, _, html = content[2:].partition("\n\n")
        rolling.append(
            {
                "infoCode": code,
                "id": num[1],
                "title": post["title"],
                "digest": f"【{post['title']}】{digest.strip()}",
                "showtime": post["date"],
                "url_w": post["url"],
            }
        )
        entry = texts.setdefault(code, {})
        if html.strip():
            entry["content"] = html  # rolling bodies came from `content` (stock links injected)
        elif "text" not in entry:
            entry["text"] = f"<p>{digest.strip()}</p>"
    rolling.append(
        {
            "infoCode": "NW202205262391921712",
            "id": "202205262391921712",
            "title": "",
            "digest": "",
            "showtime": "",
            "url_w": "",
        }
    )
    rolling.append(
        {
            "infoCode": "NW2022011222452999",
            "id": "2022011222452999",
            "title": "无效编码的记录",
            "digest": "【无效编码的记录】infoCode 只有16位数字",
            "showtime": "2022-01-12 10:00:00",
            "url_w": "http://finance.eastmoney.com/a/2022011222452999.html",
        }
    )
    rolling.append(
        {
            "infoCode": "NW202201122245200001",
            "id": "202201122245200001",
            "title": "没有时间的记录",
            "digest": "【没有时间的记录】showtime 为空",
            "showtime": "",
            "url_w": "http://finance.eastmoney.com/a/202201122245200001.html",
        }
    )
    OUT.mkdir(parents=True, exist_ok=True)

    def dump(name: str, data: object) -> None:
        (OUT / name).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    dump("rolling.json", {"records": rolling})
    dump("media.json", {"nodeList": media})
    for mt, records in market.items():
        dump(f"market-{mt}.json", {"record": records})
    dump("texts.json", texts)
    print(
        f"rolling {len(rolling)}, media {len(media)}, market "
        f"{sum(map(len, market.values()))}, texts {len(texts)} -> {OUT}"
    )


if __name__ == "__main__":
    main()
