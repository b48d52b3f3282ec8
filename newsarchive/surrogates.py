"""Lone UTF-16 surrogates: text Python holds but no UTF-8 file (Parquet, JSON) can store.

A JSON escape such as ``"\\ud800"`` decodes to a ``str`` with a lone surrogate; Python
accepts it until the text is encoded, which pyarrow does when it builds a row group. An
article carrying one is quarantined (``invalid_text``); a quarantine row carrying one keeps
it escaped as the six characters ``\\ud800`` (inside JSON text, the same escape it came
as), so the evidence is stored instead of failing the write.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: Any surrogate code point: in a ``str`` decoded from UTF-8 or JSON, only a lone one can occur.
SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> bool:
    """Can ``text`` be encoded as UTF-8 (holds no lone surrogate)? The encoder rejects exactly
    the surrogates, and runs at about twice the speed of a regex scan of the same text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def has_surrogate(value: Any) -> bool:
    """Does ``value`` (a string, or a list of strings) hold a lone surrogate?"""
    if isinstance(value, str):
        return not storable(value)
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, str) and not storable(v) for v in value)
    return False


def surrogate_field(row: Mapping[str, Any], names: Iterable[str] | None = None) -> str | None:
    """The first field of ``row`` (of ``names``, else all) holding a lone surrogate, or None."""
    values = dict(row) if names is None else {name: row.get(name) for name in names}
    # one pass over all the text (the common case: none), the fields one by one only if found
    texts = [v for v in values.values() if isinstance(v, str)]
    for v in values.values():
        if isinstance(v, (list, tuple)):
            texts.extend(s for s in v if isinstance(s, str))
    if storable("".join(texts)):
        return None
    for name, value in values.items():
        if has_surrogate(value):
            return name
    return None


def escape(text: str) -> str:
    """``text`` with each lone surrogate written as its ``\\uXXXX`` escape (unchanged if none)."""
    if storable(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def escaped(value: Any) -> Any:
    """``value`` with the strings in it (and in its lists and dicts) escaped."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list):
        return [escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: escaped(v) for k, v in value.items()}
    return value
