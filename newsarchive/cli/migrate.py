"""Import an archive of the old layout (Parquet parts and run manifests) into the tables.

Each old run is committed as itself: its article rows, then its quarantine rows, then its
`runs` row, each in one snapshot whose newsarchive.run-id is the old run id (operation
`migrate`). A rerun skips what is committed, so the import happens exactly once, and a
migration killed midway completes on the next run. Parts no manifest names (a run that died)
are imported too, as `recovered` runs. Then the tables are checked against the old rows
(article versions by content_sha256, quarantine rows per run, one `runs` row per run) and a
JSON summary printed. The old archive is only read. Exit 1 if the check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newsarchive.archive.legacy import ARTICLES, QUARANTINE, LegacyArchive, started_at_of
from newsarchive.cli import EXIT_FAILED, EXIT_OK
from newsarchive.cli.catalogopts import add_catalog_arguments, open_catalog
from newsarchive.cli.console import Meter, say, seconds
from newsarchive.tables.commit import RUN_ID, commit_files
from newsarchive.tables.definitions import RUNS, TABLES, ensure_all
from newsarchive.tables.lookup import VERSION_COLUMNS, article_duplicates

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

logger = logging.getLogger(__name__)

MIGRATE = "migrate"
#: The column whose month partitions each table (besides ``source``).
TIME_COLUMN = {ARTICLES: "published_at", QUARANTINE: "seen_at"}
#: Manifest counters that have a column of their own in ``runs``.
_OWN_COUNTERS = (
    "requests",
    "requests_by_kind",
    "responses_by_status",
    "articles_written",
    "quarantined",
    "quarantined_by_reason",
    "duplicates",
    "lists_ok",
    "lists_failed",
)


@dataclass
class MigrationReport:
    source: str
    runs: int = 0
    migrated: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    articles: int = 0
    quarantine: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "failed",
            "from": self.source,
            "runs": self.runs,
            "runs_migrated_now": len(self.migrated),
            "runs_without_manifest": len(self.recovered),
            "articles_committed_now": self.articles,
            "quarantine_committed_now": self.quarantine,
            "duplicates_left_out": self.duplicates,
            "checks": self.checks,
            "problems": self.problems,
        }


def _committed_runs(table: Table) -> set[str]:
    """The runs whose rows ``table`` holds: named by a snapshot, or by a row (snapshots
    expire, and compaction rewrites the rows under its own id)."""
    found = {str(s.summary[RUN_ID]) for s in table.snapshots() if s.summary is not None and RUN_ID in s.summary}
    if table.current_snapshot() is not None:
        column = table.scan(selected_fields=("run_id",)).to_arrow().column("run_id")
        found.update(str(r) for r in pc.unique(column).to_pylist() if r is not None)
    return found


def _partitions(rows: pa.Table, time_column: str) -> list[pa.Table]:
    """``rows`` split by (source, UTC month of ``time_column``): one file per partition, as
    the tables' partition spec needs."""
    month = pc.strftime(rows.column(time_column), format="%Y-%m")
    keyed = rows.append_column("__month", month)
    parts = []
    for combo in keyed.group_by(["source", "__month"]).aggregate([]).to_pylist():
        mask = None
        for column, value in (("source", combo["source"]), ("__month", combo["__month"])):
            cond = pc.is_null(keyed.column(column)) if value is None else pc.equal(keyed.column(column), value)
            mask = cond if mask is None else pc.and_(mask, cond)
        parts.append(keyed.filter(mask).drop_columns(["__month"]))
    return parts


def _write(table: Table, rows: pa.Table, name: str) -> str:
    path = f"{table.location()}/data/{name}.parquet"
    with table.io.new_output(path).create(overwrite=True) as out:
        pq.write_table(rows, out, compression="zstd")
    return path


def _stage(
    legacy: LegacyArchive,
    table: Table,
    name: str,
    files: dict[str, list[str]],
    pending: set[str],
    meter: Meter | None = None,
) -> dict[str, list[str]]:
    """The rows of the ``pending`` runs written as Parquet files in the table's location
    (one old part read at a time; uncommitted files are orphans maintenance removes, and
    a rerun writes the same names again)."""
    schema = TABLES[name].schema
    staged: dict[str, list[str]] = defaultdict(list)
    for key, run_ids in files.items():
        wanted = [r for r in run_ids if r in pending]
        if not wanted:
            continue
        rows = legacy.read(key, schema)
        if meter is not None:
            meter.advance(detail=f"{name}: {key}")
        tag = hashlib.sha256(key.encode()).hexdigest()[:12]
        for run in wanted:
            of_run = rows.filter(pc.equal(rows.column("run_id"), run))
            for n, part in enumerate(_partitions(of_run, TIME_COLUMN[name])):
                staged[run].append(_write(table, part, f"{MIGRATE}-{run}-{tag}-{n}"))
    return staged


def _counter_map(value: Any) -> list[tuple[str, int]] | None:
    if not isinstance(value, dict):
        return None
    return [(str(k), int(v)) for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)]


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def run_row(
    run: str, manifest: dict[str, Any] | None, tables: dict[str, Table], catalog_label: str, spider: str | None
) -> dict[str, Any]:
    """The ``runs`` row of an old run: its manifest's fields, and what the tables hold of it."""
    m = manifest or {}
    found = m.get("counts")
    counts: dict[str, Any] = found if isinstance(found, dict) else {}
    snapshots = {}
    written = {}
    for name in (ARTICLES, QUARANTINE):
        snapshot = next(
            (s for s in tables[name].snapshots() if s.summary is not None and s.summary.get(RUN_ID) == run), None
        )
        snapshots[name] = snapshot.snapshot_id if snapshot else None
        written[name] = int(snapshot.summary.get("added-records", 0)) if snapshot and snapshot.summary else 0
    started = _time(m.get("started_at")) or started_at_of(run) or _time("1970-01-01T00:00:00+00:00")
    finished = _time(m.get("finished_at"))
    warc = [
        {"path": f["key"], "bytes": f.get("bytes"), "sha256": f.get("sha256"), "records": f.get("records")}
        for f in m.get("files", [])
        if isinstance(f, dict) and f.get("kind") == "warc" and isinstance(f.get("key"), str)
    ]
    return {
        "run_id": run,
        "dag_run_id": m.get("dag_run_id"),
        "spider": m.get("spider") or spider,
        "source": m.get("source") or spider,
        "status": m.get("status") if manifest else "recovered",
        "finish_reason": m.get("finish_reason"),
        "started_at": started,
        "finished_at": finished,
        "duration_s": (finished - started).total_seconds() if finished and started else None,
        "requests": counts.get("requests"),
        "requests_by_kind": _counter_map(counts.get("requests_by_kind")),
        "responses_by_status": _counter_map(counts.get("responses_by_status")),
        "articles_written": written[ARTICLES],
        "quarantined": written[QUARANTINE],
        "quarantined_by_reason": _counter_map(counts.get("quarantined_by_reason")),
        "duplicates": counts.get("duplicates"),
        "lists_ok": counts.get("lists_ok"),
        "lists_failed": counts.get("lists_failed"),
        "counts": _counter_map({k: v for k, v in counts.items() if k not in _OWN_COUNTERS}),
        "problems": [str(p) for p in m.get("problems", [])] if manifest else ["migrated: no run manifest"],
        "archive_problems": [str(p) for p in m.get("archive_problems", [])],
        "articles_snapshot_id": snapshots[ARTICLES],
        "quarantine_snapshot_id": snapshots[QUARANTINE],
        "commit_retries": 0,
        "warc_files": warc,
        "catalog": catalog_label,
        "settings": json.dumps(m.get("settings", {}), ensure_ascii=False, sort_keys=True, default=str),
        "pipeline_version": m.get("pipeline_version"),
        "schema_version": m.get("schema_version"),
    }


def migrate(
    legacy: LegacyArchive, catalog: Catalog, namespace: str, catalog_label: str = "", meter: Meter | None = None
) -> MigrationReport:
    """Commit every old run not yet in the tables (see the module docstring), then check;
    ``meter`` shows the old files read, then the runs committed."""
    report = MigrationReport(source=legacy.uri)
    tables = ensure_all(catalog, namespace)

    def loader(name: str) -> Callable[[], Table]:
        return lambda: catalog.load_table((namespace, name))

    manifests = legacy.manifests()
    files = {name: {key: legacy.run_ids(key) for key in legacy.live_files(name)} for name in (ARTICLES, QUARANTINE)}
    spiders: dict[str, str] = {}
    for of_table in files.values():
        for key, ids in of_table.items():
            for run in ids:
                spiders.setdefault(run, key.split("/")[1].removeprefix("source="))
    all_runs = sorted(set(manifests) | {r for of_table in files.values() for ids in of_table.values() for r in ids})
    report.runs = len(all_runs)
    report.recovered = [r for r in all_runs if r not in manifests]
    done = {name: _committed_runs(tables[name]) for name in (ARTICLES, QUARANTINE, RUNS)}
    pending = [r for r in all_runs if r not in done[RUNS]]
    if meter is not None:
        meter.update(description="migrate: reading old files", total=sum(len(f) for f in files.values()))
    staged = {
        name: _stage(legacy, tables[name], name, files[name], set(all_runs) - done[name] - done[RUNS], meter)
        for name in (ARTICLES, QUARANTINE)
    }
    if meter is not None:
        meter.update(description="migrate: committing runs", total=len(pending), completed=0)
    for run in pending:
        if staged[ARTICLES].get(run):
            outcome = commit_files(
                loader(ARTICLES),
                staged[ARTICLES][run],
                run_id=run,
                operation=MIGRATE,
                duplicates=article_duplicates,
                key_columns=VERSION_COLUMNS,
            )
            report.articles += outcome.rows
            report.duplicates += outcome.duplicates
        if staged[QUARANTINE].get(run):
            report.quarantine += commit_files(
                loader(QUARANTINE), staged[QUARANTINE][run], run_id=run, operation=MIGRATE
            ).rows
        fresh = {name: catalog.load_table((namespace, name)) for name in (ARTICLES, QUARANTINE)}
        row = run_row(run, manifests.get(run), fresh, catalog_label, spiders.get(run))
        runs_table = catalog.load_table((namespace, RUNS))
        path = _write(runs_table, pa.Table.from_pylist([row], schema=TABLES[RUNS].schema), f"{MIGRATE}-{run}")
        commit_files(loader(RUNS), [path], run_id=run, operation=MIGRATE)
        report.migrated.append(run)
        logger.info("Migrated run %s", run)
        if meter is not None:
            meter.advance(detail=f"{run}: {report.articles} articles, {report.quarantine} quarantine rows so far")
    check(legacy, catalog, namespace, files, all_runs, report)
    report.problems[:0] = legacy.problems
    return report


def check(
    legacy: LegacyArchive,
    catalog: Catalog,
    namespace: str,
    files: dict[str, dict[str, list[str]]],
    runs: list[str],
    report: MigrationReport,
) -> None:
    """The tables against the old rows: the same article versions (source, source_id,
    content_sha256), none twice; the same quarantine rows per run; one ``runs`` row per run."""
    from pyiceberg import expressions

    ex: Any = expressions
    wanted = set(runs)
    old_versions: set[tuple[Any, ...]] = set()
    old_quarantine: Counter[str] = Counter()
    key_schema = pa.schema([TABLES[ARTICLES].schema.field(c) for c in ("run_id", *VERSION_COLUMNS)])
    for key in files[ARTICLES]:
        rows = legacy.read(key, key_schema).to_pylist()
        old_versions.update((r["source"], r["source_id"], r["content_sha256"]) for r in rows)
    for key in files[QUARANTINE]:
        old_quarantine.update(
            legacy.read(key, pa.schema([TABLES[QUARANTINE].schema.field("run_id")])).column(0).to_pylist()
        )

    def rows_of(name: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
        table = catalog.load_table((namespace, name))
        if table.current_snapshot() is None:
            return []
        scan = table.scan(row_filter=ex.In("run_id", wanted), selected_fields=columns) if wanted else None
        return scan.to_arrow().to_pylist() if scan is not None else []

    articles = rows_of(ARTICLES, ("run_id", *VERSION_COLUMNS))
    versions = Counter((r["source"], r["source_id"], r["content_sha256"], r["pipeline_version"]) for r in articles)
    new_versions = {v[:3] for v in versions}
    twice = sum(1 for n in versions.values() if n > 1)
    quarantine = Counter(r["run_id"] for r in rows_of(QUARANTINE, ("run_id",)))
    run_rows = Counter(r["run_id"] for r in rows_of(RUNS, ("run_id",)))
    report.checks = {
        "article_versions_old": len(old_versions),
        "article_versions_in_table": len(new_versions),
        "article_rows_in_table": len(articles),
        "quarantine_rows_old": sum(old_quarantine.values()),
        "quarantine_rows_in_table": sum(quarantine.values()),
        "runs_rows": sum(run_rows.values()),
    }
    # A version another run archived first (a crawl of the same feeds) was left out as a
    # duplicate: it is in the table, under that run's id, not missing.
    missing = archived_elsewhere(catalog, namespace, old_versions - new_versions)
    if missing or not new_versions <= old_versions:
        report.problems.append(
            f"articles: {len(missing)} old versions missing, {len(new_versions - old_versions)} unexpected"
        )
    if twice:
        report.problems.append(f"articles: {twice} versions committed more than once")
    if quarantine != old_quarantine:
        report.problems.append(
            "quarantine: rows per run differ for runs "
            + ", ".join(sorted(r for r in set(quarantine) | set(old_quarantine) if quarantine[r] != old_quarantine[r]))
        )
    if run_rows != Counter(runs):
        report.problems.append("runs: not exactly one row per migrated run")


def archived_elsewhere(catalog: Catalog, namespace: str, versions: set[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    """Of ``versions`` (source, source_id, content_sha256), those the articles table holds
    under no run at all (one scan of their source ids)."""
    from pyiceberg import expressions

    ex: Any = expressions  # pyiceberg's own annotations of In() do not type-check
    if not versions:
        return set()
    table = catalog.load_table((namespace, ARTICLES))
    scan = table.scan(
        row_filter=ex.In("source_id", {v[1] for v in versions}),
        selected_fields=("source", "source_id", "content_sha256"),
    )
    held = {(r["source"], r["source_id"], r["content_sha256"]) for r in scan.to_arrow().to_pylist()}
    return versions - held


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="source", required=True, metavar="DIR|s3://BUCKET/PREFIX", help="the old archive"
    )
    add_catalog_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import time

    started = time.monotonic()
    try:
        legacy = LegacyArchive.open(args.source)
    except FileNotFoundError as exc:
        say(f"migrate: failed: {exc}")
        print(json.dumps({"status": "failed", "error": str(exc)}, ensure_ascii=False))
        return EXIT_FAILED
    catalog, spec = open_catalog(args, create=True)
    with Meter("migrate", total=0) as meter:
        report = migrate(legacy, catalog, spec.namespace, spec.describe(), meter)
    elapsed = seconds(time.monotonic() - started)
    if not report.migrated:
        say(
            f"migrate: nothing to migrate: all {report.runs} runs of {report.source} are in the tables already"
            f" ({'checked' if report.ok else 'check FAILED'}), {elapsed}"
        )
    else:
        say(
            f"migrate: {'ok' if report.ok else 'check FAILED'}, {len(report.migrated)} of {report.runs} runs, "
            f"{report.articles} articles, {report.quarantine} quarantine rows, {elapsed}"
        )
    print(json.dumps({**report.to_json(), "catalog": spec.describe()}, ensure_ascii=False, default=str))
    return EXIT_OK if report.ok else EXIT_FAILED
