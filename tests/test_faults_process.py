"""Process faults: kill -9 in the middle of a crawl, then rerun. No article lost, none
duplicated; what the dead run left is never rows anyone reads (its writer process deletes the
files it had not finished, and exits). The writer killed instead fails the run, which says so;
the rerun archives every article once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from newsarchive.samples.feedserver import Reply
from newsarchive.writer.client import WRITE_FAILED
from tests.helpers import FAST, ROOT, clean_env, open_catalog, read_table, run_crawl, run_row

N = 80


def code(n: int) -> str:
    return f"NW20220112{n:010d}"


def slow_finews(feed_server, archive: Path) -> tuple[dict[str, str], dict[str, Reply]]:
    """N articles whose texts answer slowly (a crawl long enough to kill mid-way)."""
    records = [
        {
            "infoCode": code(n),
            "medianame": "澎湃新闻",
            "datetime": f"2022-01-{10 + n % 3:02d} 10:00:00",
            "title": f"标题{n}",
        }
        for n in range(N)
    ]
    feed_server.add("/l?marketType=37", json.dumps({"record": records}, ensure_ascii=False).encode())
    slow = {
        code(n): Reply(body=json.dumps({"text": f"<p>正文{n}</p>"}, ensure_ascii=False).encode(), delay=0.15)
        for n in range(N)
    }
    feed_server.add_handler("/t", lambda path, query: slow[query["id"]])
    settings = {
        **FAST,
        "FINEWS_LIST_URLS": feed_server.url("/l?marketType=37"),
        "FINEWS_TEXT_URL": feed_server.url("/t?id={info_code}"),
        "ARCHIVE_URI": str(archive),
        "CONCURRENT_REQUESTS": "2",
        "PARQUET_ROW_GROUP_SIZE": "5",
    }
    return settings, slow


def crawl_until(feed_server, settings: dict[str, str], texts: int, stdout: int) -> subprocess.Popen[str]:
    """``newsarchive crawl finews`` started, once it has fetched ``texts`` texts (60 s at most)."""
    args = [sys.executable, "-m", "newsarchive", "crawl", "finews"]
    for k, v in settings.items():
        args += ["-s", f"{k}={v}"]
    proc = subprocess.Popen(args, cwd=ROOT, env=clean_env(), stdout=stdout, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    while feed_server.count("/t") < texts and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


def writers_of(pid: int) -> list[int]:
    """The crawl's writer processes (``python -m newsarchive.writer``, children of the crawler)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        kids = [int(p) for p in f.read().split()]
    return [k for k in kids if b"newsarchive.writer" in Path(f"/proc/{k}/cmdline").read_bytes()]


def test_kill_9_mid_crawl_then_rerun(tmp_path, feed_server):
    archive = tmp_path / "archive"
    settings, slow = slow_finews(feed_server, archive)
    proc = crawl_until(feed_server, settings, N // 2, stdout=subprocess.DEVNULL)
    writers = writers_of(proc.pid)
    assert len(writers) == 1
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    fetched_before_kill = feed_server.count("/t")
    assert N // 2 <= fetched_before_kill < N
    gone = time.monotonic() + 30  # the orphaned writer sees its pipe close, deletes its files, exits
    while Path(f"/proc/{writers[0]}").exists() and time.monotonic() < gone:
        time.sleep(0.05)
    assert not Path(f"/proc/{writers[0]}").exists()
    assert not list((archive / "warehouse").rglob("*.parquet"))
    assert not [p for p in (archive / "warc").rglob("*") if p.is_file()]
    written = {p.as_uri() for p in (archive / "warehouse").rglob("*.parquet")}
    for name in ("articles", "quarantine", "runs"):
        assert read_table(archive, name).num_rows == 0, name
    for name in list(slow):
        slow[name].delay = 0
    rerun = run_crawl("finews", settings)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    rows = read_table(archive, "articles", selected_fields=("source_id", "run_id"))
    assert sorted(rows["source_id"].to_pylist()) == sorted(code(n) for n in range(N))  # none lost, none twice
    assert set(rows["run_id"].to_pylist()) == {rerun.summary["run_id"]}
    assert rerun.run["articles_written"] == N and rerun.run["status"] == "complete"
    table = open_catalog(archive).load_table(("newsarchive", "articles"))
    committed = set(table.inspect.files()["file_path"].to_pylist())
    assert not written & committed  # whatever the dead run left stays unreferenced


def test_the_writer_killed_mid_crawl_fails_the_run_and_the_rerun_archives_each_once(tmp_path, feed_server):
    archive = tmp_path / "archive"
    settings, slow = slow_finews(feed_server, archive)
    proc = crawl_until(feed_server, settings, N // 3, stdout=subprocess.PIPE)
    [writer] = writers_of(proc.pid)
    signal_sent = time.monotonic()
    os.kill(writer, signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    summary = json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])
    assert proc.returncode != 0 and summary["status"] == "failed"
    assert feed_server.count("/t") < N  # the crawl stopped: nothing fetched for nothing
    assert time.monotonic() - signal_sent < 30
    failed = run_row(archive, summary["run_id"])
    assert (failed["status"], failed["finish_reason"]) == ("failed", WRITE_FAILED)
    assert any("writer process ended" in p for p in failed["problems"]), failed["problems"]
    assert read_table(archive, "articles").num_rows == failed["articles_written"] == 0
    for name in list(slow):
        slow[name].delay = 0
    rerun = run_crawl("finews", settings)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    rows = read_table(archive, "articles", selected_fields=("source_id",))
    assert sorted(rows["source_id"].to_pylist()) == sorted(code(n) for n in range(N))  # none lost, none twice
