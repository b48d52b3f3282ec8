"""thepaper.cn field readers that its lists, article pages and special topics all use.

``author`` is read as a string or an object with a ``name``; times as epoch ms (number or
digits) or Beijing time strings; ids as digits.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from newsarchive.ids import NUMERIC_ID
from newsarchive.timeparse import parse_beijing
from spiders.fields import text_value

#: A channel id: digits, or a minus and digits (RSSHub's ``channel.ts`` lists -21 体育 and
#: -24 评论; -8 上海 appears elsewhere). It only goes into the JSON body, kept as a string.
CHANNEL_ID = re.compile(r"-?[0-9]{1,12}")
_NAMES = re.compile(r"[、,，;；/|｜\s]+")
#: Epoch milliseconds as digits (longer is no time: ``int()`` of thousands of digits raises).
EPOCH_MS = re.compile(r"[0-9]{1,19}")


def valid_cont_id(value: Any) -> str | None:
    """The contId as digits, or None when it is missing or anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        value = str(value)
    if isinstance(value, str) and NUMERIC_ID.fullmatch(value.strip()):
        return value.strip()
    return None


def valid_channel_id(value: Any) -> str | None:
    """The channel id as a string ("25951", "-21"), or None when it is anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and CHANNEL_ID.fullmatch(value.strip()):
        return value.strip()
    return None


def when(value: Any) -> datetime | None:
    """A source time in UTC: epoch milliseconds (number or digits) or a Beijing time string."""
    if isinstance(value, str) and EPOCH_MS.fullmatch(value.strip()):
        value = int(value.strip())
    return parse_beijing(value)


def person(value: Any) -> str | None:
    """A name given as a string, or as an object carrying ``name`` (or ``sname``, as the
    cards' ``authorInfo`` does), or as a list of either (joined with 、)."""
    if isinstance(value, dict):
        return text_value(value.get("name")) or text_value(value.get("sname"))
    if isinstance(value, list):
        names = [n for n in (person(v) for v in value if not isinstance(v, list)) if n]
        return "、".join(dict.fromkeys(names)) or None
    return text_value(value) if isinstance(value, str) else None


def dig(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...``; None as soon as a level is not an object."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def split_names(value: Any) -> list[str] | None:
    """``responEditor`` as a list: "张三、李四" → ["张三", "李四"]; None when absent."""
    if isinstance(value, list):
        names = [n for v in value for n in (split_names(v) or [])]
        return names
    text = text_value(value)
    if text is None:
        return None
    return [n for n in _NAMES.split(text) if n]


def keys_of(data: dict[str, Any]) -> str:
    """The first keys of an unexpected object, for an error message."""
    return ", ".join(sorted(map(str, data))[:12])
