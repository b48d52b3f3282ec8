"""Front-matter scalars: when a value can stay as the original wrote it, and how to quote it.

The original pasted values into the front matter unescaped; a ``"`` or ``\\`` in a title
made the post's YAML invalid (Jekyll then dropped the whole front matter). Jekyll reads
front matter with Psych (YAML 1.1), so the rules here are YAML 1.1's. No YAML library is
needed at run time: the emitter is small and the tests check it against PyYAML.
"""

from __future__ import annotations

import re

#: Characters YAML treats as line breaks (YAML 1.1 counts NEL, LS and PS too).
LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")

_SHORT_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\x00": "\\0",
    "\x07": "\\a",
    "\x08": "\\b",
    "\x0b": "\\v",
    "\x0c": "\\f",
    "\x1b": "\\e",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}
_UNESCAPES = {
    "0": "\x00",
    "a": "\x07",
    "b": "\x08",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_LEN = {"x": 2, "u": 4, "U": 8}

#: Characters a plain (unquoted) scalar must not start with.
_PLAIN_BAD_START = frozenset("-?:,[]{}#&*!|>'\"%@` \t")
#: Plain scalars YAML 1.1 would read as something other than a string.
_IMPLICIT = re.compile(
    r"""(?ix)
    ~ | null | y | yes | n | no | true | false | on | off | << | =
    | [-+]? (?: 0 | [1-9][0-9_]* | 0[0-7_]+ | 0x[0-9a-f_]+ | 0b[01_]+ | [0-9][0-9_]* (?: :[0-5]?[0-9] )+ )
    | [-+]? (?: [0-9][0-9_]* )? \.[0-9_]* (?: e[-+]?[0-9]+ )?
    | [-+]? [0-9][0-9_]* (?: \.[0-9_]* )? e[-+]?[0-9]+
    | [-+]? \.inf | \.nan
    | \d{4}-\d\d?-\d\d? .*
    """
)


def printable(ch: str) -> bool:
    """Whether YAML allows ``ch`` unescaped in a document (its ``c-printable`` set)."""
    o = ord(ch)
    return (
        ch in "\t\n\r"
        or 0x20 <= o <= 0x7E
        or o == 0x85
        or 0xA0 <= o <= 0xD7FF
        or (0xE000 <= o <= 0xFFFD and o != 0xFEFF)
        or 0x10000 <= o <= 0x10FFFF
    )


def fits_double_quotes(text: str) -> bool:
    """Whether ``"`` + text + ``"`` on one line is valid YAML meaning exactly ``text``."""
    return not any(ch in '"\\' or ch in LINE_BREAKS or not printable(ch) for ch in text)


def escape_double(text: str) -> str:
    """The inside of a double-quoted YAML scalar meaning ``text``, on one line."""
    out: list[str] = []
    for ch in text:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ch == "\t" or printable(ch):
            out.append(ch)
        else:
            o = ord(ch)
            out.append(f"\\x{o:02X}" if o <= 0xFF else f"\\u{o:04X}" if o <= 0xFFFF else f"\\U{o:08X}")
    return "".join(out)


def double_quoted(text: str) -> str:
    return f'"{escape_double(text)}"'


def unescape_double(inner: str) -> str | None:
    """The value of a one-line double-quoted scalar's inside, or None if it is not valid
    YAML (an unescaped ``"``, an unknown escape): the original's broken titles."""
    out: list[str] = []
    i, n = 0, len(inner)
    while i < n:
        ch = inner[i]
        if ch == '"':
            return None
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= n:
            return None
        code = inner[i + 1]
        if code in _UNESCAPES:
            out.append(_UNESCAPES[code])
            i += 2
        elif code in _HEX_LEN:
            digits = inner[i + 2 : i + 2 + _HEX_LEN[code]]
            if len(digits) != _HEX_LEN[code] or not all(c in "0123456789abcdefABCDEF" for c in digits):
                return None
            try:
                out.append(chr(int(digits, 16)))
            except ValueError:
                return None
            i += 2 + _HEX_LEN[code]
        else:
            return None
    return "".join(out)


def plain_ok(text: str) -> bool:
    """Whether ``text`` can be written unquoted (``key: text``) and read back as itself."""
    return bool(
        text
        and text == text.strip(" \t")
        and text[0] not in _PLAIN_BAD_START
        and ": " not in text
        and " #" not in text
        and "\t" not in text
        and not text.endswith(":")
        and all(printable(ch) and ch not in LINE_BREAKS for ch in text)
        and not _IMPLICIT.fullmatch(text)
    )


def scalar(text: str) -> str:
    """``text`` as the original wrote it when that is valid YAML, else double-quoted."""
    return text if plain_ok(text) else double_quoted(text)


def read_scalar(raw: str) -> str:
    """Read a one-line front-matter value leniently, as the importer needs it.

    ``"…"``: its YAML value when valid, else the text between the quotes (the original's
    unescaped titles); ``'…'``: single-quoted; anything else: the text itself."""
    raw = raw.strip(" \t")
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        inner = raw[1:-1]
        value = unescape_double(inner)
        return inner if value is None else value
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("''", "'")
    return raw
