"""Sample sites that test modules share, built on the look-alikes of newsarchive/samples,
and what the crawl tests of every source do with them (crawl twice, build a crawler)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsarchive.samples.eastmoney_site import EastmoneySite, column_entry, fast_entry
from newsarchive.samples.eastmoney_site import page_html as em_page_html
from newsarchive.samples.feedserver import FeedServer, Received
from newsarchive.samples.thepaper_site import SIDEBAR, ThepaperSite, entry, ms, page_html, text_detail
from tests.helpers import FAST, CrawlResult, run_crawl, sql_rows

#: The thepaper channel the small sites list (a real channel id: 中国政库).
CH_A = "25950"
#: A second channel the full thepaper sample lists (an entry of both, and one of the hot list).
CH_B = "25951"


def small_site(server: FeedServer, pages: int = 1) -> ThepaperSite:
    site = ThepaperSite(server)
    for n in range(pages):
        cid = str(200001 + n)
        published = f"2022-01-{12 - n:02d} 10:00:00"
        site.add_page(cid, page_html(cid, detail_data={"contentDetail": text_detail(cid, f"文章{cid}", published)}))
    site.add_channel(
        CH_A,
        *[[entry(str(200001 + n), f"文章{200001 + n}", f"2022-01-{12 - n:02d} 10:00:00")] for n in range(pages)],
    )
    return site


# --- thepaper ---------------------------------------------------------------------------

#: The real homepage saved with its Next.js data (not an article page).
HOMEPAGE = Path(__file__).resolve().parent / "data" / "reference" / "thepaper" / "homepage-next-data.html"
IMG_A = "https://imgpai.thepaper.cn/newpai/image/a.jpg"
IMG_B = "https://imgpai.thepaper.cn/newpai/image/b.jpg"
VIDEO = "https://cloudvideo.thepaper.cn/video/x/sd/1.mp4"
COVER = "https://imgpai.thepaper.cn/newpai/image/cover.png"
OFFSITE = "https://www.peopleapp.com/column/300532-500007"


def thepaper_sample(server: FeedServer) -> ThepaperSite:
    """The full thepaper look-alike: two channels, the real hot list, and one page of each kind
    the spider must archive or quarantine (the crawl tests name them by contId)."""
    site = ThepaperSite(server)
    site.hot_ids = site.add_hot_pages()  # type: ignore[attr-defined]
    text = (
        "<p>1月12日，上海市政府新闻办举行新闻发布会。</p>"
        f'<div class="contentImgBox"><img src="{IMG_A}"/></div>'
        '<p class="image_desc">图1说明</p>'
        f'<p><img data-src="{IMG_B}" src="data:image/gif;base64,R0lGOD"/></p><p>第二段。</p>'
    )
    pages: dict[str, bytes] = {
        "100001": page_html(
            "一篇完整的文章",
            detail_data={
                "contentDetail": text_detail(
                    "100001",
                    "一篇完整的文章",
                    "2022-01-12 15:35:00",
                    content=text,
                    responEditor="李四、王五",
                    tagList=[{"tag": "上海"}, {"tag": "数据"}],
                    images=[{"src": IMG_A, "width": 600, "description": "图1说明"}],
                )
            },
        ),
        "100002": page_html(
            "一段视频",
            detail_data={
                "contentDetail": text_detail(
                    "100002",
                    "一段视频",
                    "2022-01-12 14:00:00",
                    content="",
                    summary="视频摘要",
                    videos={"url": VIDEO, "hdurl": VIDEO.replace("/sd/", "/hd/"), "coverUrl": COVER},
                    contType=1,
                )
            },
        ),
        "100004": page_html(
            "一组图片",
            detail_data={
                "contentDetail": text_detail(
                    "100004",
                    "一组图片",
                    "2022-01-12 12:00:00",
                    content="",
                    summary="组图摘要",
                    images=[
                        {"src": "https://imgpai.thepaper.cn/newpai/image/1.jpg", "description": "第一张"},
                        {"src": "https://imgpai.thepaper.cn/newpai/image/2.jpg", "description": "第二张 <b>"},
                    ],
                )
            },
        ),
        "100005": page_html(
            "只有标题和时间",
            detail_data={
                "contentDetail": {
                    "contId": 100005,
                    "name": "只有标题和时间",
                    "pubTime": "2022-01-11 08:30",
                    "content": "<p>正文</p>",
                }
            },
        ),
        "100006": page_html(
            "网页版标题",
            body="<p>只有网页标记的正文。</p>",
            byline=("来源：澎湃新闻", "2022-01-11 10:05"),
        ),
        "100007": page_html("空页"),
        "100008": page_html(
            "直播：发布会",
            detail_data={
                "liveDetail": {
                    "contId": 100008,
                    "name": "直播：发布会",
                    "summary": "直播摘要",
                    "publishTime": ms("2022-01-11 09:00"),
                    "nodeInfo": {"name": "直播"},
                }
            },
        ),
        "100009": page_html("直播：无内容", detail_data={"liveDetail": {"contId": 100009, "name": "直播：无内容"}}),
        "100010": page_html(
            "专题：数字化转型",
            detail_data={
                "specialDetail": {
                    "specialInfo": {"contId": 100010, "name": "专题：数字化转型", "desc": "专题介绍"},
                    "childNodeList": [
                        {
                            "name": "第一部分",
                            "contList": [
                                {
                                    "contId": "100011",
                                    "name": "专题里的文章",
                                    "pubTimeLong": ms("2022-01-10 10:00"),
                                },
                                {"contId": "100001", "name": "一篇完整的文章"},
                            ],
                        }
                    ],
                }
            },
        ),
        "100011": page_html(
            "专题里的文章",
            detail_data={"contentDetail": text_detail("100011", "专题里的文章", "2022-01-10 10:00:00")},
        ),
        "100013": HOMEPAGE.read_bytes(),
        "100014": page_html(
            "空文章",
            detail_data={"contentDetail": {"contId": 100014, "name": "空文章", "publishTime": ms("2022-01-11 06:00")}},
        ),
        "100015": page_html("坏数据", next_data='{"props": {"pageProps": '),
    }
    for cid, body in pages.items():
        site.add_page(cid, body)
    page1 = [
        entry("100001", "一篇完整的文章", "2022-01-12 15:35:00"),
        entry("100002", "一段视频", "2022-01-12 14:00:00"),
        entry("100003", "  澎湃早晚报｜1月12日\n", "2022-01-12 13:00:00", link=OFFSITE),
        entry("../1", "坏编号", "2022-01-12 12:30:00"),
        entry(None, "早晚报（栏目标题，没有 contId）"),
        "不是对象的条目",
        entry("100004", "一组图片", "2022-01-12 12:00:00"),
    ]
    page2 = [
        entry("100005", "只有标题和时间", "2022-01-11 08:30:00", nodeInfo={"name": "时事"}),
        entry("100006", "网页版标题", "2022-01-11 10:05:00"),
        entry("100007", "空页", "2022-01-11 09:50:00"),
        entry("100008", "直播：发布会", "2022-01-11 09:00:00"),
        entry("100009", "直播：无内容", "2022-01-11 08:00:00"),
        entry("100010", "专题：数字化转型", "2022-01-11 07:30:00"),
        entry("100012", "已删除的文章", "2022-01-11 07:00:00"),
        entry("100013", "首页", "2022-01-11 06:30:00"),
        entry("100014", "空文章", "2022-01-11 06:00:00"),
        entry("100015", "坏数据", "2022-01-11 05:30:00"),
    ]
    hot = json.loads(SIDEBAR.read_bytes())["data"]["hotNews"][0]
    site.add_channel(CH_A, page1, page2)
    site.add_channel(CH_B, [entry("100001", "一篇完整的文章", "2022-01-12 15:35:00"), hot])
    return site


def by_id(archive: Path) -> dict[str, dict[str, Any]]:
    """The archived thepaper rows by contId."""
    return {r["source_id"]: r for r in sql_rows(archive)}


# --- eastmoney --------------------------------------------------------------------------

QUOTED = (
    '<p>　　<span id="stock_0.002752"><a href="http://quote.eastmoney.com/unify/r/0.002752" class="keytip" '
    'data-code="0,002752">昇兴股份</a></span><span id="quote_0.002752">5.20 +1.2%</span>(002752)1月21日晚间公告，'
    "预计2021年净利同比预增。</p>"
    '<p class="em_media">（文章来源：澎湃新闻）</p>'
)

C = "2022012122570999"  # + two digits: the codes of eastmoney_sample

D = "2022020812345678"  # + two digits: the codes of the small East Money sites

FETCHED = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)  # 2026-01-01 09:00 in Beijing


def eastmoney_sample(server: FeedServer) -> EastmoneySite:
    """The full East Money look-alike: column 345 and fast news 102, each with the odd entries
    and pages the crawl tests expect archived or quarantined."""
    site = EastmoneySite(server)
    site.add_article(f"{C}36", "昇兴股份：2021年净利同比预增1117%-1233%", "2022-01-21 18:05:40", "澎湃新闻", QUOTED)
    site.add_article(f"{C}37", "今天的消息", None, "证券时报", "<p>没有时间的页面。</p>")
    site.add_article(f"{C}38", "页面时间优先", "2022-01-11 10:05:00", "中国证券报", "<p>相对时间。</p>")
    site.add_page(f"{C}39", b"gone", status=404)
    site.add_page(f"{C}40", b"<html><head><title>Eastmoney</title></head><body><h1>Home</h1></body></html>")
    site.add_article(f"{C}41", "快讯只有页面来源", None, "上海证券报", "<p>快讯正文。</p>")
    site.add_article(f"{C}42", "第二页的快讯", "2022-01-20 09:00:00", None, "<p>第二页。</p>")
    site.add_page(f"{C}43", em_page_html("空正文", "2022-01-20 08:00:00", None, "", editor=""))
    site.columns["345"] = [
        column_entry(f"{C}36", "昇兴股份：2021年净利同比预增1117%-1233%", "2022-01-21 18:05:40", "澎湃新闻"),
        column_entry(f"{C}37", "今天的消息", "今天 00:00", "证券时报"),
        column_entry("123", "坏编码", "2022-01-21 10:00:00"),
        "不是对象的条目",
        column_entry(f"{C}38", "页面时间优先", "5分钟前", "中国证券报"),
        column_entry(f"{C}39", "已删除", "2022-01-21 08:00:00"),
        column_entry(f"{C}40", "不是文章", "2022-01-21 07:00:00"),
    ]
    site.fast["102"] = [
        fast_entry(f"{C}36", "昇兴股份：2021年净利同比预增1117%-1233%", "2022-01-21 18:05:40", "900"),
        fast_entry(f"{C}41", "快讯只有页面来源", "3分钟前", "800"),
        fast_entry(f"{C}37", "今天的消息", "今天 00:00", "700"),
        fast_entry(f"{C}40", "不是文章", "2022-01-21 07:00:00", "600"),
        fast_entry(f"{C}39", "已删除", "2022-01-21 06:00:00", "500"),
        fast_entry(f"{C}42", "第二页的快讯", "2022-01-20 09:00:00", "400"),
        fast_entry(f"{C}43", "空正文", "2022-01-20 08:00:00", "300"),
    ]
    return site


def pages(seen: list[Received]) -> Counter[str]:
    """How often each article page (``/a/...``) was asked for."""
    return Counter(r.path for r in seen if r.path.startswith("/a/"))


def dated_site(server: FeedServer, days: int = 5, media: str = "澎湃新闻") -> EastmoneySite:
    """One column, one entry a day from 2022-01-12 back, a page each (media alternating)."""
    site = EastmoneySite(server)
    entries = []
    for n in range(days):
        code, when = f"2022011222452999{70 + n}", f"2022-01-{12 - n:02d} 10:00:00"
        who = media if n % 2 == 0 else "财联社"
        site.add_article(code, f"文章{n}", when, who, f"<p>正文{n}</p>")
        entries.append(column_entry(code, f"文章{n}", when, who))
    site.columns["345"] = entries
    return site


def crawl_dated(tmp_path: Path, site: EastmoneySite, **extra: str) -> CrawlResult:
    """An eastmoney crawl of ``site`` one entry a list page, so the bounds are seen paging."""
    settings = {**FAST, **site.settings(), "EASTMONEY_PAGE_SIZE": "1", "EASTMONEY_MAX_PAGES": "10"}
    return run_crawl("eastmoney", {**settings, **extra, "ARCHIVE_URI": tmp_path})


def quarantined(archive: Path) -> list[dict[str, Any]]:
    """The quarantine table's rows."""
    return sql_rows(archive, kind="quarantine")


def crawl(tmp_path: Path, site: EastmoneySite, **extra: str) -> CrawlResult:
    """An eastmoney crawl of ``site`` five entries a list page."""
    settings = {**FAST, **site.settings(), "EASTMONEY_PAGE_SIZE": "5", **extra, "ARCHIVE_URI": tmp_path}
    return run_crawl("eastmoney", settings)


def fast_site(server: FeedServer, n: int) -> EastmoneySite:
    """Fast news only: ``n`` entries, a minute apart, each with its page."""
    site = EastmoneySite(server)
    entries = []
    for i in range(n):
        code, when = f"{D}{20 + i}", f"2022-02-08 {10 - i // 6:02d}:{59 - i:02d}:00"
        site.add_article(code, f"快讯{i}", when, "财联社", f"<p>快讯{i}。</p>")
        entries.append(fast_entry(code, f"快讯{i}", when, f"164428{i:02d}00{90 - i:02d}"))
    site.fast["102"] = entries
    return site


@dataclass
class TwoRuns:
    """Two crawls of one site into one archive, and what the site received during each."""

    archive: Path
    first: CrawlResult
    second: CrawlResult
    seen_first: list[Received]
    seen_second: list[Received]
    started: datetime
    ended: datetime


def crawl_twice(spider: str, server: FeedServer, settings: dict[str, Any]) -> TwoRuns:
    """Crawl with ``settings`` twice into its ARCHIVE_URI: the second run is incremental."""
    start, started = len(server.received), datetime.now(UTC)
    first = run_crawl(spider, settings)
    middle, ended = len(server.received), datetime.now(UTC)
    second = run_crawl(spider, settings)
    received = server.received
    archive = Path(settings["ARCHIVE_URI"])
    return TwoRuns(archive, first, second, received[start:middle], received[middle:], started, ended)


def project_crawler(spider: type, tmp_path: Path, **overrides: Any) -> Any:
    """A never-started crawler of ``spider`` with the project's settings, ``overrides`` on the
    command line's priority (what ``from_crawler`` sees in a real run)."""
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    from newsarchive import settings as project

    settings = Settings()
    settings.setmodule(project, priority="project")
    settings.setdict({"ARCHIVE_URI": str(tmp_path), **overrides}, priority="cmdline")
    return Crawler(spider, settings)
