"""One crawl's commit lifecycle: open the catalog, answer "is this archived?", commit at the end.

The extension is the run: its id, working directory (ARCHIVE_URI), catalog and what went
wrong. Other components find it with ``ArchiveRun.of(crawler)`` (``crawler.get_extension``).

* ``engine_started``: the working directory is swept of planted links, the catalog opened and
  the tables created or evolved. A catalog that cannot be opened stops the run at once
  (finish reason ``catalog_unavailable``): nothing is fetched for nothing.
* During the run, spiders ask which of the ids a list names are archived
  (:meth:`SourceIndex.prefetch`, one pushed-down query per list page, never every id) and
  the writers stream rows to files in the tables' locations (nothing visible yet).
* ``spider_closed`` (after the pipelines closed): the components that registered
  :meth:`before_commit` finish their files; then one commit per table, in this order:
  ``articles``, ``quarantine``, ``runs``. A ``runs`` row means the run is committed. Each
  commit is exactly once (``newsarchive.run-id`` in the snapshot summary) and re-checks for
  rows another writer committed meanwhile.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.defer import deferred_from_coro

from newsarchive import __version__
from newsarchive import settings as project_settings
from newsarchive.archive.versions import version_key
from newsarchive.redaction import redact, redact_value, redacted, secrets_from_env, setting_secrets
from newsarchive.runid import new_run_id
from newsarchive.schema import RUN_FIELDS, SCHEMA_VERSION
from newsarchive.tables import catalog as catalogs
from newsarchive.tables.commit import CommitOutcome, RetryPolicy, commit_files, commit_rows
from newsarchive.tables.definitions import ARTICLES, QUARANTINE, RUNS, TABLES, ensure_all
from newsarchive.tables.lookup import VERSION_COLUMNS, article_duplicates, id_filter, quarantine_duplicates
from newsarchive.tables.sink import DataFile
from newsarchive.timeparse import utcnow
from newsarchive.workdir import WorkDir, sweep_links

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

logger = logging.getLogger(__name__)

STATUS_STAT = "newsarchive/status"
#: Finish reason of a run whose catalog could not be opened.
CATALOG_UNAVAILABLE = "catalog_unavailable"


@dataclass(frozen=True)
class WarcFile:
    """A finished WARC file of the run, as the ``runs`` row lists it."""

    path: str
    bytes: int
    sha256: str
    records: int


def run_status(reason: str, problems: list[str], stats: dict[str, Any]) -> str:
    """``complete`` only when the crawl finished normally and nothing went wrong."""
    lists_ok = stats.get("newsarchive/lists/ok", 0)
    lists_failed = stats.get("newsarchive/lists/failed", 0)
    if lists_failed and not lists_ok:
        return "failed"
    if reason != "finished":
        return "partial" if stats.get("newsarchive/articles_written") else "failed"
    return "partial" if problems else "complete"


def shaping_settings(crawler: Crawler) -> dict[str, Any]:
    """Every setting newsarchive declares, plus any other set above Scrapy's defaults."""
    settings = crawler.settings
    declared = set(getattr(project_settings, "_defaults", {}))
    default_priority = SETTINGS_PRIORITIES["default"]
    names = {n for n in settings if n in declared or (settings.getpriority(n) or 0) > default_priority}
    return redacted({n: settings[n] for n in names})


def counts(stats: dict[str, Any]) -> dict[str, Any]:
    """The run's counters from the crawl stats, grouped as the ``runs`` columns hold them."""
    prefix = "newsarchive/"
    out: dict[str, Any] = {"requests_by_kind": {}, "quarantined_by_reason": {}, "counts": {}}
    named = {"requests", "articles_written", "quarantined", "duplicates", "lists_ok", "lists_failed"}
    for key, value in sorted(stats.items()):
        if not key.startswith(prefix) or not isinstance(value, int) or isinstance(value, bool):
            continue
        name = key[len(prefix) :]
        if name.startswith("requests/"):
            out["requests_by_kind"][name.split("/", 1)[1]] = value
        elif name.startswith("quarantined/"):
            out["quarantined_by_reason"][name.split("/", 1)[1]] = value
        elif name.replace("/", "_") in named:
            out[name.replace("/", "_")] = value
        elif name != "status":
            out["counts"][name.replace("/", "_")] = value
    for name in named:
        out.setdefault(name, 0)
    out["requests"] = stats.get("downloader/request_count", out["requests"])
    out["responses_by_status"] = {
        k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("downloader/response_status_count/")
    }
    return out


class SourceIndex:
    """What the tables hold of one source, asked about the candidates at hand.

    :meth:`prefetch` asks the ``articles`` table about many ids in one query (the spiders call
    it with every id of a list page); an id not prefetched is asked about alone. What this run
    writes is added as it is written. In a reparse only rows of its own pipeline version or
    newer count: what an older version parsed is asked for again (from the WARC) and written
    anew; rerunning the same reparse adds nothing."""

    def __init__(self, run: ArchiveRun, source: str, min_version: str | None = None) -> None:
        self.run = run
        self.source = source
        self.min_version = version_key(min_version) if min_version else None
        #: source_id → [(content_sha256, pipeline_version)] of the rows held; [] = asked, none.
        self._held: dict[str, list[tuple[str | None, str | None]]] = {}
        self.queries = 0

    def prefetch(self, ids: Iterable[Any]) -> None:
        wanted = {str(i) for i in ids if i is not None and str(i) not in self._held}
        if not wanted:
            return
        for i in wanted:
            self._held[i] = []
        table = self.run.table(ARTICLES)
        if table is None or table.current_snapshot() is None:
            return
        self.queries += 1
        # the ids' range as well as the ids: pyiceberg prunes files by an In of 200 values at most
        rows = (
            table.scan(row_filter=id_filter(self.source, wanted), selected_fields=VERSION_COLUMNS)
            .to_arrow()
            .to_pylist()
        )
        for row in rows:
            if self.min_version is not None and version_key(row["pipeline_version"]) < self.min_version:
                continue
            self._held[row["source_id"]].append((row["content_sha256"], row["pipeline_version"]))

    def __contains__(self, source_id: object) -> bool:
        key = str(source_id)
        if key not in self._held:
            self.prefetch([key])
        return bool(self._held.get(key))

    def has_version(self, source_id: str, content_sha256: str | None, pipeline_version: str | None = None) -> bool:
        """The same content by the same or a newer pipeline version is held."""
        if source_id not in self._held:
            self.prefetch([source_id])
        floor = version_key(pipeline_version) if pipeline_version else None
        return any(
            sha == content_sha256 and (floor is None or version_key(v) >= floor)
            for sha, v in self._held.get(source_id, [])
        )

    def add(self, source_id: str, content_sha256: str | None, pipeline_version: str | None = None) -> None:
        self._held.setdefault(source_id, []).append((content_sha256, pipeline_version))


class ArchiveRun:
    """The run (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.started_at: datetime = utcnow()
        self.run_id = new_run_id(self.started_at)
        self.workdir = WorkDir.from_uri(str(settings.get("ARCHIVE_URI") or "./archive"))
        self.spec = catalogs.from_settings(settings)
        self.dag_run_id: str | None = settings.get("DAG_RUN_ID") or None
        #: ``pipeline_version`` of the rows this run writes (setting ``PIPELINE_VERSION``).
        self.pipeline_version = str(settings.get("PIPELINE_VERSION") or __version__)
        #: A reparse: responses come from WARC files (``WARC_REPLAY_PATHS``), not the network.
        self.replay = bool(settings.getlist("WARC_REPLAY_PATHS"))
        #: Values that must never be written anywhere (secret env vars, passwords in URL settings).
        self.secrets = secrets_from_env() | setting_secrets(settings.copy_to_dict())
        #: A run that committed rows but no ``runs`` row this long ago is recorded as recovered.
        self.recover_after = settings.getfloat("ICEBERG_RECOVER_AFTER", 600.0)
        self.policy = RetryPolicy(attempts=max(1, settings.getint("ICEBERG_COMMIT_ATTEMPTS", 10)))
        #: Problems that make the run ``partial`` (a list feed down, a write error...).
        self.problems: list[str] = []
        #: Failures that make the run ``failed`` whatever else it did (its good rows could not
        #: all be written or committed). Also listed in ``problems``.
        self.failures: list[str] = []
        #: What the run found wrong in its working directory (planted links moved aside).
        self.archive_problems: list[str] = []
        #: The quarantine writer's intake, for rows found bad outside the item chain.
        self.quarantine: Callable[[Any], Any] | None = None
        self.warc_files: list[WarcFile] = []
        self.outcomes: dict[str, CommitOutcome] = {}
        self.catalog: Catalog | None = None
        self._tables: dict[str, Table] = {}
        #: Snapshot of each table when the run opened it: what its lookups were checked against.
        self._opened_at: dict[str, int | None] = {}
        self._staged: dict[str, list[DataFile]] = {ARTICLES: [], QUARANTINE: []}
        self._before_commit: list[Callable[[], None]] = []
        self._indexes: dict[str, SourceIndex] = {}
        self._opened = False
        self.committed = False
        #: Why a component stopped the crawl (:meth:`stop_crawl`), if one did.
        self.stop_reason: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveRun:
        run = cls(crawler)
        crawler.signals.connect(run.engine_started, signal=signals.engine_started)
        crawler.signals.connect(run.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(run.spider_error, signal=signals.spider_error)
        crawler.signals.connect(run.item_error, signal=signals.item_error)
        return run

    @classmethod
    def of(cls, crawler: Crawler) -> ArchiveRun:
        """The run of this crawler (the extension must be enabled: without it nothing is archived)."""
        run = crawler.get_extension(cls)
        if run is None:
            raise RuntimeError(f"{cls.__module__}.{cls.__name__} is not in EXTENSIONS: nothing could be archived")
        return run

    def stop_crawl(self, reason: str) -> None:
        """Close the spider with ``reason`` (nothing more is fetched for a run that cannot be
        archived); a no-op when no crawl is running (``crawler.engine`` raises before it starts).
        Found only once the crawl was ending (the writer process reports at its own pace), the
        reason is still the run's ``finish_reason``: it names why the run failed."""
        self.stop_reason = self.stop_reason or reason
        try:
            engine = self.crawler.engine
        except (AttributeError, RuntimeError):
            return
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason=reason))

    # --- opening ------------------------------------------------------------------------

    def engine_started(self) -> None:
        self.open()

    def open(self) -> None:
        """Sweep the working directory, open the catalog, create or evolve the tables."""
        if self._opened:
            return
        self._opened = True
        self.workdir.root.mkdir(parents=True, exist_ok=True)
        self.archive_problems.extend(sweep_links(self.workdir, self.run_id))
        try:
            self.catalog = self.spec.open()
            self._tables = ensure_all(self.catalog, self.spec.namespace)
        except Exception as exc:
            self.catalog = None
            problem = (
                f"the catalog cannot be opened ({self.spec.describe()}): {type(exc).__name__}: {self.redact(str(exc))}"
            )
            logger.error("Run %s stops: %s", self.run_id, problem)
            self.fail(problem)
            self.stop_crawl(CATALOG_UNAVAILABLE)
            return
        for name, table in self._tables.items():
            snap = table.current_snapshot()
            self._opened_at[name] = snap.snapshot_id if snap else None
        try:
            self.complete_unfinished_runs()
        except Exception as exc:  # best effort: the next run tries again
            logger.warning("Completing unfinished runs failed: %s", self.redact(str(exc)))
        logger.info("Run %s: %s; working directory %s", self.run_id, self.spec.describe(), self.workdir.root)

    def complete_unfinished_runs(self) -> list[str]:
        """Write the ``runs`` row of every run that committed rows but died before its own
        ``runs`` commit (status ``recovered``), once it is older than ICEBERG_RECOVER_AFTER
        seconds (a live run is between its commits for a moment only)."""
        from newsarchive.tables.commit import OPERATION, RUN_ID

        runs = self._tables[RUNS]
        horizon = (utcnow().timestamp() - self.recover_after) * 1000
        found: dict[str, dict[str, Any]] = {}
        for name in (ARTICLES, QUARANTINE):
            for snap in self._tables[name].snapshots():
                summary = snap.summary
                if summary is None:
                    continue
                run_id = summary.get(RUN_ID)
                if not run_id or summary.get(OPERATION) == "compact" or snap.timestamp_ms > horizon:
                    continue
                entry = found.setdefault(run_id, {"ms": snap.timestamp_ms, "operation": summary.get(OPERATION)})
                entry[name] = (snap.snapshot_id, int(summary.get("added-records") or 0))
        if not found:
            return []
        from pyiceberg import expressions

        ex: Any = expressions  # its pydantic-generated signatures confuse mypy
        wanted = ex.In("run_id", set(found))
        have = set(runs.scan(row_filter=wanted, selected_fields=("run_id",)).to_arrow().column("run_id").to_pylist())
        done = []
        for run_id, entry in sorted(found.items()):
            if run_id in have or run_id == self.run_id:
                continue
            when = datetime.fromtimestamp(entry["ms"] / 1000, tz=UTC)
            row: dict[str, Any] = dict.fromkeys(RUN_FIELDS)
            articles, quarantined = entry.get(ARTICLES, (None, 0)), entry.get(QUARANTINE, (None, 0))
            row.update(
                run_id=run_id,
                status="recovered",
                started_at=_started(run_id) or when,
                finished_at=when,
                articles_written=articles[1],
                quarantined=quarantined[1],
                articles_snapshot_id=articles[0],
                quarantine_snapshot_id=quarantined[0],
                problems=[f"the run ended before its runs row was committed; completed by run {self.run_id}"],
                catalog=self.spec.describe(),
            )
            commit_rows(
                self._loader(RUNS),
                pa.Table.from_pylist([row], schema=TABLES[RUNS].schema),
                run_id=run_id,
                operation=str(entry["operation"] or "crawl"),
                policy=self.policy,
            )
            logger.warning("Run %s had committed rows but no runs row: recorded as recovered", run_id)
            done.append(run_id)
        return done

    def table(self, name: str) -> Table | None:
        """The table as the run opened it (None when the catalog could not be opened)."""
        if not self._opened:
            self.open()
        return self._tables.get(name)

    def index(self, source: str) -> SourceIndex:
        if source not in self._indexes:
            floor = self.pipeline_version if self.replay else None
            self._indexes[source] = SourceIndex(self, source, min_version=floor)
        return self._indexes[source]

    # --- during the run -----------------------------------------------------------------

    def redact(self, text: str) -> str:
        """``text`` with this run's secrets and any ``user:password@`` masked."""
        return redact(redact_value(text), self.secrets)

    def fail(self, problem: str) -> None:
        """The run cannot write or commit its good rows: it is ``failed``."""
        if problem not in self.failures:
            self.failures.append(problem)
            self.problems.append(problem)

    def before_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the run ends, before its commits (writers finish files)."""
        self._before_commit.append(callback)

    def stage(self, table: str, files: Iterable[DataFile]) -> None:
        """Files to commit to ``table`` at the end of the run."""
        self._staged[table].extend(files)

    def spider_error(self, failure: Any, response: Any, spider: Spider) -> None:
        self.problems.append(f"spider error on {response.url}: {failure.getErrorMessage()}")

    def item_error(self, item: Any, response: Any, spider: Spider, failure: Any) -> None:
        self.problems.append(f"pipeline error: {failure.getErrorMessage()}")

    # --- the end ------------------------------------------------------------------------

    def spider_closed(self, spider: Spider, reason: str) -> None:
        for callback in self._before_commit:
            try:
                callback()
            except Exception as exc:  # one component's failure must not cost the others' rows
                logger.exception("Finishing before the commit failed")
                self.problems.append(f"finishing before the commit failed: {type(exc).__name__}: {exc}")
        stats = self.crawler.stats
        assert stats is not None
        if self.catalog is None:
            stats.set_value(STATUS_STAT, "failed")
            self._discard()
            # why was logged once, as an error, when the catalog could not be opened
            logger.info("Run %s failed: nothing committed", self.run_id)
            return
        self._commit_data(stats)
        if reason == "finished" and self.stop_reason is not None:
            reason = self.stop_reason  # the crawl ended before the stop could take effect
        values = stats.get_stats()
        status = "failed" if self.failures else run_status(reason, self.problems, values)
        stats.set_value(STATUS_STAT, status)
        row = self.run_row(spider, reason, status, values)
        try:
            self.outcomes[RUNS] = commit_rows(
                self._loader(RUNS),
                pa.Table.from_pylist([row], schema=TABLES[RUNS].schema),
                run_id=self.run_id,
                dag_run_id=self.dag_run_id,
                operation=self.operation,
                policy=self.policy,
            )
        except Exception as exc:
            status = "failed"
            stats.set_value(STATUS_STAT, status)
            logger.error("Run %s: the runs row could not be committed: %s", self.run_id, self.redact(str(exc)))
            self.fail(f"committing runs failed: {type(exc).__name__}: {self.redact(str(exc))}")
            return
        self.committed = status != "failed" or bool(values.get("newsarchive/articles_written"))
        log = logger.info if status == "complete" else logger.error
        log(
            "Run %s %s: %d articles, %d quarantined committed to %s",
            self.run_id,
            status,
            row["articles_written"] or 0,
            row["quarantined"] or 0,
            self.spec.describe(),
        )

    @property
    def operation(self) -> str:
        return "reparse" if self.replay else "crawl"

    def _loader(self, name: str) -> Callable[[], Table]:
        assert self.catalog is not None
        catalog, identifier = self.catalog, (self.spec.namespace, name)
        return lambda: catalog.load_table(identifier)

    def _commit_data(self, stats: Any) -> None:
        """articles, then quarantine; a failed articles commit leaves the quarantine's rows too
        (they would describe a run that archived nothing)."""
        checks = {
            ARTICLES: (article_duplicates, VERSION_COLUMNS),
            QUARANTINE: (quarantine_duplicates, ("source", "fingerprint")),
        }
        for name in (ARTICLES, QUARANTINE):
            files = self._staged[name]
            duplicates, keys = checks[name]
            try:
                outcome = commit_files(
                    self._loader(name),
                    [f.path for f in files],
                    run_id=self.run_id,
                    dag_run_id=self.dag_run_id,
                    operation=self.operation,
                    duplicates=duplicates,
                    key_columns=keys,
                    # the dedupe asked the articles table as it was opened: recheck only if it moved
                    checked_at=self._opened_at.get(name) if name == ARTICLES else _always(),
                    policy=self.policy,
                )
            except Exception as exc:
                problem = f"committing {name} failed: {type(exc).__name__}: {self.redact(str(exc))}"
                logger.error("Run %s: %s", self.run_id, problem)
                self.fail(problem)
                self._discard()
                self._count(stats, name, 0)
                return
            self.outcomes[name] = outcome
            rows = sum(f.rows for f in files) if outcome.already else outcome.rows
            self._count(stats, name, rows, outcome.duplicates)
            if name == QUARANTINE and not outcome.already:
                self._count_reasons(stats, outcome)

    def _count_reasons(self, stats: Any, outcome: CommitOutcome) -> None:
        """``quarantined/<reason>`` from the committed files (repeats left out by the commit)."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        table = self._tables[QUARANTINE]
        for key in [k for k in stats.get_stats() if k.startswith("newsarchive/quarantined/")]:
            stats.get_stats().pop(key, None)
        for path in outcome.files:
            with table.io.new_input(path).open() as f:
                reasons = pq.read_table(f, columns=["reason"]).column("reason")
            for entry in pc.value_counts(reasons).to_pylist():
                stats.inc_value(f"newsarchive/quarantined/{entry['values']}", entry["counts"])

    def _count(self, stats: Any, name: str, rows: int, duplicates: int = 0) -> None:
        """Counts of what was *committed*, not what was meant to be."""
        if name == ARTICLES:
            stats.set_value("newsarchive/articles_written", rows)
            if duplicates:
                stats.inc_value("newsarchive/duplicates", duplicates)
        else:
            stats.set_value("newsarchive/quarantined", rows)
            if duplicates:
                stats.inc_value("newsarchive/quarantine_repeats", duplicates)

    def _discard(self) -> None:
        """Delete the data files of a run that will not commit them (orphans otherwise)."""
        for name, files in self._staged.items():
            table = self._tables.get(name)
            if table is None:
                continue
            for f in files:
                try:
                    table.io.delete(f.path)
                except Exception as exc:  # an orphan maintenance removes; never a visible row
                    logger.warning("Could not delete %s: %s", f.path, exc)
            files.clear()

    def run_row(self, spider: Spider, reason: str, status: str, stats: dict[str, Any]) -> dict[str, Any]:
        c = counts(stats)
        finished = utcnow()
        snapshots = {name: o.snapshot_id for name, o in self.outcomes.items()}
        row: dict[str, Any] = {
            "run_id": self.run_id,
            "dag_run_id": self.dag_run_id,
            "spider": spider.name,
            "source": getattr(spider, "source", spider.name),
            "status": status,
            "finish_reason": reason,
            "started_at": self.started_at,
            "finished_at": finished,
            "duration_s": (finished - self.started_at).total_seconds(),
            "requests": c["requests"],
            "requests_by_kind": list(c["requests_by_kind"].items()),
            "responses_by_status": list(c["responses_by_status"].items()),
            "articles_written": c["articles_written"],
            "quarantined": c["quarantined"],
            "quarantined_by_reason": list(c["quarantined_by_reason"].items()),
            "duplicates": c["duplicates"],
            "lists_ok": c["lists_ok"],
            "lists_failed": c["lists_failed"],
            "counts": list(c["counts"].items()),
            "problems": [self.redact(p) for p in self.problems],
            "archive_problems": [self.redact(p) for p in self.archive_problems],
            "articles_snapshot_id": snapshots.get(ARTICLES),
            "quarantine_snapshot_id": snapshots.get(QUARANTINE),
            "commit_retries": sum(o.conflicts for o in self.outcomes.values()),
            "warc_files": [vars(w) for w in self.warc_files],
            "catalog": self.spec.describe(),
            "settings": json.dumps(shaping_settings(self.crawler), ensure_ascii=False, default=str),
            "pipeline_version": self.pipeline_version,
            "schema_version": SCHEMA_VERSION,
        }
        assert set(row) == set(RUN_FIELDS), set(row) ^ set(RUN_FIELDS)
        # A lone surrogate quoted in a problem (a source's text) is stored escaped.
        for name in ("problems", "archive_problems"):
            row[name] = [p.encode("utf-8", "backslashreplace").decode("utf-8") for p in row[name]]
        return row


def _started(run_id: str) -> datetime | None:
    """The start time a run id begins with (``20261127T183000Z-…``)."""
    try:
        return datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _always() -> object:
    from newsarchive.tables.commit import UNCHECKED

    return UNCHECKED
