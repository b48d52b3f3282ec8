"""Every configured component is built by Scrapy from the crawler, with the project's settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from crawler import build
from scrapy.crawler import Crawler
from scrapy.utils.misc import load_object
from scrapy.utils.project import get_project_settings

from newsarchive.extensions.archiverun import ArchiveRun

PROJECT = get_project_settings()
COMPONENTS = sorted(
    name
    for setting in ("ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS")
    for name, order in PROJECT.getdict(setting).items()
    if order is not None and (name.startswith(("newsarchive.", "pipelines.")))
)


def test_the_project_configures_components() -> None:
    assert "pipelines.articles.ArticleWriterPipeline" in COMPONENTS
    assert len(COMPONENTS) >= 10


@pytest.mark.parametrize("path", COMPONENTS)
def test_each_component_is_built_from_the_crawler(crawler: Crawler, path: str) -> None:
    from scrapy.exceptions import NotConfigured

    cls: Any = load_object(path)
    assert hasattr(cls, "from_crawler"), f"{path} takes no crawler"
    try:
        built = build(cls, crawler)
    except NotConfigured:
        return  # off by its setting (tested where it applies)
    assert built is not None


def test_pipelines_need_the_run(new_crawler: Callable[..., Crawler]) -> None:
    from pipelines.dedupe import DedupePipeline

    crawler = new_crawler({"EXTENSIONS": {"newsarchive.extensions.archiverun.ArchiveRun": None}})
    assert crawler.get_extension(ArchiveRun) is None
    with pytest.raises(RuntimeError, match="not in EXTENSIONS"):
        build(DedupePipeline, crawler)
