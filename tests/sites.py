"""Sample sites that test modules share, built on the look-alikes of newsarchive/samples."""

from __future__ import annotations

from newsarchive.samples.feedserver import FeedServer
from newsarchive.samples.thepaper_site import ThepaperSite, entry, page_html, text_detail

#: The thepaper channel the small sites list (a real channel id: 中国政库).
CH_A = "25950"


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
