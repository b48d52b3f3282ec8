"""The field readers every source's parser shares (spiders/fields.py, htmltext.inner_html)
and the id rules (newsarchive/ids.py), in process."""

from __future__ import annotations

import lxml.html
from hypothesis import given
from hypothesis import strategies as st

from newsarchive.htmltext import inner_html
from newsarchive.ids import INFO_CODE_DIGITS, NUMERIC_ID
from spiders.fields import text_value


def test_text_value_reads_strings_and_numbers_only() -> None:
    assert text_value("  标题 ") == "标题"
    assert text_value("  标题 ", strip=False) == "  标题 "
    assert text_value(12) == "12" and text_value(1.5) == "1.5"
    for blank in ("", "   ", None, True, False, [], {}):
        assert text_value(blank) is None and text_value(blank, strip=False) is None


@given(st.one_of(st.text(), st.integers(), st.none(), st.booleans(), st.lists(st.text())))
def test_text_value_never_returns_blank(value: object) -> None:
    for strip in (True, False):
        found = text_value(value, strip=strip)
        assert found is None or (isinstance(found, str) and found.strip())


def test_ids_are_digits_only() -> None:
    assert NUMERIC_ID.fullmatch("123456789012") and not NUMERIC_ID.fullmatch("1234567890123")
    assert not NUMERIC_ID.fullmatch("12a") and not NUMERIC_ID.fullmatch("../1")
    assert INFO_CODE_DIGITS.fullmatch("2" * 18) and not INFO_CODE_DIGITS.fullmatch("2" * 17)


def test_inner_html_keeps_the_children_and_escapes_the_text() -> None:
    el = lxml.html.fragment_fromstring('<div> a &lt;b&gt; <p>one</p><img src="x.png"/> tail </div>')
    assert inner_html(el) == 'a &lt;b&gt; <p>one</p><img src="x.png"> tail'
