"""The ids that go from a source's data into URLs, file names and requests: the only gate.

Spiders check them when they read a list; the validate pipeline checks them again on every
article, whatever produced it (a spider, a reparse, an import).
"""

from __future__ import annotations

import re
from typing import Any

#: News (``NW``) and announcements (``AN``): two letters then 18 digits, nothing else.
INFO_CODE_RE = re.compile(r"(?:NW|AN)[0-9]{18}")
#: The 18 digits of an infoCode without its ``NW`` prefix (a list's ``id`` or ``code``).
INFO_CODE_DIGITS = re.compile(r"[0-9]{18}")
#: A numeric id that goes into a URL, a file name or a request (a thepaper contId, an East
#: Money column id): digits only, at most 12.
NUMERIC_ID = re.compile(r"[0-9]{1,12}")


def valid_info_code(value: Any) -> str | None:
    """The infoCode if ``value`` is exactly a valid one, else None (no trimming, no case folding)."""
    if isinstance(value, str) and INFO_CODE_RE.fullmatch(value):
        return value
    return None
