"""Test-only spiders whose parsers raise on marked input, to prove that any exception
escaping a callback is contained (``-s SPIDER_MODULES=spiders,tests.poison_spiders``).

The real finews spider, with three marks a feed server can serve: a list whose URL holds
``raise=before`` raises before its callback counted the answer, ``raise=after`` after it
(as a parser failing on the body would), and a text whose infoCode ends in ``999`` raises
while the article is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from spiders.finews import FinewsSpider
from spiders.finews_feeds import FeedRecord


class PoisonError(RuntimeError):
    """What the marked input raises: no handler anywhere expects it."""


class PoisonFinewsSpider(FinewsSpider):
    name = "finews_poison"

    def parse_list(self, response: Response) -> Iterator[Any]:
        if "raise=before" in response.url:
            raise PoisonError(f"poisoned list {response.url} (before the answer was counted)")
        yield from super().parse_list(response)

    def _read_records(self, feed: str, list_url: str, raws: list[Any]) -> Iterator[Any]:
        if "raise=after" in list_url:
            raise PoisonError(f"poisoned list {list_url} (after the answer was counted)")
        yield from super()._read_records(feed, list_url, raws)

    def article(self, rec: FeedRecord, html: str, response: Response) -> Any:
        if (rec.info_code or "").endswith("999"):
            raise PoisonError(f"poisoned text of {rec.info_code}")
        return super().article(rec, html, response)
