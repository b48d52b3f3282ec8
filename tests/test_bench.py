"""The benchmark harness: its data generator is deterministic and speaks the feed formats,
and ``python -m bench --tiny`` runs every benchmark end to end and writes valid results.

Nothing here asserts a timing: performance is measured by ``make bench``, never by tests.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter

import pytest

from bench.b_crawl import bracket_ratios, bracketed
from bench.feeds import PAGE, build
from bench.generator import stories
from bench.report import BEGIN, END, ORDER
from newsarchive.htmltext import text_and_credit
from newsarchive.ids import valid_info_code
from newsarchive.timeparse import parse_beijing
from spiders.finews_feeds import parse_list, parse_text, read_record
from tests.helpers import ROOT, clean_env


def digest(n: int, seed: int = 7) -> str:
    h = hashlib.sha256()
    for s in stories(n, seed):
        h.update(f"{s.info_code}\x00{s.title}\x00{s.media}\x00{s.time}\x00{s.html}\x00{s.digest}\x01".encode())
    return h.hexdigest()


def test_generator_makes_the_same_bytes_every_time():
    assert digest(300) == digest(300)
    assert digest(300) != digest(300, seed=8)
    # a bigger universe extends a smaller one: the first articles stay the same
    assert [s.html for s in stories(50, 7)] == [s.html for s in stories(300, 7)][:50]


def test_generated_articles_look_like_the_real_ones():
    generated = list(stories(400))
    assert len({s.info_code for s in generated}) == 400
    assert all(valid_info_code(s.info_code) for s in generated)
    assert all(parse_beijing(s.time) is not None for s in generated)
    sizes = sorted(len(s.html.encode()) for s in generated)
    assert sizes[0] >= 1000 and sizes[-1] <= 12 * 1024 and 2500 <= sizes[200] <= 5500  # 1-10 KB, median ~3.5
    credited = [text_and_credit(s.html) for s in generated]
    assert sum(media is not None for _, _, media in credited) > 350
    assert all(media in (None, s.media) for (_, _, media), s in zip(credited, generated, strict=True))
    assert any("　　" in s.html for s in generated) and any("<strong>" in s.html for s in generated)
    assert any("&lt;" in s.html for s in generated) and any("EM_StockImg_Start" in s.html for s in generated)
    assert all(text for text, _, _ in credited)
    assert len(Counter(s.media for s in generated)) >= 15


def test_feed_pages_speak_every_family_and_hold_at_most_100_records():
    universe = build(stories(1600))
    families = Counter()
    listed: Counter[str] = Counter()
    for page in universe.pages:
        feed, raws = parse_list(page.body, "http://x" + page.path)
        assert 0 < len(raws) <= PAGE
        families[feed.split("-")[0]] += 1
        for position, raw in enumerate(raws):
            rec = read_record(raw, feed, page.path, position)
            assert rec is not None and rec.info_code and rec.title and rec.published_at
            listed[rec.info_code] += 1
    assert set(families) == {"market", "rolling", "media"}
    assert len(listed) == 1600 and max(listed.values()) == 2  # media pages repeat some articles
    assert len(universe.texts) == 1600
    body = next(iter(universe.texts.values()))
    assert parse_text(body).startswith("<")


def test_rerun_scale_archive_holds_the_listed_articles_and_a_history_it_never_lists(tmp_path):
    """The archive a rerun_scale rerun runs against: built commit by commit, each with its
    runs row (so the rerun recovers nothing), maintained, holding every listed article and
    history rows whose ids no list names."""
    from bench.b_rerun import build_archive, history_rows
    from bench.rows import rows
    from newsarchive.tables.lookup import archived
    from tests.helpers import open_catalog

    listed = [s.info_code for s in stories(100)]
    history = [r["source_id"] for r in history_rows(next(rows(1)), 0, 250, "r")]
    assert len(set(history)) == 250 and all(valid_info_code(i) for i in history)
    assert not set(history) & {s.info_code for s in stories(1000)}  # not even a bigger universe's
    archive = build_archive(tmp_path / "a", 350, 100, 100, lambda _: None)
    assert (archive.rows, archive.commits) == (350, 4)  # 250 of history in 3 commits, then the 100
    catalog = open_catalog(tmp_path / "a")
    articles = catalog.load_table(("newsarchive", "articles"))
    assert archived(articles, "finews", listed + history[:5] + ["NW202201039999999999"]) == set(listed + history[:5])
    runs = catalog.load_table(("newsarchive", "runs")).scan().to_arrow()
    assert runs.num_rows == 4 and sorted(runs.column("articles_written").to_pylist()) == [50, 100, 100, 100]
    by_run = articles.scan(selected_fields=("run_id",)).to_arrow().column("run_id").to_pylist()
    assert set(by_run) == set(runs.column("run_id").to_pylist())
    assert archive.compaction["articles"]["files_after"] == archive.files  # one file per partition
    assert archive.compaction["articles"]["files_before"] > archive.files


def test_every_ratio_crawl_sits_between_two_bare_crawls_and_is_divided_by_their_mean():
    order = bracketed(["noop", "full", "warc"], 3)
    assert order[0] == order[-1] == "bare" and order[1::2] == [
        "noop",
        "full",
        "warc",
        "full",
        "warc",
        "noop",
        "warc",
        "noop",
        "full",
    ]
    assert all(v == "bare" for v in order[::2])
    # a machine slowing down linearly: bare 100, 90, 80, ...; each variant at 0.9 of bare at its time
    rate = {i: (100 - 5 * i) * (0.9 if v != "bare" else 1.0) for i, v in enumerate(order)}
    ratios = bracket_ratios(order, list(range(len(order))), rate.__getitem__)
    assert set(ratios) == {"noop", "full", "warc"}
    assert all(len(r) == 3 and all(abs(x - 0.9) < 1e-9 for x in r) for r in ratios.values())
    with pytest.raises(ValueError, match="between two bare runs"):
        bracket_ratios(["bare", "full", "noop", "bare"], [1, 2, 3, 4], float)
    with pytest.raises(ValueError, match="between two bare runs"):  # not the last run wrapped round
        bracket_ratios(["full", "bare"], [1, 2], float)


@pytest.mark.slow
def test_tiny_benchmark_run_writes_results_table_and_chart(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# Benchmarks\n\nbefore\n\n{BEGIN}\nold table\n{END}\n\nafter\n", encoding="utf-8")
    out, chart = tmp_path / "latest.json", tmp_path / "chart.png"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--out", str(out), "--docs", str(docs), "--chart", str(chart)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["mode"] == "tiny" and report["machine"]["cpu_count"] >= 1
    assert set(report["results"]) == set(ORDER)
    for name, result in report["results"].items():
        assert "error" not in result and result["value"] is not None, name
    # what is counted, not timed: a second run over unchanged feeds asks for the lists only
    rerun = report["results"]["rerun_requests"]
    assert rerun["met"] is True and rerun["details"]["server_saw"]["text"] == 0
    scale = report["results"]["rerun_scale_time_ratio"]["details"]
    assert scale["big_archive"]["rows"] > scale["small_archive"]["rows"] >= scale["listed_articles"]
    for crawl in scale["runs"]["small"] + scale["runs"]["big"]:
        kinds = crawl["requests_by_kind"]
        assert set(kinds) == {"list", "robots"} and kinds["list"] == scale["list_urls"] and crawl["written"] == 0
    text = docs.read_text(encoding="utf-8")
    assert "old table" not in text and text.startswith("# Benchmarks\n\nbefore") and text.endswith("after\n")
    assert "| `pipeline_vs_bare_ratio` |" in text and "Mode **tiny**" in text
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
