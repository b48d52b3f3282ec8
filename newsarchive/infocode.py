"""infoCode validation: the only gate between feed data and URLs or file names."""

from __future__ import annotations

import re
from typing import Any

#: News (``NW``) and announcements (``AN``): two letters then 18 digits, nothing else.
INFO_CODE_RE = re.compile(r"(?:NW|AN)[0-9]{18}")


def valid_info_code(value: Any) -> str | None:
    """The infoCode if ``value`` is exactly a valid one, else None (no trimming, no case folding)."""
    if isinstance(value, str) and INFO_CODE_RE.fullmatch(value):
        return value
    return None
