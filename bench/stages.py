"""``python -m bench.stages --articles N``: what each item pipeline costs by itself.

Calls the project's five pipelines directly, in order, on ``N`` generated articles (the
items the finews spider would yield), outside any crawl, and prints the mean microseconds
per article of each stage and of closing (publishing the files) as JSON. Set beside
``pipeline_vs_bare_ratio``, it separates the pipelines' own work from what that work costs
inside the crawler's process. Runs as a subprocess: it needs a Twisted reactor installed.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

from bench.generator import stories
from bench.rows import article


def measure(n: int) -> dict[str, Any]:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newsarchive.settings")
    from scrapy.crawler import Crawler
    from scrapy.utils.misc import load_object
    from scrapy.utils.project import get_project_settings
    from scrapy.utils.reactor import install_reactor

    from spiders.finews import FinewsSpider

    settings = get_project_settings()
    settings.set("ARCHIVE_URI", tempfile.mkdtemp(prefix="newsarchive-stages-"))
    settings.set("WRITER_PROCESS", False)  # all the work in this process, where it is timed
    settings.set("FINEWS_LIST_URLS", ["http://127.0.0.1:9/list"])
    settings.set("FINEWS_TEXT_URL", "http://127.0.0.1:9/text?id={info_code}")
    install_reactor(settings["TWISTED_REACTOR"])
    crawler = Crawler(FinewsSpider, settings)
    crawler._apply_settings()
    crawler.spider = FinewsSpider.from_crawler(crawler)
    order = sorted(settings.getdict("ITEM_PIPELINES").items(), key=lambda kv: kv[1])
    stages = [(path.rsplit(".", 1)[1], load_object(path).from_crawler(crawler)) for path, _ in order]
    items = [article(s) for s in stories(n)]
    from newsarchive.extensions.archiverun import ArchiveRun

    run = ArchiveRun.of(crawler)
    run.open()  # at engine_started in a crawl: the catalog, the tables
    run.index("finews").prefetch(item["source_id"] for item in items)  # the spider asks per list page
    import pyarrow as pa

    pa.array(["warm"])  # pyarrow imports pandas (where installed) on its first conversion
    spent = dict.fromkeys((name for name, _ in stages), 0.0)
    clock = time.perf_counter
    for item in items:
        for name, stage in stages:
            started = clock()
            item = stage.process_item(item)
            spent[name] += clock() - started
    started = clock()
    for _, stage in stages:
        close = getattr(stage, "close_spider", None)
        if close is not None:
            close()
    run.spider_closed(crawler.spider, "finished")  # finish the files, commit the tables
    closing = clock() - started
    per = {name: round(s / n * 1e6, 1) for name, s in spent.items()}
    return {
        "articles": n,
        "us_per_article": per,
        "close_us_per_article": round(closing / n * 1e6, 1),
        "total_us_per_article": round((sum(spent.values()) + closing) / n * 1e6, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__)
    parser.add_argument("--articles", type=int, default=5000)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.articles)))


if __name__ == "__main__":
    main()
