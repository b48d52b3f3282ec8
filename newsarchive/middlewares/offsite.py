"""Requests go only to the configured hosts, redirects and retries included.

Scrapy's own OffsiteMiddleware lets through any request with ``dont_filter=True`` (which
our list and text requests need, and which every retry sets), so a redirect from a
configured host to another one would be followed. This one checks every request that
reaches the downloader against the spider's ``allowed_domains``; a refused request fails
with ``IgnoreRequest`` ("Filtered offsite request"), which its errback quarantines as
``offsite``.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached


class StrictOffsiteMiddleware(OffsiteMiddleware):
    def request_scheduled(self, request: Request, spider: Spider) -> None:
        """Check at download time instead, where a refusal reaches the request's errback."""

    def process_request(self, request: Request, spider: Spider | None = None) -> Any:
        assert self.crawler.spider is not None
        self._update_host_regex(self.crawler.spider)
        if request.meta.get("allow_offsite") or self.should_follow(request, self.crawler.spider):
            return None
        host = urlparse_cached(request).hostname
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("offsite/filtered")
        raise IgnoreRequest(f"Filtered offsite request to {host!r}")
