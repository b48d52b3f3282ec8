"""How a source's bytes become text and JSON: strictly, and never by raising anything but
:class:`FeedError`.

A source controls every byte it sends, so the parsers of all spiders (and ``reparse``, which
replays the recorded bytes and headers through them) go through the two doors below:

* :func:`body_text` decodes in the encoding the response declares, the way browsers, Scrapy
  and w3lib pick it (a BOM first, then the ``charset`` of the Content-Type, then for HTML the
  ``<meta charset>``, for JSON the RFC 8259 UTF-8/16/32 detection, else UTF-8), but strictly:
  a byte that is not valid in that encoding is the fault ``undecodable``, never silently
  replaced.
* :func:`loads` reads JSON under :class:`JsonLimits`: nesting deeper than ``JSON_MAX_DEPTH``
  is ``too_deep`` (checked before parsing, without recursion), and a number the archive
  cannot hold (an integer longer than ``JSON_MAX_INT_DIGITS``, ``1e999``, ``NaN``,
  ``Infinity``) becomes an :class:`OutOfRange` marker instead of an exception, so that only
  the record holding it is quarantined (``number_out_of_range``) and its list stays usable.

:class:`FeedError` and :func:`load_json` are imported from here by every source's parser (not
from one spider's module): they are the door itself, and ``newsarchive`` imports no spider.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

from newsarchive.surrogates import escape


class FeedError(ValueError):
    """A response that cannot be used; ``reason`` is a quarantine reason code.

    ``detail`` quotes the source (keys, error messages): its lone surrogates are escaped, as
    it goes into quarantine rows, the log and the run manifest's ``problems``, all UTF-8."""

    def __init__(self, reason: str, detail: str) -> None:
        detail = escape(detail)
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class JsonLimits:
    """The settings ``JSON_MAX_DEPTH`` and ``JSON_MAX_INT_DIGITS`` (see settings.py)."""

    max_depth: int = 512
    max_int_digits: int = 100

    @classmethod
    def from_settings(cls, settings: Any) -> JsonLimits:
        return cls(settings.getint("JSON_MAX_DEPTH"), settings.getint("JSON_MAX_INT_DIGITS"))


LIMITS = JsonLimits()


class OutOfRange:
    """A JSON number the archive cannot hold, kept as a marker in the parsed data.

    Its ``str`` and ``repr`` are short and safe (never the thousands of digits), so a record
    holding one can be logged and quarantined as evidence."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<number out of range: {self.what}>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OutOfRange) and other.what == self.what

    def __hash__(self) -> int:
        return hash(self.what)


def _describe(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:12]}…{text[-4:]} ({len(text)} characters)"


def out_of_range_paths(value: Any, limit: int = 10) -> list[str]:
    """Where ``value`` (parsed JSON) holds :class:`OutOfRange` markers: ``a.b[2]`` paths,
    at most ``limit``. Iterative: the data may be nested up to JSON_MAX_DEPTH levels."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", value)]
    while stack and len(found) < limit:
        path, node = stack.pop()
        if isinstance(node, OutOfRange):
            found.append(escape(f"`{path or '.'}` ({node.what})"))
        elif isinstance(node, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(node))))
    return found


# --- decoding ------------------------------------------------------------------------

_JSON_UTF = {"utf-16-be", "utf-16-le", "utf-32-be", "utf-32-le"}


def declared_encoding(body: bytes, content_type: str | bytes | None, *, html: bool = False) -> tuple[str, str]:
    """(Python codec, where it was declared) of a body, in the order w3lib and browsers use:
    a BOM, the Content-Type ``charset``, the HTML ``<meta charset>`` (``html``) or the
    RFC 8259 UTF-16/32 detection (JSON), else UTF-8. Unknown names fall through."""
    bom, _ = read_bom(body)
    if bom:
        return bom, "BOM"
    ctype = content_type.decode("latin-1") if isinstance(content_type, bytes) else content_type
    header = http_content_type_encoding(ctype) if ctype else None
    if header:
        return header, "Content-Type charset"
    if html:
        meta = html_body_declared_encoding(body)
        found = resolve_encoding(meta) if meta else None
        if found:
            return found, f"<meta charset={meta!r}>"
    else:
        detected = json.detect_encoding(body)
        if detected in _JSON_UTF:
            return detected, "RFC 8259 detection"
    return "utf-8", "default"


def body_text(body: bytes, content_type: str | bytes | None = None, *, html: bool = False) -> str:
    """The body as text, decoded strictly in its declared encoding; FeedError
    ``undecodable`` naming the encoding and the byte offset when it is not valid in it."""
    codec, where = declared_encoding(body, content_type, html=html)
    _, mark = read_bom(body)
    skip = len(mark) if mark else 0
    try:
        return body[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        bad = body[offset : offset + 8]
        raise FeedError(
            "undecodable",
            f"not valid {codec} ({where}) at byte {offset} of {len(body)}: {bad!r}",
        ) from exc
    except LookupError as exc:  # w3lib resolves only names Python knows; kept as a net
        raise FeedError("undecodable", f"unknown encoding {codec!r} ({where})") from exc


# --- JSON ----------------------------------------------------------------------------

#: A JSON string (escapes included) and anything that is not a bracket.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str, limit: int) -> int:
    """The nesting depth of JSON text, or any value above ``limit`` once it is past it.

    No recursion and no Python loop over the characters: a text with fewer opening brackets
    than ``limit`` is shallow enough (a count); otherwise strings are cut out and the running
    sum of the remaining brackets is taken, in C."""
    if text.count("[") + text.count("{") <= limit:
        return 0
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads(text: str, limits: JsonLimits = LIMITS) -> Any:
    """Parse JSON text under ``limits``; FeedError ``too_deep`` or ``bad_json``, nothing else."""
    depth = json_depth(text, limits.max_depth)
    if depth > limits.max_depth:
        raise FeedError("too_deep", f"JSON nested {depth} levels deep (JSON_MAX_DEPTH is {limits.max_depth})")
    max_digits = limits.max_int_digits

    def parse_int(digits: str) -> int | OutOfRange:
        if len(digits) - digits.startswith("-") > max_digits:
            return OutOfRange(f"{len(digits.lstrip('-'))}-digit integer {_describe(digits)}")
        return int(digits)

    def parse_float(number: str) -> float | OutOfRange:
        value = float(number)
        return value if math.isfinite(value) else OutOfRange(f"number {_describe(number)}")

    def parse_constant(name: str) -> OutOfRange:
        return OutOfRange(name)

    try:
        return json.loads(text, parse_int=parse_int, parse_float=parse_float, parse_constant=parse_constant)
    except json.JSONDecodeError as exc:
        ended = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        kind = "truncated JSON" if ended else "invalid JSON"
        raise FeedError("bad_json", f"{kind}: {exc.msg} at char {exc.pos}") from exc
    except RecursionError as exc:  # deeper than the interpreter allows, below the limit
        raise FeedError("too_deep", "JSON nested deeper than the parser can follow") from exc


def load_json(body: bytes, content_type: str | bytes | None = None, limits: JsonLimits = LIMITS) -> Any:
    """Decode and parse a JSON response, naming the fault when it cannot be used."""
    return loads(json_text(body, content_type), limits)


def json_text(body: bytes, content_type: str | bytes | None = None) -> str:
    """The text of a response that should be JSON: FeedError for an empty body, bytes
    that do not decode, or an HTML/XML page."""
    if not body or not body.strip():
        raise FeedError("bad_json", "empty body")
    text = body_text(body, content_type)
    stripped = text.lstrip()
    if not stripped:
        raise FeedError("bad_json", "empty body")
    if stripped[:1] == "<":
        raise FeedError("bad_json", f"an HTML/XML page, not JSON: {stripped[:80]!r}")
    return text
