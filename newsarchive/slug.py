"""Category slugs made as the original site made them."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def media_slug(media_name: str | None) -> str | None:
    """Pinyin of the media name, character by character, no separators: 澎湃新闻 → pengpaixinwen.

    The original used ``xpinyin``'s first reading of each character (so polyphones read as
    it read them) and kept other characters as they are; we use the same package so the
    slugs match the category of every post it wrote.
    """
    if not media_name:
        return None
    pinyin: str = _pinyin().get_pinyin(media_name)
    return pinyin.replace("-", "")


@lru_cache(maxsize=1)
def _pinyin():  # type: ignore[no-untyped-def]
    from xpinyin import Pinyin

    return Pinyin()
