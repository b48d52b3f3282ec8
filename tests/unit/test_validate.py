"""pipelines/validate.py: an article that must not be archived becomes a quarantine row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from crawler import article, build
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.crawler import Crawler

from newsarchive.items import Article, Quarantined
from pipelines.validate import ValidatePipeline, problem


def test_a_valid_article_passes_unchanged(crawler: Crawler) -> None:
    item = article()
    assert build(ValidatePipeline, crawler).process_item(item) is item


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"source_id": ""}, "invalid"),
        ({"info_code": "XX1"}, "invalid_info_code"),
        ({"source_id": "NW202611270000000002"}, "invalid_info_code"),
        ({"published_at": datetime(2026, 11, 27, 8, 30)}, "missing_time"),
        ({"title": "  "}, "missing_title"),
        ({"content_html": ""}, "empty_text"),
        ({"title": "bad \ud800 title"}, "invalid_text"),
    ],
)
def test_each_problem_is_quarantined_with_its_reason(crawler: Crawler, change: dict[str, Any], reason: str) -> None:
    bad = article(**change)
    out = build(ValidatePipeline, crawler).process_item(bad)
    assert isinstance(out, Quarantined)
    assert (out["stage"], out["reason"]) == ("validate", reason)
    assert out["source"] == "finews"
    assert "content_html" not in (out.get("raw") or "")
    assert crawler.stats.get_value(f"newsarchive/invalid/{reason}") == 1  # type: ignore[union-attr]


def test_thepaper_ids_must_be_digits(crawler: Crawler) -> None:
    bad = article(source="thepaper", source_id="12a", info_code=None)
    out = build(ValidatePipeline, crawler).process_item(bad)
    assert out["reason"] == "invalid_id"


def test_other_items_pass_through(crawler: Crawler) -> None:
    row = Quarantined(source="finews", stage="list", reason="x")
    assert build(ValidatePipeline, crawler).process_item(row) is row


_values = st.one_of(st.none(), st.text(), st.integers(), st.datetimes(), st.lists(st.text(), max_size=3))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(sorted(Article.fields)), _values))
def test_problem_never_raises_on_arbitrary_fields(crawler: Crawler, fields: dict[str, Any]) -> None:
    """Whatever a spider put in the fields, validate answers (or quarantines), never raises."""
    item = Article()
    for key, value in fields.items():
        item[key] = value
    try:
        found = problem(item)
    except Exception as exc:  # pragma: no cover - the failure hypothesis reports
        pytest.fail(f"problem() raised {exc!r}")
    assert found is None or isinstance(found[0], str)
    out = build(ValidatePipeline, crawler).process_item(item)
    assert isinstance(out, (Article, Quarantined))
