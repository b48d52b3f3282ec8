"""``scrapy crawl finews -O articles.parquet``: a Parquet feed exporter.

Registered as the ``parquet`` format in ``FEED_EXPORTERS``. Writes the article schema in
bounded row groups; quarantined items are left to the archive's quarantine table.

Scrapy counts a feed's items in ``FeedExporter.item_scraped``, for every item the feed's
item filter accepts, whatever the exporter does with it ("Stored parquet feed (N items)").
So that N is the rows of the file, the format says which items it holds
(:attr:`ParquetItemExporter.item_classes`) and :class:`FeedExporter` gives a feed of that
format the matching item filter (Scrapy's ``item_classes`` feed option) unless the feed
names its own; the exporter refuses anything else rather than drop it unseen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
from scrapy.exporters import BaseItemExporter
from scrapy.extensions.feedexport import FeedExporter as ScrapyFeedExporter
from scrapy.extensions.feedexport import ItemFilter

from newsarchive.items import Article
from newsarchive.schema import ARTICLE_FIELDS, ARTICLE_SCHEMA

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class ParquetItemExporter(BaseItemExporter):
    #: The only items a file of the article schema can hold: the item filter of its feeds.
    item_classes: ClassVar[tuple[type, ...]] = (Article,)

    def __init__(self, file: BinaryIO, *, row_group_size: int = 1000, **kwargs: Any) -> None:
        super().__init__(dont_fail=True, **kwargs)
        self.file = file
        self.row_group_size = row_group_size
        self.buffer: list[dict[str, Any]] = []
        self.writer: pq.ParquetWriter | None = None

    def start_exporting(self) -> None:
        self.writer = pq.ParquetWriter(pa.PythonFile(self.file, mode="w"), ARTICLE_SCHEMA, compression="zstd")

    def export_item(self, item: Any) -> None:
        # Raising (Scrapy logs it, and does not count the item) rather than skipping: a feed
        # whose own item filter lets other items through must not claim rows it lacks.
        if not isinstance(item, self.item_classes):
            raise TypeError(f"a Parquet feed holds articles, not {type(item).__name__}")
        article: Any = item  # an Article, a dict-like Scrapy item
        self.buffer.append({name: article.get(name) for name in ARTICLE_FIELDS})
        if len(self.buffer) >= self.row_group_size:
            self._flush()

    def _flush(self) -> None:
        if self.buffer and self.writer is not None:
            self.writer.write_table(pa.Table.from_pylist(self.buffer, schema=ARTICLE_SCHEMA))
            self.buffer = []

    def finish_exporting(self) -> None:
        self._flush()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class FeedExporter(ScrapyFeedExporter):
    """Scrapy's feed exporter (it replaces it in ``EXTENSIONS``), except that a feed whose
    format declares ``item_classes`` and that names no ``item_filter`` or ``item_classes`` of
    its own gets those classes as its filter: its item count is then the items it wrote."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        for uri, options in self.feeds.items():
            if options.get("item_filter") or options.get("item_classes"):
                continue
            exporter = self.exporters.get(options["format"])
            classes = getattr(exporter, "item_classes", ())
            if classes:
                self.filters[uri] = ItemFilter({**options, "item_classes": list(classes)})
