"""The per-article checks the crawler runs on every item (newsarchive/surrogates.py,
newsarchive/links.py, newsarchive/redaction.py), against their definitions, for any text:
they were made cheaper (an encode instead of a regex scan, no regex for a URL without
tabs or newlines, no sort when no secret is present) and must decide exactly as before."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from newsarchive import links, redaction, surrogates

#: The definition: any code point of the surrogate range.
SURROGATE = re.compile("[\ud800-\udfff]")
#: Text with a fair chance of lone surrogates, tabs, newlines, controls and spaces.
TEXT = st.text(st.characters(codec=None, categories=None), max_size=40) | st.text(
    st.sampled_from(["a", "中", "\ud800", "\udfff", "\t", "\n", "\r", " ", "\x00", "\x1f", ":", "h", "/"]),
    max_size=20,
)
VALUE = TEXT | st.lists(TEXT, max_size=4) | st.none() | st.integers()
#: What a browser strips from both ends of a URL: C0 controls and space.
ENDS = "".join(chr(c) for c in range(0x21))


def reference_field(row: dict[str, Any]) -> str | None:
    for name, value in row.items():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and SURROGATE.search(t) for t in texts):
            return name
    return None


@given(st.dictionaries(st.sampled_from(["title", "digest", "tags", "content_html", "n"]), VALUE, max_size=5))
def test_surrogate_field_names_the_first_field_the_definition_names(row: dict[str, Any]) -> None:
    assert surrogates.surrogate_field(row) == reference_field(row)


@given(TEXT)
def test_a_text_is_storable_exactly_when_it_holds_no_surrogate(text: str) -> None:
    assert surrogates.storable(text) is (SURROGATE.search(text) is None)
    assert surrogates.storable(surrogates.escape(text))


def reference_scheme(value: str) -> str | None:
    """WHATWG: strip C0 controls and space from both ends, drop tabs and newlines, read the scheme."""
    cleaned = re.sub(r"[\t\n\r]", "", value.strip(ENDS))
    m = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", cleaned)
    return m.group(1).lower() if m else None


URLISH = st.builds(
    lambda pre, scheme, rest: pre + scheme + rest,
    st.sampled_from(["", " ", "\t", "\x00", "\n "]),
    st.sampled_from(["http:", "https:", "HTTPS:", "ht\ttp:", "java\nscript:", "javascript:", "file:", "data:", ""]),
    TEXT,
)


@given(URLISH | TEXT)
def test_the_scheme_is_the_one_a_browser_reads(value: str) -> None:
    assert links.scheme(value) == reference_scheme(value)
    kept = links.link_url(value, links.FETCHED)
    assert (kept is not None) == (bool(value.strip(ENDS)) and reference_scheme(value) in links.FETCHED)


@given(TEXT, st.sets(st.sampled_from(["secret1", "secret12", "hunter22", "2secret1"]), max_size=4))
def test_redaction_masks_every_secret_longest_first(text: str, secrets: set[str]) -> None:
    planted = text + "".join(sorted(secrets))
    out = redaction.redact(planted, secrets)
    assert not any(s in out for s in secrets if s not in redaction.MASK)
    expected = planted
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in expected:
            expected = expected.replace(secret, redaction.MASK)
    assert out == expected
