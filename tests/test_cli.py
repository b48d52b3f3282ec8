"""The newsarchive command on a console: a short log by default, -v for more, a LOG_FILE with the
full log, progress only on a terminal, one summary line, plain --help, and why there is
nothing to do. Crawls run as subprocesses against the local sample feeds; the rest in process.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import select
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from newsarchive.cli import build_parser, plain
from newsarchive.cli.console import ConsoleFormatter, Meter
from newsarchive.cli.crawl import console_level, summary_line, unreachable_note
from tests.helpers import ROOT, clean_env, last_json, run_cli, s3_env

#: reStructuredText inline markup that must not reach --help.
RST = re.compile(r"``|:[a-z]+:`|`[^`\s][^`]*`|(?<![\w*])\*\w[^*\n]*\*(?!\w)")
#: A secret given on the command line: Scrapy logs the settings it was given at INFO.
SECRET = "hunter2-cli-Zq81x"
AUTH = {"HTTPAUTH_USER": "reader", "HTTPAUTH_PASS": SECRET, "HTTPAUTH_DOMAIN": "127.0.0.1"}
SAMPLE_ARTICLES, SAMPLE_QUARANTINED = 44, 2


def crawl(settings: dict[str, Any], *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "newsarchive", "crawl", "finews", *args]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env or clean_env(), cwd=ROOT)


@pytest.fixture(scope="module")
def quiet_settings(sample_server: Any) -> dict[str, Any]:
    """The sample feeds, fast, and no LOG_LEVEL: the console as a user gets it."""
    from newsarchive.samples.feedserver import finews_settings

    return {"AUTOTHROTTLE_ENABLED": "False", "RETRY_TIMES": "1", **finews_settings(sample_server)}


@pytest.fixture(scope="module")
def quiet_crawl(tmp_path_factory: pytest.TempPathFactory, quiet_settings: dict[str, Any]) -> Any:
    archive = tmp_path_factory.mktemp("quiet")
    proc = crawl({**quiet_settings, "ARCHIVE_URI": archive})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return archive, proc


# --- the default console --------------------------------------------------------------


def test_a_default_crawl_prints_a_few_lines_and_ends_with_json(quiet_crawl: Any) -> None:
    _, proc = quiet_crawl
    lines = proc.stderr.splitlines()
    assert len(lines) <= 10, proc.stderr
    assert not [ln for ln in lines if " INFO: " in ln or " DEBUG: " in ln], proc.stderr  # no Scrapy boilerplate
    summary = json.loads(proc.stdout.splitlines()[-1])  # the last line on stdout is the JSON summary
    assert summary["status"] == "complete" and summary["articles_written"] == SAMPLE_ARTICLES
    human = lines[-1]
    counts = f"{SAMPLE_ARTICLES} articles, {SAMPLE_QUARANTINED} quarantined"
    assert human.startswith(f"crawl finews: complete, {counts}, run {summary['run_id']}, "), human
    assert re.search(r", \d+\.\d s$", human), human
    # not a terminal: no progress line, no escape sequence
    assert "\x1b[" not in proc.stderr and "requests," not in proc.stderr


def test_verbose_shows_scrapys_info_and_the_secret_stays_masked(tmp_path: Path, quiet_settings: dict[str, Any]) -> None:
    proc = crawl({**quiet_settings, "ARCHIVE_URI": tmp_path, **AUTH}, "-v")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[scrapy.utils.log] INFO: Scrapy" in proc.stderr and "Enabled extensions" in proc.stderr
    assert "Dumping Scrapy stats" in proc.stderr and " DEBUG: " not in proc.stderr
    assert "HTTPAUTH_PASS" in proc.stderr and SECRET not in proc.stderr + proc.stdout  # logged, masked
    assert json.loads(proc.stdout.splitlines()[-1])["status"] == "complete"


def test_a_log_file_gets_the_full_log_whatever_the_console_shows(
    tmp_path: Path, quiet_settings: dict[str, Any]
) -> None:
    """What the Airflow job runs: -s LOG_FILE=...; the file has the INFO log, the console warnings+."""
    log = tmp_path / "crawl.log"
    settings = {**quiet_settings, "ARCHIVE_URI": tmp_path / "a", "LOG_FILE": log, **AUTH}
    proc = crawl({**settings, "LOG_LEVEL": "INFO"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = log.read_text(encoding="utf-8")
    for line in (
        "INFO: Scrapy",
        "Enabled item pipelines",
        "Spider opened",
        "Dumping Scrapy stats",
        "WARNING: Quarantined",
    ):
        assert line in text, line
    assert "HTTPAUTH_PASS" in text and SECRET not in text  # redaction applies to the file handler too
    assert " INFO: " not in proc.stderr and len(proc.stderr.splitlines()) <= 10, proc.stderr
    assert "WARNING: Quarantined" in proc.stderr  # warnings still reach the console
    assert json.loads(proc.stdout.splitlines()[-1])["status"] == "complete"


def test_progress_is_drawn_on_a_terminal(tmp_path: Path, quiet_settings: dict[str, Any]) -> None:
    """stderr a pseudo-terminal: a live line with the counts; stdout still only the JSON line."""
    master, slave = os.openpty()
    cmd = [sys.executable, "-m", "newsarchive", "crawl", "finews"]
    for name, value in {**quiet_settings, "ARCHIVE_URI": tmp_path}.items():
        cmd += ["-s", f"{name}={value}"]
    env = clean_env(COLUMNS="160", TERM="xterm")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, text=True, env=env, cwd=ROOT)
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:  # a pty's buffer is small: read while the crawl writes
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    stdout, _ = proc.communicate(timeout=180)
    reader.join(timeout=10)
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, screen[-3000:]
    assert "crawl finews" in screen and re.search(r"\d+ requests, \d+ responses, \d+ articles", screen), screen[-2000:]
    assert "\x1b[" in screen  # drawn and erased by rich
    assert f"{SAMPLE_ARTICLES} articles" in screen.splitlines()[-1]  # the summary line stays
    assert json.loads(stdout.splitlines()[-1])["articles_written"] == SAMPLE_ARTICLES
    assert "\x1b[" not in stdout


# --- saying why there is nothing to do ----------------------------------------------------


def test_an_unconfigured_spider_says_what_to_set(tmp_path: Path) -> None:
    proc = run_cli("crawl", "finews", "-s", f"ARCHIVE_URI={tmp_path / 'a'}")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "newsarchive crawl: spider 'finews' is not configured: set FINEWS_LIST_URLS and FINEWS_TEXT_URL "
        "(NEWSARCHIVE_<NAME> or -s NAME=VALUE): finews ships no default hosts"
    ]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_host_refusing_connections_is_named_in_the_summary(tmp_path: Path) -> None:
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    settings = {
        "ARCHIVE_URI": tmp_path,
        "AUTOTHROTTLE_ENABLED": "False",
        "RETRY_TIMES": "0",
        "FINEWS_LIST_URLS": f"{base}/web/webapi?type=102",
        "FINEWS_TEXT_URL": base + "/t?id={info_code}",
    }
    proc = crawl(settings)
    assert proc.returncode == 1
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert summary["status"] == "failed"
    assert summary["note"] == f"the feeds could not be reached: 127.0.0.1:{port} (connection_error)"
    assert proc.stderr.splitlines()[-1].endswith(
        f"; the feeds could not be reached: 127.0.0.1:{port} (connection_error)"
    )
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) <= 10, proc.stderr


def test_a_reparse_at_the_same_version_says_nothing_to_do(quiet_crawl: Any) -> None:
    archive, first = quiet_crawl
    proc = run_cli("reparse", "--warc", str(archive / "warc"), "--archive", str(archive))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = last_json(proc.stdout)
    assert summary["nothing_to_do"] and summary["articles_written"] == 0
    run_id = json.loads(first.stdout.splitlines()[-1])["run_id"]
    line = proc.stderr.splitlines()[-1]
    assert line.startswith(f"reparse finews (run {run_id}): complete, 0 articles, 0 quarantined"), proc.stderr
    assert f"nothing to do: every row of run {run_id} is already archived at pipeline version" in line
    assert "Disabled newsarchive.warc.capture" not in proc.stderr  # off by design in a reparse: -v shows it
    assert " INFO: " not in proc.stderr and len(proc.stderr.splitlines()) <= 10, proc.stderr


def test_compact_with_nothing_to_compact_says_why(quiet_crawl: Any) -> None:
    archive, _ = quiet_crawl
    # one crawl wrote one file per partition (the reparse test adds no article nor quarantine row)
    proc = run_cli("compact", "--archive", str(archive), "--table", "articles", "--table", "quarantine")
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(ln)["table"] for ln in proc.stdout.splitlines()] == ["articles", "quarantine"]
    (line,) = proc.stderr.splitlines()
    assert line.startswith("compact: nothing to compact (articles: no partition has two or more files below "), line
    assert "; quarantine: no partition has two or more files below" in line


def test_verify_ends_with_one_line(quiet_crawl: Any) -> None:
    archive, _ = quiet_crawl
    proc = run_cli("verify", "--archive", str(archive), "--deep")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (line,) = proc.stderr.splitlines()
    summary = last_json(proc.stdout)
    files = sum(t["data_files"] for t in summary["tables"].values())
    assert line.startswith(
        f"verify --deep: ok, {files} data files and {summary['warc_files_checked']} WARC files checked"
    )


def test_upload_hides_botocore_credentials_line_unless_verbose(quiet_crawl: Any, seaweed: Any, bucket_uri: str) -> None:
    archive, _ = quiet_crawl
    env = s3_env(seaweed)
    first = run_cli("upload", "--archive", str(archive), "--to", bucket_uri, env=env)
    assert first.returncode == 0, first.stderr
    uploaded = last_json(first.stdout)["files_uploaded"]
    assert uploaded > 0
    (line,) = first.stderr.splitlines()  # no "Found credentials in environment variables."
    assert line.startswith(f"upload: {uploaded} files (") and f"to {bucket_uri}, 0 already there" in line
    again = run_cli("upload", "-v", "--archive", str(archive), "--to", bucket_uri, env=env)
    assert again.returncode == 0, again.stderr
    assert "Found credentials" in again.stderr
    assert again.stderr.splitlines()[-1].startswith(
        f"upload: nothing to upload: all {uploaded} WARC files are in {bucket_uri} already"
    )


# --- --help ------------------------------------------------------------------------------


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_option_of_every_subcommand_has_plain_help() -> None:
    commands = subcommands()
    assert "crawl" in commands and "serve-samples" in commands
    for name, cmd in commands.items():
        assert cmd.description and not RST.search(cmd.description), (name, RST.search(cmd.description or ""))
        for action in cmd._actions:
            what = f"{name} {'/'.join(action.option_strings) or action.dest}"
            assert action.help and action.help != argparse.SUPPRESS, f"{what}: no help line"
            assert not RST.search(action.help), f"{what}: {action.help!r}"
        assert "-v, --verbose" in cmd.format_help()


def test_rst_markup_becomes_plain_text() -> None:
    text = "Runs the ``jekyll`` spider (:class:`~a.B`), *really*, **twice**, `x`; files *.warc.gz and a*b stay."
    assert plain(text) == "Runs the jekyll spider (B), really, twice, x; files *.warc.gz and a*b stay."


def test_serve_samples_prints_copy_pasteable_commands_and_how_to_stop() -> None:
    import shlex

    from newsarchive.cli.serve import command_line

    line = command_line("finews", {"FINEWS_LIST_URLS": "http://h/a?x=1&y=2", "FINEWS_TEXT_URL": "http://h/t?id={c}"})
    assert shlex.split(line) == [
        "newsarchive",
        "crawl",
        "finews",
        "-s",
        "FINEWS_LIST_URLS=http://h/a?x=1&y=2",
        "-s",
        "FINEWS_TEXT_URL=http://h/t?id={c}",
    ]
    help_text = subcommands()["serve-samples"].format_help()
    assert "Ctrl-C to stop" in help_text and "--host HOST" in help_text


# --- in process: the pieces -----------------------------------------------------------------


class _Settings(dict):  # type: ignore[type-arg]
    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name, default)


@pytest.mark.parametrize(
    ("settings", "overrides", "loglevel", "verbose", "expected"),
    [
        ({"LOG_LEVEL": "INFO"}, {}, None, 0, logging.WARNING),  # the default: INFO is the file's level
        ({"LOG_LEVEL": "INFO"}, {"LOG_LEVEL": "INFO"}, None, 0, logging.INFO),  # -s LOG_LEVEL, no file
        ({"LOG_LEVEL": "DEBUG"}, {}, "DEBUG", 0, logging.DEBUG),  # -L
        ({"LOG_LEVEL": "DEBUG", "LOG_FILE": "x.log"}, {"LOG_LEVEL": "DEBUG"}, None, 0, logging.WARNING),
        ({"LOG_LEVEL": "INFO", "LOG_FILE": "x.log"}, {}, None, 1, logging.INFO),  # -v
        ({"LOG_LEVEL": "INFO"}, {}, None, 2, logging.DEBUG),  # -vv
    ],
)
def test_console_level(
    monkeypatch: pytest.MonkeyPatch,
    settings: dict[str, str],
    overrides: dict[str, str],
    loglevel: str | None,
    verbose: int,
    expected: int,
) -> None:
    monkeypatch.delenv("NEWSARCHIVE_LOG_LEVEL", raising=False)
    assert console_level(_Settings(settings), overrides, loglevel, verbose) == expected


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except type(exc):
        return logging.LogRecord("x", logging.ERROR, __file__, 1, "Upload failed", None, sys.exc_info())


def test_a_traceback_is_one_line_on_the_console_unless_verbose(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsarchive import redaction

    monkeypatch.setenv("NEWSARCHIVE_S3_SECRET", "s3cr3t-value-991")
    monkeypatch.setattr(redaction._RedactingRecord, "redactor", None)
    record = _record(ValueError("bad answer from http://u:s3cr3t-value-991@h/ (s3cr3t-value-991)"))
    short = ConsoleFormatter(tracebacks=False).format(record)
    assert "Traceback" not in short and "\n" not in short
    assert short.endswith("[ValueError: bad answer from http://***@h/ (***); traceback with -v]"), short
    full = ConsoleFormatter(tracebacks=True).format(record)
    assert "Traceback (most recent call last)" in full  # the record keeps its traceback for other handlers


def test_a_meter_draws_nothing_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with Meter("upload", total=3) as meter:
        for _ in range(3):
            meter.advance(detail="x")
    assert not meter.live and capsys.readouterr().err == ""


def test_a_meter_draws_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "w", encoding="utf-8") as tty:
        monkeypatch.setattr(sys, "stderr", tty)
        monkeypatch.setenv("COLUMNS", "120")
        with Meter("verify --deep", total=2) as meter:
            meter.advance(detail="1 files checked")
            meter.advance(detail="2 files checked")
        tty.flush()
        drawn = b""
        while select.select([master], [], [], 0.5)[0]:  # what was written is there: no waiting on time
            drawn += os.read(master, 65536)
    os.close(master)
    drawn = drawn.decode("utf-8", "replace")
    assert meter.live and "verify --deep" in drawn and "2/2" in drawn, drawn


def test_the_summary_line_and_the_unreachable_note() -> None:
    problems = [
        "list http://127.0.0.1:9/a?x=1: connection_error (DownloadConnectionRefusedError: refused)",
        "list http://10.0.0.1:80/b: timeout (DownloadTimeoutError: took too long)",
        "list http://127.0.0.1:9/c: http_error (HTTP 500)",  # answered: not unreachable
    ]
    note = unreachable_note(problems, {})
    assert note == "the feeds could not be reached: 10.0.0.1:80 (timeout), 127.0.0.1:9 (connection_error)"
    assert unreachable_note(problems, {"newsarchive/lists/ok": 1}).startswith("some feeds could not be reached: ")
    assert unreachable_note(problems[2:], {}) == ""
    summary = {"status": "failed", "articles_written": 0, "quarantined": 1, "run_id": "R", "note": note}
    assert (
        summary_line("crawl finews", summary, 3.14)
        == f"crawl finews: failed, 0 articles, 1 quarantined, run R, 3.1 s; {note}"
    )
