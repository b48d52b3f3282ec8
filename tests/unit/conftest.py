"""Fixtures of the in-process layer (see :mod:`crawler`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from crawler import make_crawler
from scrapy.crawler import Crawler


@pytest.fixture(autouse=True)
def _no_catalog_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No pyiceberg configuration of the machine's: the embedded catalog in tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PYICEBERG_HOME", str(home))
    for name in [n for n in __import__("os").environ if n.startswith("PYICEBERG_CATALOG__")]:
        monkeypatch.delenv(name)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def new_crawler(archive: Path) -> Callable[..., Crawler]:
    """``new_crawler(settings=None)``: a crawler whose ARCHIVE_URI is ``archive``."""

    def factory(settings: dict[str, Any] | None = None, **kw: Any) -> Crawler:
        return make_crawler(archive, settings, **kw)

    return factory


@pytest.fixture
def crawler(new_crawler: Callable[..., Crawler]) -> Crawler:
    return new_crawler()
