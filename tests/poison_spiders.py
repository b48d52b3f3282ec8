"""Test-only spiders whose parsers raise on marked input, to prove that any exception
escaping a callback is contained (``-s SPIDER_MODULES=spiders,tests.poison_spiders``).

The real finews spider, with three marks a feed server can serve: a list whose URL holds
``raise=before`` raises before its callback counted the answer, ``raise=after`` after it
(as a parser failing on the body would), a text whose infoCode ends in ``999`` raises
while the article is built, and one ending in ``998`` raises in the errback of its failed
request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from spiders.finews import FinewsSpider
from spiders.finews_feeds import FeedRecord
from spiders.jekyll import JekyllSpider


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

    def fetch_failed(self, failure: Any, source_id: str | None, stage: str = "text") -> Any:
        if (source_id or "").endswith("998"):
            raise PoisonError(f"poisoned errback of {source_id}")
        return super().fetch_failed(failure, source_id, stage)

    def article(self, rec: FeedRecord, html: str, response: Response) -> Any:
        if (rec.info_code or "").endswith("999"):
            raise PoisonError(f"poisoned text of {rec.info_code}")
        return super().article(rec, html, response)


class PoisonJekyllSpider(JekyllSpider):
    """The real importer; the post whose infoCode is the spider argument ``poison`` raises
    while its row is built."""

    name = "jekyll_poison"
    poison = ""

    def _article(self, seen: list[Any]) -> Iterator[Any]:
        if seen[0].post.info_code == self.poison:
            raise PoisonError(f"poisoned post {seen[0].path.name}")
        yield from super()._article(seen)
