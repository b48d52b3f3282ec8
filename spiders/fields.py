"""Reading one field of a source's parsed JSON, the same way for every source.

Shared by the parsers of all spiders (``finews_feeds``, ``eastmoney_pages``,
``thepaper_lists``, ``thepaper_articles``): a spider primitive, not one source's
format, so it has a module of its own beside ``base.py`` and ``listing.py``.
"""

from __future__ import annotations

from typing import Any


def text_value(value: Any, *, strip: bool = True) -> str | None:
    """A string field (stripped, unless ``strip`` is off) or a number as its string; None
    when it is blank, missing, a bool or anything else."""
    if isinstance(value, str):
        if not value.strip():
            return None
        return value.strip() if strip else value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None
