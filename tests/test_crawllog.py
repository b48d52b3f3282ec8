"""The crawl log a scheduled task keeps: what the task log surfaces of it, the file's name."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive import crawllog

LOG = """\
2026-12-02 05:01:02 [scrapy.utils.log] INFO: Scrapy 2.19.0 started (bot: newsarchive)
2026-12-02 05:01:02 [scrapy.middleware] INFO: Enabled extensions:
['scrapy.extensions.corestats.CoreStats',
 'scrapy.extensions.logstats.LogStats']
2026-12-02 05:01:03 [newsarchive.spiders] WARNING: feed http://127.0.0.1:1/list answered 503
2026-12-02 05:01:04 [scrapy.core.scraper] ERROR: Error processing {'source_id': 'A1'}
Traceback (most recent call last):
  File "x.py", line 1, in f
ValueError: boom
2026-12-02 05:01:05 [scrapy.core.engine] INFO: Spider closed (finished)
"""


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "crawl.log"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_scan_counts_levels_and_keeps_warnings_and_errors_with_their_tracebacks(tmp_path):
    digest = crawllog.scan(write(tmp_path, LOG))
    assert digest.counts["INFO"] == 3 and digest.warnings == 1 and digest.errors == 1
    (wlevel, warning), (elevel, error) = digest.surfaced
    assert (wlevel, elevel) == ("WARNING", "ERROR")
    assert warning.endswith("answered 503") and "\n" not in warning
    assert error.splitlines()[0].endswith("Error processing {'source_id': 'A1'}")
    assert error.splitlines()[-1] == "ValueError: boom"  # the traceback belongs to its record
    assert digest.more == 0 and digest.lines == len(LOG.splitlines())


def test_scan_is_bounded_and_says_how_much_it_left_out(tmp_path):
    many = "".join(f"2026-12-02 05:01:0{i % 10} [x] ERROR: failure {i}\n" + "  detail\n" * 50 for i in range(30))
    digest = crawllog.scan(write(tmp_path, many), limit=5, record_lines=3)
    assert len(digest.surfaced) == 5 and digest.more == 25 and digest.errors == 30
    assert all(len(text.splitlines()) == 3 for _, text in digest.surfaced)


def test_a_log_of_another_format_is_counted_not_surfaced(tmp_path):
    digest = crawllog.scan(write(tmp_path, "ERROR something\nplain line\n"))
    assert digest.surfaced == [] and digest.errors == 0 and digest.lines == 2


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000))
def test_scan_reads_any_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("log") / "any.log"
    path.write_bytes(data)
    digest = crawllog.scan(path)
    assert len(digest.surfaced) + digest.more == digest.errors + digest.warnings
    assert sum(digest.counts.values()) <= digest.lines


def test_log_key_is_the_runs_beijing_start_day_beside_its_warc_files():
    # 20:00 UTC on Dec 1 is Dec 2 in Beijing, as the run's WARC files say (warc/date=2026-12-02/…)
    assert crawllog.log_key("20261201T200000Z-0a1b2c3d") == "date=2026-12-02/20261201T200000Z-0a1b2c3d.log"
    for bad in ("../x", "a/b", ""):
        try:
            crawllog.log_key(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")


def test_publish_names_the_log_by_its_run_or_marks_it_norun(tmp_path):
    pending = crawllog.pending_path(tmp_path, "finews")
    pending.parent.mkdir(parents=True)
    pending.write_text("x")
    assert pending.name.startswith(".")  # hidden while the crawl writes it: never uploaded
    assert crawllog.local_logs(tmp_path) == []
    final = crawllog.publish(pending, tmp_path, "20261202T050000Z-00000000", "finews")
    assert final == tmp_path / "logs/date=2026-12-02/20261202T050000Z-00000000.log" and final.read_text() == "x"
    other = crawllog.pending_path(tmp_path, "finews")
    other.write_text("y")
    norun = crawllog.publish(other, tmp_path, None, "finews")
    assert norun.name.startswith("finews-") and norun.name.endswith("-norun.log")
    assert crawllog.local_logs(tmp_path) == sorted([final, norun])
