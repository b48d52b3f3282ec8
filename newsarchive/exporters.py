"""``scrapy crawl finews -O articles.parquet``: a Parquet feed exporter.

Registered as the ``parquet`` format in ``FEED_EXPORTERS``. Writes the article schema
(quarantined items are left to the archive's quarantine) in bounded row groups.
"""

from __future__ import annotations

from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from scrapy.exporters import BaseItemExporter

from newsarchive.items import Article
from newsarchive.schema import ARTICLE_FIELDS, ARTICLE_SCHEMA


class ParquetItemExporter(BaseItemExporter):
    def __init__(self, file: BinaryIO, *, row_group_size: int = 1000, **kwargs: Any) -> None:
        super().__init__(dont_fail=True, **kwargs)
        self.file = file
        self.row_group_size = row_group_size
        self.buffer: list[dict[str, Any]] = []
        self.writer: pq.ParquetWriter | None = None

    def start_exporting(self) -> None:
        self.writer = pq.ParquetWriter(pa.PythonFile(self.file, mode="w"), ARTICLE_SCHEMA, compression="zstd")

    def export_item(self, item: Any) -> None:
        if not isinstance(item, Article):
            return
        self.buffer.append({name: item.get(name) for name in ARTICLE_FIELDS})
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
