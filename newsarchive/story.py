"""``story_id``: the same story from any source gets the same id, from the row alone."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime

from newsarchive.timeparse import beijing_date

#: Letters that titles use as punctuation: 丨 (U+4E28, a CJK stroke) separates a column name
#: from the headline exactly like ｜ does ("旁白丨…" next to "圆桌｜…" in thepaper's own hot
#: list), and syndicators swap one for the other.
SEPARATOR_LETTERS = frozenset("丨")


def normalise_title(title: str) -> str:
    """NFKC-fold (full-width → half-width), lower-case, and keep only letters and digits
    (minus the few letters used as separators)."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN" and ch not in SEPARATOR_LETTERS)


def story_id(title: str | None, published_at: datetime | None) -> str | None:
    """First 16 hex digits of SHA-256 over ``<normalised title>|<Beijing date>``."""
    if not title or published_at is None:
        return None
    key = f"{normalise_title(title)}|{beijing_date(published_at).isoformat()}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
