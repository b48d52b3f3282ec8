"""finews ships no default hosts (issue 16): unconfigured, both crawl commands refuse in one
line and send nothing; the DAG and the jobs leave it out.

The original script's hosts are gone. No test here may reach them, so every crawl runs with
``http_proxy``/``https_proxy`` pointing at a local socket that only listens (a *trap*): a
request the crawl sends, to whatever host, becomes a connection waiting there, which the
test sees. Nothing can leave 127.0.0.1 through it.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsarchive import settings as project_settings
from newsarchive.config import setting
from tests.helpers import FAST, ROOT, clean_env

NAMES = ("FINEWS_LIST_URLS", "FINEWS_TEXT_URL")


class Trap:
    """A listening socket on 127.0.0.1 that never answers: every connection attempted to it
    waits in its backlog until :meth:`connections` takes it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def connections(self) -> int:
        n = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return n
            conn.close()
            n += 1


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.sock.close()


def trapped_env(trap: Trap, **extra: str) -> dict[str, str]:
    """No NEWSARCHIVE_* from the test process; every proxied scheme goes to the trap."""
    env = {k: v for k, v in clean_env(**extra).items() if k.lower() not in ("no_proxy", "all_proxy")}
    env.update(http_proxy=trap.url, https_proxy=trap.url, HTTP_PROXY=trap.url, HTTPS_PROXY=trap.url)
    return env


def run(command: str, settings: dict[str, str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``newsarchive crawl finews`` or ``scrapy crawl finews`` as a real subprocess."""
    head = ["newsarchive", "crawl"] if command == "newsarchive" else ["scrapy", "crawl"]
    args = [sys.executable, "-m", *head, "finews"]
    for name, value in {**FAST, "RETRY_TIMES": "0", **settings}.items():
        args += ["-s", f"{name}={value}"]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


def refusal_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "FINEWS_LIST_URLS" in line or "FINEWS_TEXT_URL" in line]


UNCONFIGURED = {
    "nothing set": ({}, {}),
    "only the lists": ({"FINEWS_LIST_URLS": "http://127.0.0.2:9/l"}, {}),
    "only the text": ({"FINEWS_TEXT_URL": "http://127.0.0.2:9/t?id={info_code}"}, {}),
    "blank on the command line": ({"FINEWS_LIST_URLS": "", "FINEWS_TEXT_URL": " "}, {}),
    "blank in the environment": ({}, {"NEWSARCHIVE_FINEWS_LIST_URLS": " , ", "NEWSARCHIVE_FINEWS_TEXT_URL": ""}),
}


@pytest.mark.parametrize("command", ["newsarchive", "scrapy"])
@pytest.mark.parametrize("case", list(UNCONFIGURED), ids=list(UNCONFIGURED))
def test_unconfigured_finews_stops_in_one_line_and_sends_nothing(command, case, trap, tmp_path):
    settings, env = UNCONFIGURED[case]
    archive = tmp_path / "archive"
    proc = run(command, {**settings, "ARCHIVE_URI": str(archive)}, trapped_env(trap, **env))
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = refusal_lines(proc.stderr)
    assert len(lines) == 1, proc.stderr[-3000:]
    assert all(name in lines[0] for name in NAMES) and "not configured" in lines[0]
    assert "Traceback" not in proc.stderr and "never retrieved" not in proc.stderr
    assert trap.connections() == 0  # no request left, to any host
    assert not archive.exists()  # no run was started either
    assert not [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]  # no run summary


def test_scrapy_crawl_on_the_twisted_process_stops_in_one_line_too(trap, tmp_path):
    """``FORCE_CRAWLER_PROCESS``: Scrapy's crawl is then a Deferred, not an asyncio task."""
    archive = tmp_path / "archive"
    proc = run("scrapy", {"FORCE_CRAWLER_PROCESS": "True", "ARCHIVE_URI": str(archive)}, trapped_env(trap))
    assert proc.returncode == 2 and len(refusal_lines(proc.stderr)) == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and trap.connections() == 0 and not archive.exists()


def test_the_trap_sees_a_crawl_that_sends(trap, tmp_path):
    """The check above can fail: a configured crawl's requests do reach the trap."""
    settings = {
        "FINEWS_LIST_URLS": "http://127.0.0.2:9/l",
        "FINEWS_TEXT_URL": "http://127.0.0.2:9/t?id={info_code}",
        "ROBOTSTXT_OBEY": "False",
        "DOWNLOAD_TIMEOUT": "2",
        "ARCHIVE_URI": str(tmp_path / "archive"),
    }
    proc = run("newsarchive", settings, trapped_env(trap))
    assert proc.returncode == 1, proc.stderr[-3000:]  # the list timed out: failed
    assert trap.connections() >= 1


def test_scrapy_crawl_still_reports_other_bad_settings_in_one_line(trap, tmp_path):
    settings = {"FINEWS_LIST_URLS": "http://127.0.0.2:9/l", "FINEWS_TEXT_URL": "http://127.0.0.2:9/t"}
    proc = run("scrapy", {**settings, "ARCHIVE_URI": str(tmp_path / "a")}, trapped_env(trap))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert [ln for ln in proc.stderr.splitlines() if "must contain {info_code}" in ln] != []
    assert trap.connections() == 0


# --- settings -----------------------------------------------------------------------


def test_finews_has_no_default_hosts():
    from newsarchive.config import REQUIRED_SETTINGS

    for name in ("FINEWS_LIST_URLS", "FINEWS_TEXT_URL", "FINEWS_SHARE_URL"):
        assert not project_settings._defaults[name], name
        assert not setting(name, {}), name
    assert setting("SPIDERS", {}) == ["eastmoney"]
    assert REQUIRED_SETTINGS["finews"] == NAMES


@pytest.mark.parametrize(
    ("lists", "text", "missing"),
    [
        (None, None, list(NAMES)),
        ([], "", list(NAMES)),
        ([""], "http://h/t?id={info_code}", ["FINEWS_LIST_URLS"]),
        (" , ", "http://h/t?id={info_code}", ["FINEWS_LIST_URLS"]),
        ("http://h/l", "  ", ["FINEWS_TEXT_URL"]),
        (["http://h/l"], "http://h/t?id={info_code}", []),
        ("http://h/l,http://h/m", "http://h/t?id={info_code}", []),
    ],
)
def test_finews_is_configured_when_both_settings_are_set(lists, text, missing):
    from newsarchive.config import missing_settings

    values = {"FINEWS_LIST_URLS": lists, "FINEWS_TEXT_URL": text}
    assert missing_settings("finews", values.get) == missing
    assert missing_settings("eastmoney", values.get) == []  # it needs nothing: public defaults


def test_the_message_names_both_settings_and_what_is_unset():
    from newsarchive.config import not_configured_message

    both = not_configured_message("finews", list(NAMES))
    assert all(name in both for name in NAMES) and "unset" not in both
    one = not_configured_message("finews", ["FINEWS_TEXT_URL"])
    assert all(name in one for name in NAMES) and "FINEWS_TEXT_URL unset" in one
    assert "\n" not in one


def test_environment_configures_finews():
    from newsarchive.config import missing_settings

    env = {
        "NEWSARCHIVE_FINEWS_LIST_URLS": "http://a/1, http://b/2",
        "NEWSARCHIVE_FINEWS_TEXT_URL": "http://t/{info_code}",
    }
    assert missing_settings("finews", lambda name: setting(name, env)) == []


# --- the DAG and the jobs -----------------------------------------------------------


def clear_finews_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*NAMES, "FINEWS_SHARE_URL", "SPIDERS"):
        monkeypatch.delenv(f"NEWSARCHIVE_{name}", raising=False)


def logged(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The log lines of the call, wherever they went (once Airflow is imported, its
    structlog setup prints them instead of passing them to pytest's handler)."""
    out = capsys.readouterr()
    lines = [*caplog.text.splitlines(), *out.out.splitlines(), *out.err.splitlines()]
    caplog.clear()
    return lines


def test_jobs_schedule_finews_only_when_configured(monkeypatch, caplog, capsys):
    from newsarchive.jobs import scheduled_spiders

    clear_finews_env(monkeypatch)
    caplog.set_level(logging.WARNING, logger="newsarchive.jobs")
    assert scheduled_spiders() == ["eastmoney"]  # the default
    assert not [ln for ln in logged(caplog, capsys) if "not scheduling" in ln]
    monkeypatch.setenv("NEWSARCHIVE_SPIDERS", "finews,eastmoney,thepaper")
    assert scheduled_spiders() == ["eastmoney", "thepaper"]
    (line,) = [ln for ln in logged(caplog, capsys) if "not scheduling" in ln]
    assert "not scheduling finews" in line and all(n in line for n in NAMES)
    monkeypatch.setenv("NEWSARCHIVE_FINEWS_LIST_URLS", "http://127.0.0.2:9/l")
    assert scheduled_spiders() == ["eastmoney", "thepaper"]
    (line,) = [ln for ln in logged(caplog, capsys) if "not scheduling" in ln]
    assert "FINEWS_TEXT_URL unset" in line
    monkeypatch.setenv("NEWSARCHIVE_FINEWS_TEXT_URL", "http://127.0.0.2:9/t?id={info_code}")
    assert scheduled_spiders() == ["finews", "eastmoney", "thepaper"]
    assert not [ln for ln in logged(caplog, capsys) if "not scheduling" in ln]


def test_crawl_job_refuses_unconfigured_finews_before_crawling(monkeypatch, tmp_path):
    from newsarchive import jobs

    clear_finews_env(monkeypatch)
    monkeypatch.setenv("NEWSARCHIVE_STAGING_DIR", str(tmp_path / "staging"))
    monkeypatch.setenv("NEWSARCHIVE_UPLOAD_URI", "")

    def no_subprocess(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the crawl must not start")

    monkeypatch.setattr(jobs, "run_command", no_subprocess)
    with pytest.raises(jobs.NotConfiguredError, match="FINEWS_LIST_URLS and FINEWS_TEXT_URL"):
        jobs.crawl_and_upload("finews", "manual__1")
    assert not (tmp_path / "staging").exists()


def mapped_spiders() -> list[str]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    crawl = bag.dags["news_crawl"].get_task("crawl")
    return list(crawl.op_kwargs_expand_input.value["spider"])


def test_news_crawl_dag_maps_finews_only_when_configured(monkeypatch, caplog, capsys):
    clear_finews_env(monkeypatch)
    caplog.set_level(logging.WARNING, logger="newsarchive.jobs")
    assert mapped_spiders() == ["eastmoney"]
    monkeypatch.setenv("NEWSARCHIVE_SPIDERS", "finews,eastmoney")
    logged(caplog, capsys)
    assert mapped_spiders() == ["eastmoney"]
    assert [ln for ln in logged(caplog, capsys) if "not scheduling finews" in ln]
    monkeypatch.setenv("NEWSARCHIVE_FINEWS_LIST_URLS", "http://127.0.0.2:9/l")
    monkeypatch.setenv("NEWSARCHIVE_FINEWS_TEXT_URL", "http://127.0.0.2:9/t?id={info_code}")
    assert mapped_spiders() == ["finews", "eastmoney"]


# The compose file's defaults (finews and eastmoney on its `samples` service, no public host):
# tests/test_scheduler.py::test_the_compose_defaults_point_every_spider_at_the_samples_service_only


def test_no_default_names_a_public_finews_host():
    text = Path(project_settings.__file__).read_text(encoding="utf-8")
    for host in ("183.136.162.242", "43.240.125.15", "finews.zning.xyz/NewsData"):
        assert host not in text


def test_serve_samples_prints_settings_that_configure_every_spider(tmp_path):
    """What ``serve-samples`` prints is enough to crawl it: finews gets both hosts."""
    import json

    from newsarchive.config import missing_settings
    from tests.helpers import run_crawl

    proc = subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "serve-samples", "--port", "0", "--settings-json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        sites = json.loads(proc.stdout.readline())
        assert set(sites) >= {"finews", "eastmoney", "thepaper"}
        assert missing_settings("finews", sites["finews"].get) == []
        assert all("127.0.0.1" in u for u in sites["finews"]["FINEWS_LIST_URLS"].split(","))
        result = run_crawl("finews", {**FAST, **sites["finews"], "ARCHIVE_URI": tmp_path})
        assert result.returncode == 0 and result.summary["articles_written"] == 44
    finally:
        proc.terminate()
        proc.wait(timeout=30)
