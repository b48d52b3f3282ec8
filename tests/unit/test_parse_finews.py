"""spiders/finews_feeds.py on the bundled sample feeds (newsarchive/samples/finews)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarchive.bodies import FeedError
from spiders.finews_feeds import merge, parse_list, parse_text, read_record

SAMPLES = resources.files("newsarchive.samples") / "finews"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "url", "feed"),
    [
        ("market-37.json", "http://127.0.0.1/list?marketType=37", "market-37"),
        ("media.json", "http://127.0.0.1/media", "media"),
        ("rolling.json", "http://127.0.0.1/rolling", "rolling"),
    ],
)
def test_each_family_is_recognised_by_its_json(name: str, url: str, feed: str) -> None:
    got, records = parse_list(sample(name), url)
    assert got == feed
    assert records
    read = [read_record(r, got, url, n) for n, r in enumerate(records)]
    assert all(r is not None for r in read)
    assert sum(r.info_code is not None for r in read if r) >= len(read) * 0.9


def test_a_market_record_is_read_in_beijing_time() -> None:
    _, records = parse_list(sample("market-37.json"), "http://x/?marketType=37")
    rec = read_record(records[0], "market-37", "http://x/", 0)
    assert rec is not None
    assert rec.info_code == "NW202201072239307540"
    assert rec.media_name == "券商中国"
    assert rec.published_at == datetime(2022, 1, 7, 0, 14, 19, tzinfo=UTC)


def test_merge_keeps_the_richest_and_fills_its_gaps() -> None:
    lean = read_record({"infoCode": "NW202201072239307540", "title": "t"}, "rolling", "u", 0)
    rich = read_record(
        {"infoCode": "NW202201072239307540", "medianame": "m", "datetime": "2022-01-07 08:14:19"}, "market", "u", 1
    )
    assert lean is not None and rich is not None
    won = merge([lean, rich])
    assert (won.media_name, won.title) == ("m", "t")
    assert won.others == [lean]


def test_a_rolling_id_becomes_its_info_code() -> None:
    rec = read_record({"id": "202201072239307540", "title": "t"}, "rolling", "u", 0)
    assert rec is not None and rec.info_code == "NW202201072239307540"


def test_every_sample_text_parses() -> None:
    texts: dict[str, Any] = json.loads(sample("texts.json"))
    for code, answer in texts.items():
        html = parse_text(json.dumps(answer).encode())
        assert html.strip(), code


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"[1]", "bad_json"), (b'{"text": "  "}', "empty_text"), (b"{not json", None)],
)
def test_a_bad_text_names_its_fault(body: bytes, reason: str | None) -> None:
    with pytest.raises(FeedError) as err:
        parse_text(body)
    if reason:
        assert err.value.reason == reason


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=8,
    )
)
def test_parse_list_raises_only_feed_errors(data: Any) -> None:
    try:
        feed, records = parse_list(json.dumps(data).encode(), "http://x/")
    except FeedError:
        return
    for n, raw in enumerate(records):
        read_record(raw, feed, "http://x/", n)
