"""docs/analytics.md: every snippet marked ``<!-- tested -->`` runs as written against committed
tables (the embedded catalog in ``archive/``), ``<!-- tested: s3 -->`` against SeaweedFS's
Iceberg REST catalog, and gets the right rows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from newsarchive.analytics.views import VIEWS
from tests.helpers import ROOT
from tests.readers_fixture import build_archive, env_without_pyiceberg, isolated

#: The tables fixtures (tables_archive, crawled_archive).
pytest_plugins = ["tests.readers_fixture"]

DOC = ROOT / "docs" / "analytics.md"
BLOCK = re.compile(r"<!-- tested(?P<s3>: s3)? -->\n```python\n(?P<code>.*?)```", re.S)
#: After a snippet, the sizes of the results it built, by name.
REPORT = """
import json as _json
print("SIZES " + _json.dumps({n: len(v) for n, v in dict(globals()).items()
                            if n in ("current", "df", "table", "everything", "recent")}))
"""
#: What :func:`tests.readers_fixture.build_archive` commits: article versions, articles.
ROWS, ARTICLES = 31, 19


def snippets(s3: bool) -> list[str]:
    return [m["code"] for m in BLOCK.finditer(DOC.read_text(encoding="utf-8")) if bool(m["s3"]) == s3]


def run_snippet(code: str, cwd: Path, env: dict[str, str]) -> dict[str, int]:
    proc = subprocess.run(
        [sys.executable, "-c", code + REPORT], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )
    assert proc.returncode == 0, f"{code}\n---\n{proc.stderr[-3000:]}"
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("SIZES ")]
    return json.loads(line[len("SIZES ") :])


def check_local_snippets(archive: Path, tmp_path: Path, env: dict[str, str], rows: int, articles: int) -> None:
    (tmp_path / "archive").symlink_to(archive, target_is_directory=True)
    blocks = snippets(s3=False)
    assert len(blocks) == 4  # pyiceberg, pandas, Polars, DuckDB
    sizes: dict[str, int] = {}
    for code in blocks:
        got = run_snippet(code, tmp_path, {**env, "PYTHONPATH": str(ROOT)})
        if "current" in got:  # each library's deduplicated view: one row per article
            assert got["current"] == articles, code
        sizes.update(got)
    assert sizes["df"] == sizes["table"] == rows
    assert 0 < sizes["recent"] < rows  # the row filter selected part of the table
    assert rows > articles  # there were versions to deduplicate


def test_the_local_snippets_run_and_deduplicate(tables_archive: Path, tmp_path: Path) -> None:
    check_local_snippets(tables_archive, tmp_path, env_without_pyiceberg(tmp_path / "home"), ROWS, ARTICLES)


@pytest.mark.slow
def test_the_s3_snippet_reads_the_rest_catalog(tmp_path: Path) -> None:
    from newsarchive.samples.seaweed import SeaweedFS
    from newsarchive.tables.catalog import resolve

    (tmp_path / "s3").mkdir()
    with SeaweedFS(tmp_path / "s3", table_bucket="warehouse") as s3:
        env = env_without_pyiceberg(
            tmp_path / "home",
            **{
                f"PYICEBERG_CATALOG__NEWSARCHIVE__{k.upper().replace('-', '_').replace('.', '__')}": v
                for k, v in s3.catalog_properties.items()
            },
        )
        with isolated(tmp_path / "home"), pytest.MonkeyPatch.context() as mp:
            for name, value in env.items():
                if name.startswith("PYICEBERG_CATALOG__"):
                    mp.setenv(name, value)
            build_archive(resolve(str(tmp_path / "unused")))
        (code,) = snippets(s3=True)
        assert run_snippet(code, tmp_path, env) == {"df": ROWS, "everything": ROWS}


def test_e2e_the_local_snippets_over_real_crawls(crawled_archive: Any, tmp_path: Path) -> None:
    archive, env = crawled_archive
    query = "SELECT (SELECT count(*) FROM articles_all) AS rows, (SELECT count(*) FROM articles) AS articles"
    count = subprocess.run(
        [sys.executable, "-m", "newsarchive", "sql", query, "--archive", str(archive), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert count.returncode == 0, count.stderr
    (expected,) = json.loads(count.stdout)
    check_local_snippets(archive, tmp_path, env, expected["rows"], expected["articles"])


def test_every_view_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for view in VIEWS:
        assert f"| `{view}` |" in doc, view
