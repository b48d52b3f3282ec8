"""Process faults: kill -9 in the middle of a crawl, then rerun. No article lost, none
duplicated; what the dead run left is never rows anyone reads (its writer process deletes the
files it had not finished: tests/test_writer_process.py)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from newsarchive.samples.feedserver import Reply
from tests.helpers import FAST, ROOT, clean_env, open_catalog, read_table, run_crawl

N = 80


def code(n: int) -> str:
    return f"NW20220112{n:010d}"


def test_kill_9_mid_crawl_then_rerun(tmp_path, feed_server):
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
    archive = tmp_path / "archive"
    settings = {
        **FAST,
        "FINEWS_LIST_URLS": feed_server.url("/l?marketType=37"),
        "FINEWS_TEXT_URL": feed_server.url("/t?id={info_code}"),
        "ARCHIVE_URI": str(archive),
        "CONCURRENT_REQUESTS": "2",
        "PARQUET_ROW_GROUP_SIZE": "5",
    }
    args = [sys.executable, "-m", "newsarchive", "crawl", "finews"]
    for k, v in settings.items():
        args += ["-s", f"{k}={v}"]
    proc = subprocess.Popen(args, cwd=ROOT, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while feed_server.count("/t") < N // 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    fetched_before_kill = feed_server.count("/t")
    assert N // 2 <= fetched_before_kill < N
    # what the dead run left (its writer process deletes the files it had not finished, but may
    # still be at it): files in the table's location that no snapshot references
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
