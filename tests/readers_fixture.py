"""Tables for the readers' tests, committed the way a run commits them (one snapshot per
table per run, ``newsarchive.run-id`` in its summary), without a crawl.

Rows are built from the schema's columns: what a test does not give is NULL, except the
columns no row may lack. pyiceberg reads ``~/.pyiceberg.yaml`` and ``PYICEBERG_*``, so
:func:`isolated` gives every test its own HOME and PYICEBERG_HOME.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsarchive.schema import ARTICLE_SCHEMA, QUARANTINE_SCHEMA, RUN_SCHEMA
from newsarchive.tables.catalog import CatalogSpec, resolve
from newsarchive.tables.commit import commit_files
from newsarchive.tables.definitions import ARTICLES, QUARANTINE, RUNS, ensure_all

SCHEMAS = {ARTICLES: ARTICLE_SCHEMA, QUARANTINE: QUARANTINE_SCHEMA, RUNS: RUN_SCHEMA}
T0 = datetime(2022, 1, 12, 2, 0, tzinfo=UTC)


@contextmanager
def isolated(home: Path) -> Iterator[None]:
    """No pyiceberg configuration but what the test sets (HOME, PYICEBERG_HOME, env)."""
    home.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.upper().startswith(("PYICEBERG_", "NEWSARCHIVE_")):
                mp.delenv(name)
        mp.setenv("HOME", str(home))
        mp.setenv("PYICEBERG_HOME", str(home))
        yield


def env_without_pyiceberg(home: Path, **extra: str) -> dict[str, str]:
    """A subprocess's environment with the same isolation."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("PYICEBERG_", "NEWSARCHIVE_"))}
    env.update(HOME=str(home), PYICEBERG_HOME=str(home), **extra)
    return env


def article(n: int, **over: Any) -> dict[str, Any]:
    code = f"NW20220112{n:010d}"
    row: dict[str, Any] = {
        "source": "finews",
        "source_id": code,
        "info_code": code,
        "title": f"标题 {n}",
        "media_name": "澎湃新闻" if n % 2 else None,
        "published_at": T0 + timedelta(hours=n),
        "content_html": f"<p>正文 {n}</p>",
        "content_text": f"正文 {n}",
        "article_url": f"https://example.test/a/{code}",
        "source_url": f"http://127.0.0.1:1/text?id={code}",
        "feed": "market",
        "fetched_at": T0 + timedelta(days=1),
        "content_sha256": f"sha-{n}",
        "pipeline_version": "0.4.0",
        "schema_version": 3,
        "warc_filename": "warc/date=2022-01-13/run-0.warc.gz",
        "warc_record_offset": 100 * n,
    }
    row.update(over)
    return row


def quarantined(reason: str, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": "finews",
        "stage": "fetch",
        "reason": reason,
        "detail": f"detail of {reason}",
        "seen_at": T0 + timedelta(days=1),
        "run_id": "run",
        "fingerprint": f"fp-{reason}",
    }
    row.update(over)
    return row


def run_row(run_id: str, **over: Any) -> dict[str, Any]:
    started = over.pop("started_at", T0 + timedelta(days=1))
    row: dict[str, Any] = {
        "run_id": run_id,
        "spider": "finews",
        "source": "finews",
        "status": "complete",
        "finish_reason": "finished",
        "started_at": started,
        "finished_at": started + timedelta(seconds=30),
        "duration_s": 30.0,
        "requests": 10,
        "requests_by_kind": [("list", 2), ("text", 8)],
        "responses_by_status": [("200", 10)],
        "articles_written": 0,
        "quarantined": 0,
        "warc_files": [{"path": f"warc/date=2022-01-13/{run_id}-0.warc.gz", "bytes": 10, "sha256": "x", "records": 2}],
        "pipeline_version": "0.4.0",
        "schema_version": 3,
    }
    row.update(over)
    return row


def embedded(archive: Path) -> CatalogSpec:
    """The embedded catalog in ``archive`` with the three tables created (and empty)."""
    spec = resolve(str(archive))
    ensure_all(spec.open(), spec.namespace)
    return spec


def commit_run(
    spec: CatalogSpec,
    run_id: str,
    *,
    articles: Sequence[Mapping[str, Any]] = (),
    quarantine: Sequence[Mapping[str, Any]] = (),
    run: Mapping[str, Any] | None = None,
) -> None:
    """Commit one run as the crawl does: articles, quarantine, then its ``runs`` row."""
    catalog = spec.open()
    rows = {
        ARTICLES: [{**r, "run_id": r.get("run_id") or run_id} for r in articles],
        QUARANTINE: [{**r, "run_id": run_id} for r in quarantine],
        RUNS: [
            {
                **run_row(run_id, articles_written=len(articles), quarantined=len(quarantine)),
                **(run or {}),
            }
        ],
    }
    for name, data in rows.items():
        if not data:
            continue
        table = catalog.load_table((spec.namespace, name))
        paths = []
        for n, part in enumerate(_partitions(name, data)):  # add_files takes one partition per file
            path = f"{table.location()}/data/{run_id}-{name}-{n}.parquet"
            with table.io.new_output(path).create(overwrite=True) as out:
                pq.write_table(pa.Table.from_pylist(part, schema=SCHEMAS[name]), out)
            paths.append(path)
        commit_files(partial(catalog.load_table, (spec.namespace, name)), paths, run_id=run_id)


#: The columns of each table's partitions: identity of the first, month of the second.
_PARTITIONED_BY = {ARTICLES: ("source", "published_at"), QUARANTINE: ("source", "seen_at"), RUNS: (None, "started_at")}


def _partitions(name: str, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    identity, month = _PARTITIONED_BY[name]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        when = row[month]
        groups.setdefault((row.get(identity) if identity else None, when.year, when.month), []).append(row)
    return list(groups.values())


#: The runs of :func:`build_archive`, in commit order.
FIRST, REPARSE, PARTIAL, PAPER, FAILED = (
    "20220113T020000Z-aaaaaaaa",
    "20220113T030000Z-bbbbbbbb",
    "20220114T020000Z-cccccccc",
    "20220114T030000Z-dddddddd",
    "20220114T040000Z-eeeeeeee",
)


def build_archive(target: Path | CatalogSpec) -> CatalogSpec:
    """What the readers must cope with, in the embedded catalog of ``target`` (a directory)
    or in the catalog ``target`` (its tables created when missing): two sources,
    quarantined records, a reparse that wrote every first-run row again at a newer version
    (0.10.0 after 0.9.0: numerically newer, alphabetically older), a partial run and a
    failed run that committed nothing but its ``runs`` row."""
    if isinstance(target, CatalogSpec):
        spec = target
        ensure_all(spec.open(), spec.namespace)
    else:
        spec = embedded(target)
    day = timedelta(days=1)
    first = [article(n, pipeline_version="0.9.0", run_id=FIRST) for n in range(1, 13)]
    commit_run(
        spec,
        FIRST,
        articles=first,
        quarantine=[quarantined("bad_json"), quarantined("http_error", stage="fetch")],
        run={"started_at": T0 + day},
    )
    commit_run(
        spec,
        REPARSE,
        articles=[{**r, "pipeline_version": "0.10.0", "run_id": REPARSE} for r in first],
        run={"spider": "reparse", "started_at": T0 + day + timedelta(hours=1)},
    )
    commit_run(
        spec,
        PARTIAL,
        articles=[article(n, fetched_at=T0 + 2 * day) for n in (13, 14)],
        quarantine=[quarantined("http_error", seen_at=T0 + 2 * day, fingerprint="fp-2")],
        run={
            "started_at": T0 + 2 * day,
            "status": "partial",
            "problems": ["list http://127.0.0.1:1/down: http_error (HTTP 503)"],
            "lists_failed": 1,
        },
    )
    paper = [
        article(
            n,
            source="thepaper",
            source_id=str(3000000 + n),
            info_code=None,
            media_name="澎湃新闻",
            feed="channel_25950",
        )
        for n in range(1, 6)
    ]
    commit_run(
        spec,
        PAPER,
        articles=paper,
        quarantine=[quarantined("not_article", source="thepaper", stage="parse", seen_at=T0 + 2 * day)],
        run={"spider": "thepaper", "source": "thepaper", "started_at": T0 + 2 * day + timedelta(hours=1)},
    )
    commit_run(
        spec,
        FAILED,
        run={"started_at": T0 + 2 * day + timedelta(hours=2), "status": "failed", "finish_reason": "shutdown"},
    )
    return spec


@pytest.fixture(scope="session")
def tables_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`build_archive` once per session; tests read it with :func:`isolated`."""
    root = tmp_path_factory.mktemp("readers")
    with isolated(root / "home"):
        build_archive(root / "archive")
    return root / "archive"


@pytest.fixture(scope="session")
def crawled_archive(tmp_path_factory: pytest.TempPathFactory, sample_server: Any) -> tuple[Path, dict[str, str]]:
    """The same situations made by real crawls into one ARCHIVE_URI (one embedded catalog):
    a finews crawl, a reparse at 99.0.0, a partial finews crawl (a list that answers 503) and
    a thepaper crawl. Returns the archive and the environment to read it with."""
    import subprocess
    import sys

    from newsarchive.samples.feedserver import Reply, finews_settings
    from newsarchive.samples.thepaper_site import install_thepaper
    from tests.helpers import FAST, ROOT, run_crawl

    root = tmp_path_factory.mktemp("crawled")
    archive = root / "archive"
    env = env_without_pyiceberg(root / "home")
    (root / "home").mkdir()
    settings = {**FAST, **finews_settings(sample_server), "ARCHIVE_URI": archive}
    first = run_crawl("finews", settings, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    args = ["reparse", "--warc", str(archive / "warc"), "--archive", str(archive), "-s", "PIPELINE_VERSION=99.0.0"]
    reparse = subprocess.run(
        [sys.executable, "-m", "newsarchive", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert reparse.returncode == 0, reparse.stderr[-3000:]
    sample_server.add("/readers/down", Reply(status=503, body=b"down"))
    down = {**settings, "FINEWS_LIST_URLS": f"{settings['FINEWS_LIST_URLS']},{sample_server.url('/readers/down')}"}
    assert run_crawl("finews", down, env=env).returncode == 1  # partial
    paper = {**FAST, **install_thepaper(sample_server), "ARCHIVE_URI": archive}
    assert run_crawl("thepaper", paper, env=env).returncode == 0
    return archive, env


def table_rows(archive: Path, name: str = ARTICLES, **kwargs: Any) -> list[dict[str, Any]]:
    """The current rows of one table of the embedded catalog in ``archive`` (what tests of the
    old layout read with ``open_dataset(archive, table)``); ``kwargs`` go to :func:`locate`."""
    from newsarchive.tables import read

    (table,) = read.open_tables(read.locate(str(archive), **kwargs), (name,)).values()
    return read.read(table).to_pylist()
