"""Plain helpers the tests share: paths, a clean environment, crawls and commands run as real
subprocesses, and reading the tables back through pyiceberg (never through our own readers).

Fixtures and pytest hooks stay in ``conftest.py``, which also isolates the environment (the
Airflow home, an empty pyiceberg home) before any test module imports this one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsarchive.samples.feedserver import FeedServer

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
REFERENCE = DATA / "reference"
SEED_POST = REFERENCE / "000_90fc2c3713eae39e.txt"
#: The empty pyiceberg home conftest.py made at import: the only one a crawl under test sees.
ICEBERG_HOME = os.environ["PYICEBERG_HOME"]

#: Settings for fast, deterministic local crawls (no throttling delays on 127.0.0.1).
FAST = {"AUTOTHROTTLE_ENABLED": "False", "LOG_LEVEL": "INFO", "RETRY_TIMES": "2", "DOWNLOAD_TIMEOUT": "5"}


@dataclass
class CrawlResult:
    returncode: int
    summary: dict[str, Any]
    stdout: str
    stderr: str
    #: The crawl's ARCHIVE_URI (its embedded catalog, unless the test configured one).
    archive: Path | None = None

    @property
    def run(self) -> dict[str, Any]:
        """The run's ``runs`` row (the run must have committed)."""
        assert self.archive is not None, "run_crawl without ARCHIVE_URI"
        return run_row(self.archive, self.summary["run_id"])


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without NEWSARCHIVE_* or a pyiceberg configuration
    leaking in (HOME and PYICEBERG_HOME point to an empty directory)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSARCHIVE_", "PYICEBERG_"))}
    env.update(HOME=ICEBERG_HOME, PYICEBERG_HOME=ICEBERG_HOME)
    env.update(extra)
    return env


def open_catalog(archive: Path | str) -> Any:
    """The embedded SQLite catalog of ``archive`` (what a crawl there commits to)."""
    from pyiceberg.catalog import load_catalog

    from newsarchive.tables.catalog import embedded_properties

    return load_catalog("newsarchive", **embedded_properties(str(archive)))


def read_table(archive: Path | str, name: str = "articles", **scan: Any) -> Any:
    """Every row of one table of ``archive``'s embedded catalog, as a pyarrow Table (read by
    pyiceberg, not by our own readers). ``scan``: ``row_filter``, ``selected_fields``..."""
    from pyiceberg.exceptions import NoSuchTableError

    from newsarchive.tables.definitions import TABLES

    try:
        table = open_catalog(archive).load_table(("newsarchive", name))
    except NoSuchTableError:
        return TABLES[name].schema.empty_table()
    return table.scan(**scan).to_arrow()


def rows(archive: Path | str, table: str = "articles") -> list[dict[str, Any]]:
    """Every row of one table of ``archive``'s embedded catalog, as dicts (see :func:`read_table`)."""
    return read_table(archive, table).to_pylist()


def sql_rows(archive: Path | str, sql: str = "SELECT * FROM a", kind: str = "articles") -> list[dict[str, Any]]:
    """``sql`` over the archive's ``kind`` table (read by pyiceberg), named ``a``."""
    import duckdb

    con = duckdb.connect()
    con.register("a", read_table(archive, kind))
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def run_row(archive: Path | str, run_id: str) -> dict[str, Any]:
    """The ``runs`` row of ``run_id``, maps as dicts."""
    found = [r for r in read_table(archive, "runs").to_pylist() if r["run_id"] == run_id]
    assert len(found) == 1, f"{len(found)} runs rows for {run_id}"
    row = found[0]
    for name in ("requests_by_kind", "responses_by_status", "quarantined_by_reason", "counts"):
        row[name] = dict(row[name] or [])
    return row


def snapshots(archive: Path | str, name: str = "articles") -> list[dict[str, str]]:
    """The summaries of every snapshot of one table, oldest first."""
    table = open_catalog(archive).load_table(("newsarchive", name))
    return [dict(s.summary.additional_properties) for s in table.snapshots() if s.summary is not None]


def run_crawl(
    spider: str,
    settings: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 180,
) -> CrawlResult:
    """``python -m newsarchive crawl spider -s NAME=VALUE...``, as users and the DAGs run it
    (a Twisted reactor cannot restart inside one process)."""
    args = [sys.executable, "-m", "newsarchive", "crawl", spider]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    args += extra_args or []
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env or clean_env(), cwd=ROOT)
    archive = settings.get("ARCHIVE_URI")
    return CrawlResult(
        proc.returncode, last_json(proc.stdout), proc.stdout, proc.stderr, Path(archive) if archive else None
    )


def counters(result: CrawlResult) -> dict[str, Any]:
    """Every counter of a crawl's ``runs`` row by its name: the counted columns
    (``articles_written``, ``quarantined``, ``duplicates``, ``lists_ok``, ...),
    ``requests_by_kind``, ``quarantined_by_reason`` and each entry of ``counts``
    (``skipped_archived``, ``quarantine_repeats``, the spiders' own counters)."""
    row = result.run
    named = ("requests", "articles_written", "quarantined", "duplicates", "lists_ok", "lists_failed")
    return {
        **row["counts"],
        **{name: row[name] for name in named},
        "requests_by_kind": row["requests_by_kind"],
        "quarantined_by_reason": row["quarantined_by_reason"],
    }


def install_finews_faults(server: FeedServer) -> dict[str, str]:
    """Make four texts of the sample site misbehave: ``retried`` answers 503 then 200,
    ``missing`` answers 404, ``reset`` drops the connection every time, ``gzipped`` comes
    gzip-encoded (``Content-Encoding: gzip``). Returns their infoCodes."""
    import gzip

    from newsarchive.samples.feedserver import TEXT, Reply, sample_dir

    texts = json.loads((sample_dir() / "texts.json").read_text(encoding="utf-8"))
    retried, missing, reset, gzipped = sorted(texts)[:4]

    def body(code: str) -> bytes:
        return json.dumps(texts[code], ensure_ascii=False).encode()

    server.add(f"{TEXT}?id={retried}", [Reply(status=503, body=b"busy"), Reply(body=body(retried))])
    server.add(f"{TEXT}?id={missing}", Reply(status=404, body=b'{"error": "gone"}'))
    server.add(f"{TEXT}?id={reset}", Reply(action="reset"))
    encoded = Reply(body=gzip.compress(body(gzipped)), headers={"Content-Encoding": "gzip"})
    server.add(f"{TEXT}?id={gzipped}", encoded)
    return {"retried": retried, "missing": missing, "reset": reset, "gzipped": gzipped}


def s3_env(seaweed: Any, **extra: str) -> dict[str, str]:
    """Environment for a subprocess talking to the test server via the standard AWS chain."""
    return clean_env(**{**seaweed.config.env(), **extra})


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path | str = ROOT
) -> subprocess.CompletedProcess[str]:
    """``python -m newsarchive ARGS...`` in a subprocess (by default in the repository, with
    :func:`clean_env`)."""
    return subprocess.run(
        [sys.executable, "-m", "newsarchive", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or clean_env(),
        cwd=cwd,
    )


def last_json(stdout: str) -> dict[str, Any]:
    """The last JSON line a command printed (its summary), or ``{}``."""
    lines = [ln for ln in stdout.strip().splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def catalog_env(properties: dict[str, str], name: str = "newsarchive") -> dict[str, str]:
    """pyiceberg's environment form of a catalog's properties (``s3.endpoint`` →
    ``PYICEBERG_CATALOG__NEWSARCHIVE__S3__ENDPOINT``)."""
    prefix = f"PYICEBERG_CATALOG__{name.upper()}__"
    return {prefix + k.replace(".", "__").replace("-", "_").upper(): v for k, v in properties.items()}


def the_record_at(archive: Path, key: str, offset: int, length: int) -> tuple[Any, bytes]:
    """What a ranged GET of (offset, length) returns: exactly one gzip member, one record."""
    import io
    import zlib

    from warcio.archiveiterator import ArchiveIterator

    with (archive / key).open("rb") as fh:
        fh.seek(offset)
        data = fh.read(length)
    inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
    inflate.decompress(data)
    assert inflate.eof and inflate.unused_data == b"", "not exactly one gzip member"
    found = list(ArchiveIterator(io.BytesIO(data)))
    assert len(found) == 1
    rec = next(ArchiveIterator(io.BytesIO(data)))
    return rec, rec.raw_stream.read()
