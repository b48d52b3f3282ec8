"""A pipeline that does nothing: five of them measure what Scrapy's item pipeline
machinery costs by itself (``noop_pipelines`` in :data:`bench.crawl.VARIANTS`)."""

from __future__ import annotations

from typing import Any


class NoopPipeline:
    def process_item(self, item: Any) -> Any:
        return item


class NoopPipeline2(NoopPipeline):
    pass


class NoopPipeline3(NoopPipeline):
    pass


class NoopPipeline4(NoopPipeline):
    pass


class NoopPipeline5(NoopPipeline):
    pass
