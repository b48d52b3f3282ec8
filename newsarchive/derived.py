"""The article columns derived from its other columns: plain text, credit, media, slug, story.

The costliest step of normalising (an lxml parse and a walk of the body, a Unicode fold of
the title), and one nothing before the writer needs: validation and dedupe read the source's
fields and the body's hash.
So :class:`~pipelines.normalise.NormalisePipeline` leaves it to the writer process when there
is one (``content_text`` still unset), and does it itself when the crawl writes in-process.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from newsarchive.htmltext import text_and_credit
from newsarchive.slug import media_slug
from newsarchive.story import story_id


def needs_text(row: MutableMapping[str, Any]) -> bool:
    """The text columns are still to be derived (left to the writer)."""
    return row.get("content_text") is None


def fill_text_columns(row: MutableMapping[str, Any]) -> None:
    """``content_text``, ``media_credit``, ``media_name`` (from the credit when the source
    names none), ``media_slug`` (unless the source states one) and ``story_id``, in place."""
    text, credit, credited_media = text_and_credit(row["content_html"])
    row["media_credit"] = credit
    if not row.get("media_name") and credited_media:
        row["media_name"] = credited_media
    # a slug the source states (an imported post's category) is kept as it was published
    row["media_slug"] = row.get("media_slug") or media_slug(row.get("media_name"))
    row["story_id"] = story_id(row["title"], row["published_at"])
    row["content_text"] = text
