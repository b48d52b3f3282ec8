"""Which strings may become links: read the way a browser reads them, http(s) only.

A link a source sends (or an old archive holds) is data; written as ``href`` it would run
in a reader's browser if its scheme were ``javascript:`` or ``data:``. Browsers strip
leading and trailing C0 control characters and spaces from a URL and drop every tab and
newline inside it before reading the scheme, case-insensitively (WHATWG URL parser), so
``" jav\\tascript:"`` is ``javascript:``; the check here does the same. One rule for the
ingest (``pipelines/normalise.py``) and for every page we render (the report).
"""

from __future__ import annotations

import re

HTTP = frozenset({"http", "https"})
#: What a URL that names what we read ourselves (``source_url``, ``list_url``) may also be:
#: the importer's ``file:`` URIs of the post files and folders it read.
FETCHED = HTTP | {"file"}
#: Characters a browser strips from both ends of a URL (C0 controls and space).
_ENDS = "".join(chr(c) for c in range(0x21))
#: Characters a browser removes anywhere in a URL (ASCII tab or newline).
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")


def scheme(value: str) -> str | None:
    """The scheme a browser would read in ``value`` (lower case), None for a relative URL."""
    return _scheme(value.strip(_ENDS))


def _scheme(trimmed: str) -> str | None:
    if "\t" in trimmed or "\n" in trimmed or "\r" in trimmed:  # rare: spare the common URL a regex pass
        trimmed = _TAB_NEWLINE.sub("", trimmed)
    m = _SCHEME.match(trimmed)
    return m.group(1).lower() if m else None


def link_url(value: object, schemes: frozenset[str] = HTTP) -> str | None:
    """``value`` without the characters a browser strips from its ends, when a browser would
    read it as a URL of one of ``schemes``; None otherwise (relative URLs included)."""
    if not isinstance(value, str):
        return None
    trimmed = value.strip(_ENDS)
    return trimmed if trimmed and _scheme(trimmed) in schemes else None


def local_href(value: str) -> str | None:
    """An ``href`` for a link we build ourselves to a file of the archive: an http(s) or
    ``file:`` URL, or a relative key; None otherwise (``s3://``, or a hostile
    ``warc_filename`` of ``javascript:…`` in an old archive)."""
    found = scheme(value)
    if found is None:
        return value.strip(_ENDS) or None
    if found in FETCHED:
        return value.strip(_ENDS)
    return None
