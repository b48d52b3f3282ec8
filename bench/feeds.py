"""The feed responses of a universe of generated articles, rendered once as bytes.

Lists hold at most 100 records, as the real feeds do, so ``n`` articles need many list URLs:

* *fresh* pages of 100 new articles each, cycling through the families ``market-37``,
  ``market-38``, ``market-39`` (``record``, with ``medianame``) and ``rolling``
  (``records``, no media name: the body's credit names it);
* after every four fresh pages, one ``media`` page (``nodeList``) listing 25 articles of
  each of them again, with ``from`` and ``simdigest``: the spider must merge by infoCode.

Articles ``0..n-1`` are covered by the pages that list nothing beyond ``n``
(``covers``), so one server serves every run size up to its universe.
Three "hosts" (ports) as in production: rolling/media lists, market lists, texts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from bench.generator import Story

PAGE = 100
MEDIA_EVERY = 4
MEDIA_TAKE = PAGE // MEDIA_EVERY
FRESH_FAMILIES = ("market-37", "market-38", "market-39", "rolling")
TEXT_PATH = "/NewsData/GetNewsText.do"
#: Hosts, by role; the server listens on one port per role.
HOSTS = ("lists", "market", "text")


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def market_record(s: Story) -> dict[str, str]:
    return {"infoCode": s.info_code, "medianame": s.media, "datetime": s.time, "title": s.title}


def rolling_record(s: Story) -> dict[str, str]:
    return {
        "infoCode": s.info_code,
        "id": s.info_code[2:],
        "title": s.title,
        "digest": f"【{s.title}】{s.digest}",
        "showtime": s.time,
        "url_w": f"http://finance.eastmoney.com/a/{s.info_code[2:]}.html",
    }


def media_record(s: Story) -> dict[str, str]:
    return {
        "infocode": s.info_code,
        "from": s.media,
        "showtime": s.time,
        "title": s.title,
        "simtitle": s.title,
        "simdigest": s.digest[:60],
    }


@dataclass
class Page:
    host: str
    path: str
    body: bytes
    covers: int  # highest article index listed + 1


@dataclass
class Universe:
    """Every response the server holds: list pages and text answers, by host."""

    pages: list[Page] = field(default_factory=list)
    texts: dict[str, bytes] = field(default_factory=dict)  # path?query -> body
    articles: int = 0

    def routes(self) -> dict[str, dict[str, bytes]]:
        out: dict[str, dict[str, bytes]] = {host: {} for host in HOSTS}
        for page in self.pages:
            out[page.host][page.path] = page.body
        out["text"].update(self.texts)
        return out


def text_path(info_code: str) -> str:
    return f"{TEXT_PATH}?id={info_code}"


def build(stories: Iterable[Story]) -> Universe:
    """Render the lists and texts of ``stories`` (a multiple of 100 articles)."""
    uni = Universe()
    page: list[Story] = []
    group: list[list[Story]] = []
    fresh = media = 0
    for story in stories:
        uni.texts[text_path(story.info_code)] = _json({"text": story.html})
        uni.articles += 1
        page.append(story)
        if len(page) < PAGE:
            continue
        family = FRESH_FAMILIES[fresh % len(FRESH_FAMILIES)]
        covers = page[-1].index + 1
        if family == "rolling":
            path = f"/web/webapi?type=102&count={PAGE}&newsid={fresh}"
            uni.pages.append(Page("lists", path, _json({"records": [rolling_record(s) for s in page]}), covers))
        else:
            market = family.split("-")[1]
            path = f"/information/newmarket/web/webapi?marketType={market}&count={PAGE}&pageindex={fresh}"
            uni.pages.append(Page("market", path, _json({"record": [market_record(s) for s in page]}), covers))
        fresh += 1
        group.append(page)
        page = []
        if len(group) == MEDIA_EVERY:
            twins = [s for g in group for s in g[::MEDIA_EVERY]]
            path = f"/web/webapi?type=45&count={PAGE}&newsid={media}"
            uni.pages.append(Page("lists", path, _json({"nodeList": [media_record(s) for s in twins]}), covers))
            media += 1
            group = []
    if page:
        raise ValueError(f"a universe holds a multiple of {PAGE} articles, not {uni.articles}")
    return uni
