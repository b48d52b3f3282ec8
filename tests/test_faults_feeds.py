"""Fault injection, feed side: every fault a source throws, in one run, and nothing lost.

The site (tests/fault_plan.py) serves good articles among 5xx bursts, timeouts, resets,
truncated and invalid JSON, empty bodies, HTML error pages with status 200, wrong content
types, oversized bodies, duplicated records, hostile infoCodes, bad times, a redirect to
another host and a feed that is down for the whole run. docs/reliability.md holds the
table of faults and the figures this test computes.
"""

from __future__ import annotations

import re

import pyarrow.parquet as pq
import pytest

from newsarchive.samples.feedserver import FeedServer
from tests.fault_plan import build, code
from tests.helpers import ROOT, open_catalog, rows, run_crawl

DOC = ROOT / "docs" / "reliability.md"
HOSTILE = ("etc/passwd", "<script>", "OR '1'='1", "../", "%2e%2e")


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    with FeedServer() as server:
        site = build(server)
        archive = tmp_path_factory.mktemp("faults") / "archive"
        first = run_crawl("finews", {**site.settings(), "ARCHIVE_URI": archive}, timeout=300)
        requests_first = list(server.requests)
        second = run_crawl("finews", {**site.settings(), "ARCHIVE_URI": archive}, timeout=300)
        yield site, archive, first, second, requests_first, list(server.requests)


def figures(site, archive) -> dict[str, int]:
    articles = rows(archive, "articles")
    archived = {r["source_id"] for r in articles}
    return {
        "faults tried": len(site.faults),
        "articles expected": len(site.good),
        "articles archived": len(archived & site.good),
        "rows archived": len(articles),
        "quarantined (first run)": len(site.expected),
        "lost": len(site.good - archived),
    }


def test_the_run_finishes_partial_and_says_why(faulty):
    site, _, first, _, _, _ = faulty
    assert first.returncode == 1
    m = first.run
    assert m["status"] == "partial" and m["finish_reason"] == "finished"
    assert len(m["problems"]) == sum(1 for f in site.faults if f.where == "list" and f.reason)
    assert any("/down" in p for p in m["problems"])


def test_every_good_article_is_archived_exactly_once(faulty):
    site, archive, _, _, _, _ = faulty
    articles = rows(archive, "articles")
    ids = [r["source_id"] for r in articles]
    assert sorted(ids) == sorted(site.good)  # all of them, once, after two runs
    assert len(ids) == len(set(ids))


def test_one_text_request_per_info_code_despite_duplicates(faulty):
    _, _, _, _, requests_first, _ = faulty
    texts = [p for _, p, _ in requests_first if p.startswith("/text?")]
    assert texts.count(f"/text?id={code(1)}") == 1  # listed three times, in two feeds


def test_every_fault_is_quarantined_with_the_reason_that_names_it(faulty):
    site, archive, first, _, _, _ = faulty
    found = [r for r in rows(archive, "quarantine") if r["run_id"] == first.summary["run_id"]]
    assert len(found) == len(site.expected)
    for stage, reason, key in site.expected:
        match = [
            r
            for r in found
            if r["stage"] == stage
            and r["reason"] == reason
            and (
                not key
                or r["info_code_raw"] == key
                or (r["url"] or "").split("127.0.0.1", 1)[-1].endswith(key)
                or (r["url"] or "").endswith(key)
            )
        ]
        assert match, (stage, reason, key)
        assert all(r["detail"] for r in match)


def test_poison_input_is_named_in_the_detail(faulty):
    """Deep JSON, huge numbers, bad bytes, compression bombs and cut chunked bodies: the
    detail says what was wrong (the field, the encoding and byte offset, the cut)."""
    site, archive, first, _, _, _ = faulty
    found = [r for r in rows(archive, "quarantine") if r["run_id"] == first.summary["run_id"]]
    for key, words in site.details.items():
        match = [r for r in found if r["info_code_raw"] == key or (r["url"] or "").endswith(key)]
        assert match and all(words in r["detail"] for r in match), (key, words, [r["detail"] for r in match])


def test_hostile_info_codes_never_reach_a_url_or_a_file_name(faulty):
    site, archive, _, _, _requests_first, requests_all = faulty
    for _, path, _ in requests_all:
        assert not any(h in path for h in HOSTILE), path
    for p in archive.rglob("*"):
        assert not any(h in p.name for h in HOSTILE), p
    assert not any(path.startswith(site.trap_path) for _, path, _ in requests_all)  # offsite never contacted


def test_a_rerun_retries_failed_texts_but_adds_no_duplicate(faulty):
    site, archive, _first, second, requests_first, requests_all = faulty
    assert second.returncode == 1 and second.run["status"] == "partial"  # the feed is still down
    assert second.run["articles_written"] == 0
    new = [p for _, p, _ in requests_all[len(requests_first) :] if p.startswith("/text?")]
    assert f"/text?id={code(1)}" not in new  # archived: not fetched again
    assert f"/text?id={code(21)}" in new  # failed last time: tried again
    # the same bad records are not quarantined twice: counted as repeats instead
    bad_records = [e for e in site.expected if e[1] in ("invalid_info_code", "missing_time", "bad_record")]
    assert second.run["counts"]["quarantine_repeats"] >= len(bad_records)
    again = [r for r in rows(archive, "quarantine") if r["run_id"] == second.summary["run_id"]]
    assert not [r for r in again if r["reason"] in ("invalid_info_code", "missing_time", "bad_record")]


def test_reliability_doc_holds_the_figures_of_this_run(faulty):
    site, archive, _, _, _, _ = faulty
    got = figures(site, archive)
    assert got["lost"] == 0
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- figures:begin -->(.*?)<!-- figures:end -->", text, re.S)
    assert block, "docs/reliability.md lacks its figures block"
    doc = {m[0].strip(): int(m[1]) for m in re.findall(r"\|\s*([^|]+?)\s*\|\s*(\d+)\s*\|", block[1])}
    assert doc == got, f"docs/reliability.md is stale; this run measured {got}"
    for f in site.faults:
        assert f.name in text, f"fault {f.name!r} missing from the table"


def test_quarantine_files_are_valid_parquet(faulty):
    _, archive, _, _, _, _ = faulty
    files = open_catalog(archive).load_table(("newsarchive", "quarantine")).inspect.files().to_pylist()
    assert files
    for f in files:
        assert pq.read_metadata(f["file_path"].removeprefix("file://")).num_rows == f["record_count"] > 0
