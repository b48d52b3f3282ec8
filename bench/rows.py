"""Archive rows of generated articles without a crawl, through the real code.

Each generated article becomes the ``Article`` item the finews spider would yield for it
(market feed record, text endpoint answer), is checked by the validate pipeline's rules,
filled by the normalise pipeline's ``normalise``, written by the real
:class:`~newsarchive.tables.sink.TableSink` into the ``articles`` table of an embedded catalog
and committed like a run: the table a crawl would have written, at a fraction of the cost.
The same rows also go to gzip JSONL, the format the benchmarks compare against (one JSON
object per line, as ``jq`` or a quick script would write them; timestamps as ISO 8601 strings).
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.feeds import text_path
from bench.generator import DEFAULT_SEED, PER_DAY, Story, stories
from newsarchive.items import Article
from newsarchive.runid import new_run_id
from newsarchive.schema import ARTICLE_FIELDS
from newsarchive.tables.catalog import resolve
from newsarchive.tables.commit import commit_files
from newsarchive.tables.definitions import ARTICLES, TABLES, ensure_all
from newsarchive.tables.sink import TableSink, month_of
from newsarchive.timeparse import beijing_date, parse_beijing, utcnow
from pipelines.normalise import normalise
from pipelines.validate import problem

LIST_URL = "http://feeds.example/information/newmarket/web/webapi?marketType=37&count=100"
TEXT_URL = "http://text.example"
SHARE_URL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode={info_code}"


def article(story: Story) -> Any:
    """The item ``FinewsSpider.article`` makes of this story's market record and text."""
    return Article(
        source="finews",
        source_id=story.info_code,
        info_code=story.info_code,
        title=story.title,
        digest=None,
        media_name=story.media,
        published_at=parse_beijing(story.time),
        content_html=story.html,
        article_url=None,
        share_url=SHARE_URL.format(info_code=story.info_code),
        source_url=TEXT_URL + text_path(story.info_code),
        list_url=LIST_URL,
        feed="market-37",
        fetched_at=utcnow(),
        http_status=200,
        spider="finews",
    )


def rows(
    n: int, seed: int = DEFAULT_SEED, run_id: str | None = None, per_day: int = PER_DAY
) -> Iterator[dict[str, Any]]:
    """``n`` archive rows, as the pipelines would write them."""
    run_id = run_id or new_run_id(utcnow())
    for story in stories(n, seed, per_day):
        item = article(story)
        found = problem(item)
        if found is not None:
            raise ValueError(f"generated article {story.info_code} is invalid: {found}")
        normalise(item, run_id, None)
        yield {name: item.get(name) for name in ARTICLE_FIELDS}


def table_sink(root: Path, run_id: str, **sink_options: Any) -> tuple[TableSink, Any]:
    """A sink into the ``articles`` table of the embedded catalog in ``root``, and a function
    that commits what it wrote and returns the files."""
    spec = resolve(str(root))
    catalog = spec.open()
    table = ensure_all(catalog, spec.namespace)[ARTICLES]
    sink = TableSink(
        table.io,
        table.location(),
        TABLES[ARTICLES].schema,
        run_id,
        kind=ARTICLES,
        month_field="published_month",
        **sink_options,
    )

    def commit() -> list[Path]:
        files = sink.close()
        commit_files(lambda: catalog.load_table((spec.namespace, ARTICLES)), [f.path for f in files], run_id=run_id)
        return [Path(f.path.removeprefix("file://")) for f in files]

    return sink, commit


def write_archive(root: Path, rows_: list[dict[str, Any]], run_id: str, **sink_options: Any) -> list[Path]:
    """Write ``rows_`` into the table in ``root`` as one run would; return its files."""
    sink, commit = table_sink(root, run_id, **sink_options)
    for row in rows_:
        sink.write((row["source"], month_of(row["published_at"])), row)
    return commit()


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def jsonl_line(row: dict[str, Any]) -> str:
    """A row as one JSON line, with the ``date`` partition as a column."""
    line = {**row, "date": beijing_date(row["published_at"]).isoformat()}
    return json.dumps(line, ensure_ascii=False, default=_json_default) + "\n"


def write_jsonl_gz(path: Path, rows_: list[dict[str, Any]], level: int = 6) -> Path:
    """The same rows as gzip JSONL (gzip's default level, 6)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=level) as fh:
        for row in rows_:
            fh.write(jsonl_line(row))
    return path


@dataclass
class Dataset:
    """``rows`` articles written twice: a Parquet archive (the real sink, default settings)
    and gzip JSONL; the first ``len(sample)`` rows kept in memory for the level sweep."""

    archive: Path
    parquet_files: list[Path]
    jsonl: Path
    rows: int
    sample: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def parquet_list(self) -> str:
        """The table's data files as a DuckDB list literal."""
        return "[" + ", ".join(f"'{p}'" for p in self.parquet_files) + "]"


def build(work: Path, n: int, sample: int, seed: int = DEFAULT_SEED) -> Dataset:
    """Generate ``n`` rows once, streaming them into both formats (memory stays flat)."""
    from newsarchive import settings

    run_id = new_run_id(utcnow())
    archive = work / "archive"
    sink, commit = table_sink(
        archive,
        run_id,
        row_group_size=settings.PARQUET_ROW_GROUP_SIZE,
        max_rows_per_file=settings.PARQUET_MAX_ROWS_PER_FILE,
        max_open=settings.PARQUET_MAX_OPEN_PARTITIONS,
        compression=settings.PARQUET_COMPRESSION,
        compression_level=settings.PARQUET_COMPRESSION_LEVEL,
    )
    jsonl = work / "articles.jsonl.gz"
    data = Dataset(archive, [], jsonl, n)
    spent = {"generate_and_normalise": 0.0, "parquet_write": 0.0, "jsonl_gzip_write": 0.0}
    clock = time.perf_counter
    with gzip.open(jsonl, "wt", encoding="utf-8", compresslevel=6) as fh:
        stream = rows(n, seed, run_id)
        while True:
            t0 = clock()
            row = next(stream, None)
            t1 = clock()
            spent["generate_and_normalise"] += t1 - t0
            if row is None:
                break
            sink.write((row["source"], month_of(row["published_at"])), row)
            t2 = clock()
            fh.write(jsonl_line(row))
            t3 = clock()
            spent["parquet_write"] += t2 - t1
            spent["jsonl_gzip_write"] += t3 - t2
            if len(data.sample) < sample:
                data.sample.append(row)
        t0 = clock()
        data.parquet_files = commit()
        spent["parquet_write"] += clock() - t0
    data.seconds = {k: round(v, 2) for k, v in spent.items()}
    return data
