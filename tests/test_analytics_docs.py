"""docs/analytics.md: every snippet marked ``<!-- tested -->`` runs as written, against a
real crawl (local) or SeaweedFS (``<!-- tested: s3 -->``), and gets the right rows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from newsarchive.analytics.runs import RUN_COLUMNS
from tests.conftest import ROOT, clean_env, run_cli, s3_env

DOC = ROOT / "docs" / "analytics.md"
BLOCK = re.compile(r"<!-- tested(?P<s3>: s3)? -->\n```python\n(?P<code>.*?)```", re.S)
#: After a snippet, the sizes of the results it built, by name.
REPORT = """
import json as _json
print("SIZES " + _json.dumps({n: len(v) for n, v in dict(globals()).items()
                            if n in ("current", "df", "table", "everything", "recent")}))
"""


def snippets(s3: bool) -> list[str]:
    return [m["code"] for m in BLOCK.finditer(DOC.read_text(encoding="utf-8")) if bool(m["s3"]) == s3]


def run_snippet(code: str, cwd: Path, env: dict[str, str]) -> dict[str, int]:
    proc = subprocess.run(
        [sys.executable, "-c", code + REPORT], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )
    assert proc.returncode == 0, f"{code}\n---\n{proc.stderr[-3000:]}"
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("SIZES ")]
    return json.loads(line[len("SIZES ") :])


@pytest.fixture(scope="module")
def finews(analytics_archive: Path) -> dict[str, int]:
    """What the finews archive holds, counted file by file."""
    ids: set[str] = set()
    rows = 0
    for path in (analytics_archive / "finews" / "articles").rglob("part-*.parquet"):
        table = pq.read_table(path, columns=["source_id"])
        rows += table.num_rows
        ids.update(table["source_id"].to_pylist())
    return {"rows": rows, "articles": len(ids)}


def test_the_local_snippets_run_and_deduplicate(analytics_archive, finews, tmp_path):
    (tmp_path / "archive").symlink_to(analytics_archive / "finews", target_is_directory=True)
    env = clean_env(PYTHONPATH=str(ROOT))
    blocks = snippets(s3=False)
    assert len(blocks) == 4  # DuckDB, pandas, Polars, pyarrow
    sizes: dict[str, int] = {}
    for code in blocks:
        got = run_snippet(code, tmp_path, env)
        if "current" in got:  # each library's deduplicated view: one row per article
            assert got["current"] == finews["articles"], code
        sizes.update(got)
    assert sizes["df"] == sizes["table"] == finews["rows"]
    assert finews["rows"] > finews["articles"]  # there were versions to deduplicate


def test_the_s3_snippet_reads_the_bucket(analytics_archive, finews, seaweed, tmp_path):
    client = seaweed.config.client()
    if "newsarchive" not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket="newsarchive")
    up = run_cli(
        "upload",
        "--archive",
        str(analytics_archive / "finews"),
        "--to",
        "s3://newsarchive/archive",
        env=s3_env(seaweed),
    )
    assert up.returncode == 0, up.stderr
    (code,) = snippets(s3=True)
    sizes = run_snippet(code, tmp_path, s3_env(seaweed, PYTHONPATH=str(ROOT)))
    assert sizes == {"df": finews["rows"], "everything": finews["rows"]}


def test_every_runs_column_is_documented():
    doc = DOC.read_text(encoding="utf-8")
    for name, _, _ in RUN_COLUMNS:
        assert f"| `{name}` |" in doc, name
