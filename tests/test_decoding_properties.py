"""Property-based: whatever bytes a source sends, the parsers answer or name the fault, and a
real crawl archives every good article beside them.

In process (fast): every pure parser, on arbitrary bytes and on generated JSON (huge
numbers, ``NaN``, lone surrogate escapes, control characters, deep nesting, odd
encodings), returns or raises ``FeedError``; nothing else escapes.

End to end: each example serves a batch of generated list and text bodies on 127.0.0.1
beside good articles and runs the real finews spider as a subprocess; every good article
must be archived, every generated text be archived or quarantined with a reason, every
generated list that cannot be read be quarantined (and make the run partial), and the
process must end with its runs row committed (exit 0 or 1).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsarchive.bodies import FeedError, loads, out_of_range_paths
from newsarchive.samples.feedserver import FeedServer, Reply
from newsarchive.schema import QUARANTINE_REASONS
from newsarchive.timeparse import parse_beijing, time_fault
from spiders import eastmoney_pages, thepaper_articles, thepaper_lists
from spiders.finews_feeds import merge, parse_list, parse_text, read_record
from tests.helpers import FAST, read_table, run_crawl

CI = bool(os.environ.get("CI"))
FETCHED = datetime(2022, 1, 21, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Raw:
    """JSON text written as is: numbers json.dumps cannot write, deep nesting."""

    text: str


# --- generators ---------------------------------------------------------------------------

ODD_STRINGS = st.sampled_from(["\ud800", "\udfff", "a\ud83db", "\x00", "\x1f\x7f", "\u2028", "\ufeff", "𠀀", "€"])
strings = st.lists(st.one_of(st.text(max_size=20), ODD_STRINGS), max_size=4).map("".join)
raw_numbers = st.one_of(
    st.integers(min_value=90, max_value=6000).map(lambda n: Raw("9" * n)),
    st.integers(min_value=90, max_value=600).map(lambda n: Raw("-1" + "0" * n)),
    st.sampled_from([Raw("1e999"), Raw("-1e999"), Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e-999")]),
)
deep_values = st.integers(min_value=1, max_value=20_000).map(lambda n: Raw("[" * n + "]" * n))
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    strings,
    raw_numbers,
    st.just(3_155_760_000_000_000),
    st.just(-1),
)
json_values = st.recursive(
    st.one_of(leaves, deep_values),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(strings, inner, max_size=4)),
    max_leaves=20,
)


def render(value: Any, ascii_only: bool) -> str:
    """JSON text of a generated value (iterative enough: generated containers are shallow)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, list):
        return "[" + ", ".join(render(v, ascii_only) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{json.dumps(k, ensure_ascii=ascii_only)}: {render(v, ascii_only)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return json.dumps(value, ensure_ascii=ascii_only)


CODECS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "big5", "latin-1"]


@st.composite
def bodies(draw: st.DrawFn, shape: Any) -> tuple[bytes, str]:
    """(body, Content-Type): generated JSON in some encoding, declared right, wrong or not
    at all, or plain garbage bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=3000)), draw(st.sampled_from(["application/json", "image/png", "text/html"]))
    text = render(draw(shape), draw(st.booleans()))
    codec = draw(st.sampled_from(CODECS))
    try:
        body = text.encode(codec)
    except UnicodeEncodeError:  # a lone surrogate or a character the codec lacks: the bytes are garbage
        body = text.encode("utf-8", "surrogatepass")
        codec = "utf-8"
    declared = draw(st.sampled_from(["right", "wrong", "none"]))
    charset = {"right": codec.replace("-sig", ""), "wrong": draw(st.sampled_from(CODECS)), "none": None}[declared]
    return body, "application/json" + (f"; charset={charset}" if charset else "")


text_shapes = st.one_of(
    st.builds(lambda t: {"text": t}, strings),
    st.builds(lambda v: {"text": v}, json_values),
    st.builds(lambda t, v: {"content": t, "extra": v}, strings, json_values),
    json_values,
)


def list_record(n: int) -> st.SearchStrategy[Any]:
    """A list entry that may be fine, or hold anything where its fields are."""
    code = f"NW20220112{n:010d}"
    fields = st.fixed_dictionaries(
        {"infoCode": st.one_of(st.just(code), json_values), "title": st.one_of(st.just(f"T{n}"), json_values)},
        optional={"datetime": st.one_of(st.just("2022-01-12 10:00:00"), json_values), "views": json_values},
    )
    return st.one_of(fields, json_values)


list_shapes = st.one_of(
    st.lists(st.integers(500, 599), max_size=6).flatmap(
        lambda ns: st.tuples(*(list_record(n) for n in ns)).map(lambda rs: {"record": list(rs)})
    ),
    json_values,
)


# --- in process: the pure parsers ---------------------------------------------------------


def _parsers(body: bytes, ctype: str | None) -> None:
    """Every parser on one body: each returns or raises FeedError; the records a list
    parser returns go through the record readers too."""
    calls = [
        lambda: parse_list(body, "http://h/x?marketType=37", ctype),
        lambda: parse_text(body, ctype),
        lambda: eastmoney_pages.parse_column_page(body, ctype),
        lambda: eastmoney_pages.parse_fast_page(body, ctype),
        lambda: eastmoney_pages.parse_article(body, FETCHED, ctype),
        lambda: thepaper_lists.parse_channel_page(body, ctype),
        lambda: thepaper_lists.parse_hot(body, ["hotNews"], ctype),
        lambda: thepaper_articles.parse_article(body, "1", content_type=ctype),
    ]
    faults: list[FeedError] = []
    for call in calls:
        try:
            call()
        except FeedError as exc:
            faults.append(exc)
    assert all(f.reason in QUARANTINE_REASONS and f.detail for f in faults), faults
    try:
        _, raws = parse_list(body, "http://h/x", ctype)
    except FeedError:
        return
    for i, raw in enumerate(raws):
        out_of_range_paths(raw)
        rec = read_record(raw, "market", "http://h/x", i)
        if rec is not None:
            merge([rec])
            time_fault(rec.time_raw)
        for read in (eastmoney_pages.read_entry, thepaper_lists.read_entry):
            args = (raw, "f", "http://h/x", (0, 1, i))
            entry = read(*args, FETCHED) if read is eastmoney_pages.read_entry else read(*args)  # type: ignore[operator]
            if entry is not None:
                time_fault(entry.time_raw)


@settings(max_examples=300, deadline=None, derandomize=CI)
@given(st.binary(max_size=4000), st.sampled_from([None, "application/json; charset=gbk", "text/html; charset=x"]))
def test_parsers_on_arbitrary_bytes_answer_or_name_the_fault(body, ctype):
    _parsers(body, ctype)


@settings(max_examples=300, deadline=None, derandomize=CI, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(bodies(list_shapes), bodies(text_shapes)))
def test_parsers_on_generated_json_answer_or_name_the_fault(generated):
    _parsers(*generated)


@settings(max_examples=200, deadline=None, derandomize=CI)
@given(json_values)
def test_loads_and_times_never_raise_anything_else(value):
    text = render(value, True)
    try:
        data = loads(text)
    except FeedError as exc:
        fault: FeedError | None = exc
    else:
        fault = None
    if fault is not None:
        assert fault.reason == "too_deep", fault
        return
    out_of_range_paths(data)
    for leaf in (data, *(data if isinstance(data, list) else [])):
        parse_beijing(leaf)
        time_fault(leaf)


# --- end to end: the real spider ----------------------------------------------------------

GOOD = 6
GENERATED = {f"NW20220112{n:010d}" for n in range(500, 600)}


def code(n: int) -> str:
    return f"NW20220112{n:010d}"


def good_text(n: int) -> bytes:
    return json.dumps({"text": f"<p>好文章{n}正文。</p>"}, ensure_ascii=False).encode()


@settings(
    max_examples=5,
    deadline=None,
    derandomize=CI,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(
    texts=st.lists(bodies(text_shapes), min_size=4, max_size=8),
    lists=st.lists(bodies(list_shapes), min_size=2, max_size=4),
)
def test_a_crawl_archives_every_good_article_beside_generated_bodies(tmp_path_factory, texts, lists):
    archive = Path(tmp_path_factory.mktemp("prop")) / "archive"
    with FeedServer() as server:
        good = [code(n) for n in range(1, GOOD + 1)]
        poisoned = [code(100 + i) for i in range(len(texts))]
        records = [
            {"infoCode": c, "medianame": "澎湃新闻", "datetime": "2022-01-12 10:00:00", "title": f"标题{c[-3:]}"}
            for c in good + poisoned
        ]
        server.add("/good?marketType=37", json.dumps({"record": records}, ensure_ascii=False).encode())
        for n, c in enumerate(good, 1):
            server.add(f"/text?id={c}", good_text(n))
        for c, (body, ctype) in zip(poisoned, texts, strict=True):
            server.add(f"/text?id={c}", Reply(body=body, content_type=ctype))
        # the generated lists' records get a good text: their generated titles (lone
        # surrogates, control characters) and times then reach the pipelines and writers
        server.add_handler("/text", lambda path, query: Reply(body=good_text(0)))
        listed: set[str] = set()
        list_urls = [server.url("/good?marketType=37")]
        unusable: dict[str, str] = {}
        for i, (body, ctype) in enumerate(lists):
            path = f"/gen{i}?marketType=5{i}"
            server.add(path, Reply(body=body, content_type=ctype))
            list_urls.append(server.url(path))
            try:
                _, raws = parse_list(body, server.url(path), ctype)
            except FeedError as exc:
                unusable[path] = exc.reason
            else:
                codes = (r.get("infoCode") for r in raws if isinstance(r, dict))
                listed |= {c for c in codes if isinstance(c, str) and c in GENERATED}
        settings_ = {
            **FAST,
            "FINEWS_LIST_URLS": ",".join(list_urls),
            "FINEWS_TEXT_URL": server.url("/text?id={info_code}"),
            "ARCHIVE_URI": archive,
            "RETRY_TIMES": "0",
            "DOWNLOAD_TIMEOUT": "60",  # a loaded CI machine must not turn a good text into a timeout
            "WARC_ENABLED": "False",
        }
        result = run_crawl("finews", settings_, timeout=120)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    run = result.run
    assert run["status"] == ("partial" if unusable else "complete"), (run["problems"], unusable)
    assert result.returncode == (1 if unusable else 0)
    articles = {r["source_id"] for r in read_table(archive, "articles").to_pylist()}
    quarantined = read_table(archive, "quarantine").to_pylist() if unusable or poisoned else []
    assert set(good) <= articles, (set(good) - articles, result.stderr[-2000:])
    by_code = {r["info_code_raw"]: r for r in quarantined if r["info_code_raw"]}
    for c in poisoned:
        assert (c in articles) != (c in by_code), c  # archived, or quarantined: exactly one
        if c in by_code:
            assert by_code[c]["reason"] in QUARANTINE_REASONS and by_code[c]["detail"]
    for c in listed:  # a generated record with a valid infoCode: archived or quarantined (maybe both)
        assert c in articles or c in by_code or any(c in (r["raw"] or "") for r in quarantined), c
    for path, reason in unusable.items():
        rows = [r for r in quarantined if r["stage"] == "list" and (r["url"] or "").endswith(path)]
        assert [r["reason"] for r in rows] == [reason], (path, rows)
