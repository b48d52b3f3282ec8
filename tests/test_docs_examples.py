"""Every example in README.md and docs/*.md runs as written after ``make demo``.

The convention (also in docs/architecture.md, "Examples in the docs"):

* Every fenced block has a language tag. ``bash``, ``sh``, ``console``, ``python`` and
  ``sql`` blocks are examples and run here; ``json``, ``yaml``, ``properties``, ``text`` and
  ``toml`` blocks are data, formats or diagrams and are not run. A block without a tag, or
  with another tag, fails :func:`test_every_block_is_runnable_or_marked_with_a_reason`.
* An example that cannot run on this machine says why in an HTML comment on the lines right
  before its fence: ``<!-- not-runnable: <reason> -->`` (Spark or Trino, a cloud or REST
  catalog of your own, Airflow deployment commands, a public host, ``make test`` itself).
  A marker without a reason fails; the list of marked blocks and their reasons is printed.
* Shell blocks (``bash``, ``sh``, ``console``) run through ``bash -e -o pipefail`` from the
  directory a user has after ``make demo`` (cwd: a temporary directory holding ``archive/``
  from ``newsarchive demo``), with the project's ``.venv/bin`` first on PATH and ``uv run
  [options] CMD`` running ``CMD`` (the README's two ways). In a block whose lines start with
  ``$ ``, only those lines are commands (the rest is output shown).
* ``python`` blocks run with the project's interpreter; ``sql`` blocks through ``newsarchive
  sql -``.
* Hand crawls use the sample server the README tells to start in another terminal
  (``newsarchive serve-samples``, port 8765): the test starts it on a free port and writes that
  port wherever a block says ``127.0.0.1:8765``. ``s3://bucket/…`` is a SeaweedFS bucket the
  test starts and names through the AWS chain (``AWS_ENDPOINT_URL``…), as a deployment
  names its own. ``./old-archive`` (the README's ``migrate --from``) is a copy of the old
  layout in ``tests/data/legacy_archive``. Nothing else is prepared: no traffic leaves
  127.0.0.1 (a block that would reach a public host is marked).

Blocks run in document order, README.md first, then docs/*.md by name, each in its own
process, after one demo; every exit code must be 0. Then what the README promises is
checked in the data: every source of the demo and the runs the examples added are in the
tables ``sql``, ``report`` and ``summary`` read. Output text is never compared (it changes
with the CLI), only exit codes and rows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT, clean_env, read_table

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = {"bash", "sh", "console", "python", "sql"}
DATA = {"json", "yaml", "properties", "text", "toml"}
FENCE = re.compile(r"^```(?P<tag>[^\s`]*)\s*$")
MARKER = re.compile(r"^<!--\s*not-runnable\s*(?::\s*(?P<reason>.*?))?\s*-->\s*$")
SAMPLES_PORT = "127.0.0.1:8765"
#: ``uv run [uv options] CMD`` runs CMD (the venv is first on PATH); nothing else of uv.
SHELL_PRELUDE = """
uv() {
  if [ "$1" != run ]; then echo "the docs test runs only 'uv run'" >&2; return 2; fi
  shift
  while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
  "$@"
}
"""
BLOCK_TIMEOUT = 300


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the opening fence, 1-based
    tag: str
    code: str
    #: None: runnable; else why not (possibly empty: an error)
    not_runnable: str | None

    def __str__(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line} [{self.tag or 'no tag'}]"

    def script(self) -> str:
        """The shell commands of a shell block (``$ `` lines only, when it shows output)."""
        lines = self.code.splitlines()
        if not any(ln.startswith("$ ") for ln in lines):
            return self.code
        out: list[str] = []
        continued = False
        for ln in lines:
            if ln.startswith("$ ") or continued:
                out.append(ln.removeprefix("$ "))
                continued = ln.rstrip().endswith("\\")
        return "\n".join(out) + "\n"


def blocks(doc: Path) -> list[Block]:
    lines = doc.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        assert end is not None, f"{doc}:{i + 1}: a fence that is never closed"
        reason: str | None = None
        k = i - 1
        while k >= 0 and lines[k].startswith("<!--"):
            marker = MARKER.match(lines[k])
            if marker:
                reason = (marker["reason"] or "").strip()
            k -= 1
        found.append(Block(doc, i + 1, m["tag"], "\n".join(lines[i + 1 : end]) + "\n", reason))
        i = end + 1
    return found


def all_blocks() -> list[Block]:
    return [b for doc in DOCS for b in blocks(doc)]


def test_every_block_is_runnable_or_marked_with_a_reason() -> None:
    problems = []
    marked = []
    for block in all_blocks():
        if block.tag not in RUNNABLE | DATA:
            problems.append(f"{block}: tag it ({', '.join(sorted(RUNNABLE | DATA))})")
        elif block.not_runnable is not None:
            if block.tag not in RUNNABLE:
                problems.append(f"{block}: a {block.tag} block is never run; drop the not-runnable marker")
            elif not block.not_runnable:
                problems.append(f"{block}: <!-- not-runnable --> needs a reason")
            else:
                marked.append(f"{block}: {block.not_runnable}")
    print("Blocks not runnable here:\n  " + "\n  ".join(marked))
    assert not problems, "\n".join(problems)


def test_the_parser_sees_markers_tags_and_prompts(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "text\n<!-- not-runnable: needs Spark -->\n<!-- tested -->\n```python\nimport pyspark\n```\n"
        "```console\n$ newsarchive sql 'SELECT 1' \\\n  --format csv\n1\n(1 row)\n```\n"
        "<!-- not-runnable -->\n```sh\nx\n```\n```\ndiagram\n```\n",
        encoding="utf-8",
    )
    spark, console, bare, diagram = blocks(doc)
    assert (spark.tag, spark.not_runnable, spark.line) == ("python", "needs Spark", 4)
    assert console.not_runnable is None and console.script() == "newsarchive sql 'SELECT 1' \\\n  --format csv\n"
    assert bare.not_runnable == "" and diagram.tag == ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"serve-samples exited {proc.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"serve-samples is not listening on {port}")


@dataclass
class Demo:
    cwd: Path
    env: dict[str, str]
    port: int
    #: rows per source and the run ids, read by pyiceberg right after the demo
    sources: dict[str, int]
    run_ids: set[str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``newsarchive demo`` once, in a directory laid out as a user's is after ``make demo``;
    then the sample server (``serve-samples``) and an S3 bucket for the hand-run examples."""
    from newsarchive.samples.seaweed import SeaweedFS

    cwd = tmp_path_factory.mktemp("user")
    home = tmp_path_factory.mktemp("home")
    venv_bin = str(Path(sys.executable).parent)
    # a user's shell: no AIRFLOW_* or AWS_* variable (the demo sets its own)
    env = {
        k: v
        for k, v in clean_env(HOME=str(home), PYICEBERG_HOME=str(home)).items()
        if not k.startswith(("AWS_", "AIRFLOW"))
    }
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "newsarchive", "demo"], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print(f"newsarchive demo: {time.monotonic() - started:.0f} s")
    articles = read_table(cwd / "archive", selected_fields=("source",)).column("source").to_pylist()
    sources = {s: articles.count(s) for s in set(articles)}
    run_ids = set(read_table(cwd / "archive", "runs", selected_fields=("run_id",)).column("run_id").to_pylist())
    shutil.copytree(ROOT / "tests" / "data" / "legacy_archive", cwd / "old-archive")
    port = free_port()
    samples = subprocess.Popen(
        [sys.executable, "-m", "newsarchive", "serve-samples", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    (cwd / "s3").mkdir()
    try:
        wait_for_port(port, samples)
        with SeaweedFS(cwd / "s3", bucket="bucket") as s3:
            cfg = s3.config
            env.update(
                AWS_ENDPOINT_URL=str(cfg.endpoint_url),
                AWS_ACCESS_KEY_ID=str(cfg.access_key_id),
                AWS_SECRET_ACCESS_KEY=str(cfg.secret_access_key),
                AWS_DEFAULT_REGION="us-east-1",
            )
            yield Demo(cwd, env, port, sources, run_ids)
    finally:
        samples.terminate()
        samples.wait(timeout=30)


def run_block(block: Block, demo: Demo) -> subprocess.CompletedProcess[str]:
    code = block.code.replace(SAMPLES_PORT, f"127.0.0.1:{demo.port}")
    block = Block(block.doc, block.line, block.tag, code, None)
    if block.tag == "python":
        args, stdin = [sys.executable, "-c", code], None
    elif block.tag == "sql":
        args, stdin = [sys.executable, "-m", "newsarchive", "sql", "-"], code
    else:
        args, stdin = ["bash", "-e", "-o", "pipefail", "-c", SHELL_PRELUDE + block.script()], None
    return subprocess.run(
        args, input=stdin, cwd=demo.cwd, env=demo.env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT
    )


def sql_json(demo: Demo, query: str) -> list[dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, "-m", "newsarchive", "sql", query, "--format", "json"],
        cwd=demo.cwd,
        env=demo.env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows: list[dict[str, object]] = json.loads(proc.stdout)
    return rows


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the demo, then some 40 commands, each its own process
def test_e2e_every_runnable_block_runs_after_the_demo(demo: Demo) -> None:
    failures = []
    for block in all_blocks():
        if block.tag not in RUNNABLE or block.not_runnable is not None:
            continue
        started = time.monotonic()
        proc = run_block(block, demo)
        print(f"{block}: exit {proc.returncode}, {time.monotonic() - started:.1f} s")
        if proc.returncode != 0:
            failures.append(f"{block} exited {proc.returncode}:\n{block.code}\n---\n{proc.stderr[-2500:]}")
    assert not failures, "\n\n".join(failures)

    # what the README promises: after its hand crawls, sql, report and summary still see every
    # source of the demo, and the new runs too
    per_source = {
        str(r["source"]): int(str(r["n"]))
        for r in sql_json(demo, "SELECT source, count(*) AS n FROM articles GROUP BY 1")
    }
    for source, rows in demo.sources.items():
        assert per_source.get(source, 0) >= rows, (source, per_source)
    assert per_source.get("jekyll", 0) > 0  # the Jekyll import of the exported site
    runs = {str(r["run_id"]): str(r["spider"]) for r in sql_json(demo, "SELECT run_id, spider FROM runs")}
    assert demo.run_ids <= set(runs)
    added = {spider for run_id, spider in runs.items() if run_id not in demo.run_ids}
    assert {"finews", "eastmoney", "thepaper", "jekyll"} <= added, added
    report = (demo.cwd / "report.html").read_text(encoding="utf-8")
    assert all(source in report for source in demo.sources)
    assert (demo.cwd / "new.parquet").is_file() and (demo.cwd / "site" / "_config.yml").is_file()
