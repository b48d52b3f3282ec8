"""Build the bundled East Money samples (newsarchive/samples/eastmoney/) from the finews ones.

The articles are the real ones the original system archived (newsarchive/samples/finews/),
so an article listed here has the same infoCode, title and time as in the infoCode feeds,
as on the live site. Entries follow the documented list shapes (docs/eastmoney.md):
column 345 carries the media articles (with ``mediaName``), column 350 and the 7x24 fast
news (column 102) the rolling news, three of them in both. One fast-news entry has a code
that is not 18 digits, as a broken record would; each column carries a 财富号 (CFH) post.

Run once by hand when the finews samples change:
``uv run python tests/data/build_eastmoney_samples.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FINEWS = ROOT / "newsarchive" / "samples" / "finews"
OUT = ROOT / "newsarchive" / "samples" / "eastmoney"
LISTS = (("rolling", "records"), ("media", "nodeList"), ("market-37", "record"), ("market-38", "record"))
LISTS += (("market-39", "record"),)
CREDIT = re.compile(r"文章来源[：:]\s*([^（）()<]+?)\s*[）)]")


def main() -> None:
    texts = json.loads((FINEWS / "texts.json").read_text(encoding="utf-8"))
    records: dict[str, dict[str, str]] = {}
    for name, key in LISTS:
        for raw in json.loads((FINEWS / f"{name}.json").read_text(encoding="utf-8"))[key]:
            code = raw.get("infoCode") or raw.get("infocode")
            if code not in texts:
                continue
            rec = records.setdefault(code, {"feed": name})
            rec["title"] = rec.get("title") or raw.get("title") or raw.get("simtitle")
            rec["time"] = rec.get("time") or raw.get("showtime") or raw.get("datetime")
            rec["summary"] = rec.get("summary") or raw.get("simdigest") or ""
            rec["media"] = rec.get("media") or raw.get("medianame") or raw.get("from") or ""
            if name != "rolling":
                rec["feed"] = "media"
    articles = {}
    for code, rec in records.items():
        body = texts[code].get("text") or texts[code].get("content")
        credit = CREDIT.search(body)
        media = rec["media"] or (credit.group(1) if credit else "")
        articles[code[2:]] = {"title": rec["title"], "time": rec["time"], "media": media, "body": body}
    newest = sorted(records, key=lambda c: records[c]["time"], reverse=True)

    def entry(code: str) -> dict[str, str]:
        rec = records[code]
        return {
            "code": code[2:],
            "showTime": rec["time"],
            "title": rec["title"],
            "mediaName": rec["media"],
            "summary": rec["summary"],
            "image": "",
            "url": f"http://finance.eastmoney.com/news/1351,{code[2:]}.html",  # the old-style link the API sends
            "uniqueUrl": f"http://finance.eastmoney.com/a/{code[2:]}.html",
            "np_dst": "CMS",
        }

    def cfh(code: str, show_time: str, title: str) -> dict[str, str]:
        """A 财富号 post, as the column lists carry them (the spider skips it, counted)."""
        return {
            "code": code,
            "showTime": show_time,
            "title": title,
            "mediaName": "东方财富网",
            "summary": "",
            "image": "",
            "url": f"http://caifuhao.eastmoney.com/news/{code}",
            "uniqueUrl": "",
            "np_dst": "CFH",
        }

    media = [c for c in newest if records[c]["feed"] == "media"]
    rolling = [c for c in newest if records[c]["feed"] == "rolling"]
    column_350, fast = rolling[: len(rolling) // 2 + 3], rolling[len(rolling) // 2 :]
    fast_entries = []
    for n, code in enumerate(fast):
        rec = records[code]
        sort = re.sub(r"\D", "", rec["time"]) + f"{n:03d}"
        fast_entries.append(
            {
                "code": code[2:],
                "title": rec["title"],
                "summary": rec["summary"] or rec["title"],
                "showTime": rec["time"],
                "realSort": sort,
                "stockList": [],
            }
        )
    fast_entries.insert(
        2,
        {
            "code": "2021120822067",
            "title": "编码不完整的快讯",
            "summary": "编码不完整的快讯",
            "showTime": "2021-12-08 12:00:00",
            "realSort": "20211208120000999",
            "stockList": [],
        },
    )
    OUT.mkdir(parents=True, exist_ok=True)
    columns = {"345": [entry(c) for c in media], "350": [entry(c) for c in column_350]}
    columns["345"].insert(1, cfh("202201212257100001", "2022-01-21 20:30:00", "1月21日东方财富财经晚报（附新闻联播）"))
    columns["350"].insert(1, cfh("202112082206799001", "2021-12-08 11:00:00", "财富号：今日市场复盘"))
    for name, data in (("columns", columns), ("fast", {"102": fast_entries}), ("articles", articles)):
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        (OUT / f"{name}.json").write_text(text, encoding="utf-8")
    print(f"{len(articles)} articles, columns {[len(v) for v in columns.values()]}, fast {len(fast_entries)}")


if __name__ == "__main__":
    main()
