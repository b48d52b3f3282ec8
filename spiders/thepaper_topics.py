"""thepaper.cn special topics: a ``specialDetail`` page is a collection, not an article;
the articles it lists are followed instead (``PageError.follow``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from spiders.fields import text_value
from spiders.thepaper_fields import valid_cont_id


def topic_name(special: dict[str, Any]) -> str | None:
    """The topic's name, from ``specialInfo`` when it is there."""
    info = special.get("specialInfo") if isinstance(special.get("specialInfo"), dict) else special
    return text_value(info.get("name")) or text_value(info.get("shareName"))


def topic_entries(special: Any, exclude: str | None = None) -> Iterator[dict[str, Any]]:
    """Every object with a valid ``contId`` inside a special topic (its listed articles)."""
    seen: set[str] = set() if exclude is None else {exclude}
    stack: list[Any] = [special]
    while stack:
        node = stack.pop(0)
        if isinstance(node, list):
            stack[:0] = node
        elif isinstance(node, dict):
            cont_id = valid_cont_id(node.get("contId"))
            if cont_id is not None and cont_id not in seen and text_value(node.get("name")):
                seen.add(cont_id)
                yield node
            stack[:0] = [v for v in node.values() if isinstance(v, (list, dict))]
