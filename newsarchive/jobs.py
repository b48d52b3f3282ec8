"""What the Airflow tasks do, as plain functions (the DAG files only wire them up).

Each job runs a ``newsarchive`` command as a subprocess (a Twisted reactor cannot restart
inside a worker). A crawl commits its rows to the Iceberg catalog itself; the job then
uploads its WARC files to WARC_URI. The catalog the subprocesses commit to is pyiceberg's
configuration of ICEBERG_CATALOG, or, when the Airflow connection ICEBERG_CONN_ID exists,
that connection's extras (pyiceberg properties), passed to the child as
``PYICEBERG_CATALOG__<NAME>__<KEY>`` variables: never on a command line, never logged.
Object-store credentials (WARC, report) come from the Airflow connection AWS_CONN_ID when it
exists, else from the standard AWS chain; they are never passed to the subprocesses.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsarchive.config import missing_settings, not_configured_message, setting

if TYPE_CHECKING:
    from newsarchive.storage.base import Store
    from newsarchive.storage.store import StoreOptions

logger = logging.getLogger(__name__)

#: pyiceberg reads catalog properties from variables named so (``__`` → ``.``, ``_`` → ``-``).
PYICEBERG_CATALOG_ENV = "PYICEBERG_CATALOG__"


class JobFailedError(RuntimeError):
    """The job did its best (what could be archived was committed) and must be retried."""


class NotConfiguredError(ValueError):
    """The spider lacks a setting it has no default for; retrying cannot help."""


def env_prefix(catalog: str) -> str:
    """``PYICEBERG_CATALOG__<NAME>__`` for catalog ``catalog`` (pyiceberg reads ``_`` in a
    name as ``-``, so a name holding ``_`` cannot be given this way)."""
    if not catalog or "_" in catalog:
        raise ValueError(f"catalog name {catalog!r}: pyiceberg's variables cannot name a catalog with '_'")
    return f"{PYICEBERG_CATALOG_ENV}{catalog.upper().replace('-', '_')}__"


def properties_env(catalog: str, properties: Mapping[str, Any]) -> dict[str, str]:
    """Catalog properties as the variables pyiceberg reads back into the same properties:
    ``s3.access-key-id`` → ``PYICEBERG_CATALOG__<NAME>__S3__ACCESS_KEY_ID``."""
    prefix = env_prefix(catalog)
    out: dict[str, str] = {}
    for key, value in properties.items():
        if value is None:
            continue
        if key != key.lower() or "_" in key or not key or key.startswith(".") or ".." in key:
            raise ValueError(
                f"catalog property {key!r} cannot be passed as a pyiceberg variable (pyiceberg reads them "
                "in lower case, '_' as '-': write the key in lower case, without '_')"
            )
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        out[prefix + key.replace("-", "_").replace(".", "__").upper()] = text
    return out


def connection_properties(conn_id: str) -> dict[str, Any] | None:
    """The extras of Airflow connection ``conn_id`` (pyiceberg catalog properties), or None
    when there is no such connection (or no Airflow)."""
    if not conn_id:
        return None
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # no Airflow, or no such connection: both mean "not configured here"
        logger.debug("No Airflow connection %r (%s)", conn_id, type(exc).__name__)
        return None
    extra: dict[str, Any] = conn.extra_dejson or {}
    return extra or None


@dataclass(frozen=True)
class CatalogEnv:
    """The catalog a job's subprocesses commit to."""

    name: str
    namespace: str
    #: ``PYICEBERG_CATALOG__<NAME>__*`` variables from the Airflow connection (empty without one).
    env: Mapping[str, str] = field(repr=False, default_factory=dict)
    #: the catalog's properties (credentials included: never logged)
    properties: Mapping[str, Any] = field(repr=False, default_factory=dict)
    #: where its configuration comes from: ``connection <id>``, ``pyiceberg``, or ``embedded``
    origin: str = "embedded"
    #: type and location, safe for logs
    description: str = ""

    @property
    def embedded(self) -> bool:
        """No catalog configured: each working directory gets its own SQLite catalog."""
        return self.origin == "embedded"

    def child_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The subprocess's environment: ``base`` (the worker's) without AWS credentials and,
        when the connection configures the catalog, without other variables for it."""
        env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("AWS_")}
        if self.env:
            prefix = env_prefix(self.name)
            env = {k: v for k, v in env.items() if not k.upper().startswith(prefix)}
            env.update(self.env)
        env["NEWSARCHIVE_ICEBERG_CATALOG"] = self.name
        env["NEWSARCHIVE_ICEBERG_NAMESPACE"] = self.namespace
        return env


def catalog_env(name: str | None = None, namespace: str | None = None, conn_id: str | None = None) -> CatalogEnv:
    """The catalog of the settings ICEBERG_CATALOG, ICEBERG_NAMESPACE and ICEBERG_CONN_ID."""
    from newsarchive.tables.catalog import CatalogSpec, configured

    name = str(name or setting("ICEBERG_CATALOG")).strip()
    namespace = str(namespace or setting("ICEBERG_NAMESPACE")).strip()
    conn_id = str(setting("ICEBERG_CONN_ID") if conn_id is None else conn_id)
    props = connection_properties(conn_id)
    if props is not None:
        env, origin = properties_env(name, props), f"connection {conn_id!r}"
    else:
        props, env, origin = configured(name), {}, "pyiceberg"
        if props is None:
            return CatalogEnv(name, namespace, origin="embedded", description="embedded SQLite catalog")
    description = CatalogSpec(name, namespace, props).describe()
    return CatalogEnv(name, namespace, env, props, origin, f"{description} (from {origin})")


def embedded_warning(catalog: CatalogEnv, workdir: Path) -> str:
    conn_id = setting("ICEBERG_CONN_ID")
    prefix = f"{PYICEBERG_CATALOG_ENV}{catalog.name.upper().replace('-', '_')}__"
    return (
        f"news_crawl: no Iceberg catalog {catalog.name!r} is configured (no Airflow connection "
        f"{conn_id!r}, no {prefix}* variables or .pyiceberg.yaml entry): the crawls "
        f"commit to an embedded SQLite catalog in {workdir}/catalog.db on this worker, which no "
        f"other worker sees. Configure a catalog every worker shares: an Airflow connection {conn_id!r} "
        f'whose extras are pyiceberg properties (e.g. {{"type": "rest", "uri": "https://…", "warehouse": "…"}}), '
        f"or {prefix}TYPE, __URI, __WAREHOUSE… on every worker (docs/scheduling.md)."
    )


@dataclass(frozen=True)
class Destination:
    """Where one kind of a job's output goes (WARC files, crawl logs, the report): the URI its
    setting gives, else a directory on this worker. The one place that choice is made."""

    #: the configured URI (an ``s3://`` prefix); empty: none, the output stays in ``local``
    uri: str
    #: the directory on this worker it stays in (or is written to) without a URI
    local: Path
    aws_conn_id: str = ""
    options: StoreOptions | None = field(default=None, repr=False)

    @property
    def remote(self) -> bool:
        return bool(self.uri)

    def where(self, key: str = "") -> str:
        """Where ``key`` (or the destination itself) ends up: under the URI, else the local path."""
        if self.uri:
            return f"{self.uri}/{key}" if key else self.uri
        return str(self.local / key) if key else str(self.local)

    def store(self) -> Store:
        """The store to put things in: the bucket prefix (credentials of AWS_CONN_ID), else the
        local directory."""
        if not self.uri:
            from newsarchive.storage.local import LocalStore

            return LocalStore(str(self.local))
        from newsarchive.storage.store import StoreOptions, s3_store

        return s3_store(self.uri, s3_config(self.aws_conn_id), self.options or StoreOptions.from_settings(setting))


@dataclass(frozen=True)
class JobConfig:
    staging_dir: Path
    warc_uri: str
    #: where crawl logs go: LOG_URI, else beside the WARC files
    log_uri: str
    report_uri: str
    aws_conn_id: str
    prune: bool
    store_options: StoreOptions | None = field(default=None, repr=False)

    @classmethod
    def load(cls) -> JobConfig:
        from newsarchive.storage.store import StoreOptions

        return cls(
            staging_dir=Path(str(setting("STAGING_DIR"))).expanduser().resolve(),
            warc_uri=str(setting("WARC_URI") or "").rstrip("/"),
            log_uri=str(setting("LOG_URI") or setting("WARC_URI") or "").rstrip("/"),
            report_uri=str(setting("REPORT_URI") or ""),
            aws_conn_id=str(setting("AWS_CONN_ID")),
            prune=bool(setting("STAGING_PRUNE")),
            store_options=StoreOptions.from_settings(setting),
        )

    def destination(self, uri: str, local: Path) -> Destination:
        """``uri`` if set, else ``local``: see :class:`Destination`."""
        return Destination(uri, local, self.aws_conn_id, self.store_options)

    def warc(self, workdir: Path) -> Destination:
        return self.destination(self.warc_uri, workdir / "warc")

    def logs(self, workdir: Path) -> Destination:
        from newsarchive import crawllog

        return self.destination(self.log_uri, workdir / crawllog.LOG_DIR)

    def report(self) -> tuple[Destination, str]:
        """The report's destination and its name there: REPORT_URI (an object in a bucket, or
        a local file), else ``<STAGING_DIR>/report.html``."""
        location = self.report_uri
        if location.startswith("s3://"):
            from newsarchive.storage.s3 import format_s3_uri, parse_s3_uri

            bucket, key = parse_s3_uri(location)
            if not key:
                raise ValueError(f"REPORT_URI {location!r} names a bucket, not an object")
            parent, _, name = key.rpartition("/")
            return self.destination(format_s3_uri(bucket, parent), self.staging_dir), name
        path = Path(location or self.staging_dir / "report.html").expanduser().resolve()
        return self.destination("", path.parent), path.name

    def workdir(self, spider: str, catalog: CatalogEnv) -> Path:
        """A crawl's ARCHIVE_URI: its own directory when the catalog is shared (concurrent
        crawls never share temporary files); STAGING_DIR itself on the embedded fallback, so
        that every spider of the worker commits to the same ``catalog.db``."""
        return self.staging_dir if catalog.embedded else self.staging_dir / spider


def dag_defaults() -> dict[str, Any]:
    """What every newsarchive DAG shares: start date, no catchup, one active run, owner,
    retries (read when Airflow parses the DAG files; light imports only)."""
    from datetime import timedelta

    import pendulum

    return {
        "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
        "catchup": False,
        "max_active_runs": 1,
        "default_args": {
            "owner": str(setting("AIRFLOW_OWNER")),
            "retries": int(setting("AIRFLOW_RETRIES")),
            "retry_delay": timedelta(minutes=int(setting("AIRFLOW_RETRY_DELAY_MINUTES"))),
        },
    }


def scheduled_spiders() -> list[str]:
    """The spiders of ``SPIDERS`` the news_crawl DAG maps over: those that can run. A spider
    without its required settings (finews ships no hosts) is left out with one warning
    naming them, instead of a task that would fail and retry every run."""
    spiders = []
    for spider in dict.fromkeys(str(s).strip() for s in setting("SPIDERS") if str(s).strip()):
        missing = missing_settings(spider)
        if missing:
            logger.warning(
                "news_crawl: not scheduling %s: spider %r is not configured: %s",
                spider,
                spider,
                not_configured_message(spider, missing),
            )
            continue
        spiders.append(spider)
    if not spiders:
        logger.warning(
            "news_crawl: no spider to crawl: none of NEWSARCHIVE_SPIDERS=%s can run (see above); every run "
            "crawls nothing until one is configured",
            ",".join(str(s) for s in setting("SPIDERS")),
        )
    return spiders


def archive_asset_uri() -> str:
    """The URI of the articles table's Airflow Asset (documented for downstream DAGs)."""
    return f"iceberg://{setting('ICEBERG_CATALOG')}/{setting('ICEBERG_NAMESPACE')}/articles"


def connection_exists(conn_id: str) -> bool:
    """Whether Airflow knows connection ``conn_id`` (False without Airflow)."""
    if not conn_id:
        return False
    try:
        from airflow.sdk import BaseHook

        BaseHook.get_connection(conn_id)
    except Exception:  # no Airflow, or no such connection: both mean "not configured here"
        return False
    return True


def deployment_notes(cfg: JobConfig) -> list[str]:
    """What a deployment has not configured and what the job does instead, one line each
    (the first task's log says it before the crawl starts, rather than a puzzled operator
    finding out later where the files went)."""
    notes = []
    if not cfg.warc_uri:
        notes.append(
            "news_crawl: NEWSARCHIVE_WARC_URI is not set: the WARC files stay on this worker under "
            f"{cfg.staging_dir} (set it to s3://bucket/prefix, a plain bucket)"
        )
    if not cfg.report_uri and setting("REPORT_ENABLED"):
        report, name = cfg.report()
        notes.append(
            "news_crawl: NEWSARCHIVE_REPORT_URI is not set: the health report goes to "
            f"{report.where(name)} on this worker (set it to s3://bucket/report.html)"
        )
    uses_s3 = any(u.startswith("s3://") for u in (cfg.warc_uri, cfg.report_uri))
    if uses_s3 and not connection_exists(cfg.aws_conn_id):
        notes.append(
            f"news_crawl: no Airflow connection {cfg.aws_conn_id!r} (NEWSARCHIVE_AWS_CONN_ID): WARC files and "
            "the report go to S3 with the standard AWS chain (AWS_* variables, profile, instance role); "
            "define the connection for an endpoint or keys of its own"
        )
    return notes


def s3_config(conn_id: str) -> Any:
    """The object store's endpoint and credentials: the Airflow connection ``conn_id`` as the
    Amazon provider reads it (keys, profile, region, endpoint, assumed roles, web identity),
    resolved when the client is made; no such connection, or no provider: the AWS chain."""
    from newsarchive.storage.s3 import S3Config

    return S3Config.from_airflow(conn_id)


def run_command(
    args: list[str], catalog: CatalogEnv, console: list[str] | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """Run ``python -m newsarchive ARGS`` with the catalog's environment, pass what it prints
    to the task log (JSON summaries aside: they are returned), return (exit code, the JSON
    lines). What the command prints is little (its warnings and one summary line); with
    ``console`` the lines are kept there instead, for the caller to decide."""
    cmd = [sys.executable, "-m", "newsarchive", *args]
    logger.info("Running %s", " ".join(cmd[2:]))
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", env=catalog.child_env()
    )
    lines: list[dict[str, Any]] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                lines.append(json.loads(line))
                continue
        if console is None:
            print(line, flush=True)
        else:
            console.append(line)
    return proc.wait(), lines


#: The last lines a crawl printed, echoed to the task log when its log file cannot tell.
CONSOLE_TAIL = 200


def run_logged(
    spider: str, args: list[str], workdir: Path, catalog: CatalogEnv
) -> tuple[int, dict[str, Any], Path | None, float]:
    """Run a crawl command (``crawl``, ``import-jekyll``) with its full log in a file under
    ``workdir/logs``, then surface the log's warnings and errors in the task log. Returns
    (exit code, its JSON summary, the published log file, seconds). What the command printed
    (its warnings again, its own summary line) is echoed only when the log file cannot tell:
    when there is none, or the command ended without a summary (a crash's traceback)."""
    from newsarchive import crawllog

    pending = crawllog.pending_path(workdir, spider)
    pending.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # appended to (the default): Scrapy opens the file twice, and "w" would lose the start-up lines
    console: list[str] = []
    code, lines = run_command([*args, "-s", f"LOG_FILE={pending}"], catalog, console)
    elapsed = time.monotonic() - started
    summary = lines[-1] if lines else {}
    if not pending.exists() or not summary:
        for line in console[-CONSOLE_TAIL:]:
            print(line, flush=True)
    if not pending.exists():
        return code, summary, None, elapsed
    path = crawllog.publish(pending, workdir, summary.get("run_id"), spider)
    digest = crawllog.scan(path)
    for level, text in digest.surfaced:
        logger.log(logging.ERROR if level in ("ERROR", "CRITICAL") else logging.WARNING, "%s: %s", spider, text)
    if digest.more:
        logger.warning("%s: %d more warnings and errors in %s", spider, digest.more, path)
    summary = {**summary, "log_errors": digest.errors, "log_warnings": digest.warnings}
    return code, summary, path, elapsed


def crawl_line(spider: str, code: int, summary: Mapping[str, Any], elapsed: float, log: str | None) -> str:
    """The task log's one line on a crawl: how it ended, what it archived, where its log is."""
    status = summary.get("status") or f"failed (exit {code}, no summary)"
    parts = [
        f"{summary.get('articles_written', 0)} articles",
        f"{summary.get('quarantined', 0)} quarantined",
        f"{summary.get('log_errors', 0)} errors",
        f"{summary.get('log_warnings', 0)} warnings",
    ]
    line = f"crawl {spider} {status} in {elapsed:.1f} s: {', '.join(parts)}"
    if summary.get("run_id"):
        line += f"; run {summary['run_id']}"
    if log:
        line += f"; log {log}"
    return line


def crawl_and_upload(
    spider: str, dag_run_id: str | None, extra_settings: dict[str, str] | None = None
) -> dict[str, Any]:
    """Crawl (the crawl commits its rows to the catalog), then upload its WARC files to
    WARC_URI. Raises :class:`JobFailedError` after uploading when the crawl was partial or
    failed, so Airflow retries (the retry fetches only what the catalog lacks)."""
    missing = missing_settings(spider)
    if missing:  # the DAG leaves such a spider out; a backfill or a hand-made run may not
        raise NotConfiguredError(f"spider {spider!r} is not configured: {not_configured_message(spider, missing)}")
    cfg = JobConfig.load()
    catalog = catalog_env()
    workdir = cfg.workdir(spider, catalog)
    if catalog.embedded:
        logger.warning("%s", embedded_warning(catalog, workdir))
    else:
        logger.info("Committing to %s", catalog.description)
    for note in deployment_notes(cfg):
        logger.warning("%s", note)
    workdir.mkdir(parents=True, exist_ok=True)
    args = ["crawl", spider, "-s", f"ARCHIVE_URI={workdir}"]
    if dag_run_id:
        args += ["-s", f"DAG_RUN_ID={dag_run_id}"]
    for name, value in (extra_settings or {}).items():
        args += ["-s", f"{name}={value}"]
    code, summary, log, elapsed = run_logged(spider, args, workdir, catalog)
    result: dict[str, Any] = {"spider": spider, "exit_code": code, **summary}
    result["log"] = log_location(cfg, workdir, log)
    (logger.info if code == 0 else logger.error)("%s", crawl_line(spider, code, summary, elapsed, result["log"]))
    result.update(upload_warc_files(cfg, catalog, workdir))
    result.update(upload_logs(cfg, catalog, workdir))
    if code != 0:
        raise JobFailedError(
            f"crawl {spider} ended {summary.get('status', 'badly')} (exit {code}); what it archived "
            f"was committed; see run {summary.get('run_id')}"
        )
    return result


def upload_warc_files(cfg: JobConfig, catalog: CatalogEnv, workdir: Path) -> dict[str, Any]:
    """Upload the WARC files of ``workdir`` to WARC_URI (nothing without one)."""
    destination = cfg.warc(workdir)
    if not destination.remote:
        logger.info("WARC_URI is not set: the WARC files stay in %s", destination.where())
        return {}
    from newsarchive.storage.upload import check_not_table_bucket, upload_warc

    check_not_table_bucket(destination.uri, catalog.properties)
    report = upload_warc(workdir, destination.store(), prune=cfg.prune)
    return {"warc_upload": report.to_json()}


def log_location(cfg: JobConfig, workdir: Path, log: Path | None) -> str | None:
    """Where the crawl's log file ends up: under LOG_URI (default WARC_URI), else on the worker."""
    if log is None:
        return None
    destination = cfg.logs(workdir)
    if not destination.remote:
        return str(log)
    return destination.where(log.relative_to(destination.local).as_posix())


def upload_logs(cfg: JobConfig, catalog: CatalogEnv, workdir: Path) -> dict[str, Any]:
    """Upload the crawl logs of ``workdir`` (this crawl's, and any an earlier upload missed)
    to LOG_URI, beside the run's WARC files by default; pruned once uploaded, like them."""
    from newsarchive import crawllog

    logs = crawllog.local_logs(workdir)
    destination = cfg.logs(workdir)
    if not destination.remote or not logs:
        return {}
    from newsarchive.storage.upload import check_not_table_bucket

    check_not_table_bucket(destination.uri, catalog.properties)
    store = destination.store()
    root = destination.local
    uploaded = 0
    for path in logs:
        uploaded += bool(store.put_file(path, path.relative_to(root).as_posix()))
        if cfg.prune:
            path.unlink()
    return {"logs_uploaded": uploaded}


def write_report() -> dict[str, Any]:
    """Build the health report from the tables (``newsarchive report``) and store it at
    REPORT_URI, replacing the previous one."""
    cfg = JobConfig.load()
    catalog = catalog_env()
    days = int(setting("REPORT_DAYS"))
    with tempfile.TemporaryDirectory(prefix="newsarchive-report-") as tmp:
        out = Path(tmp) / "report.html"
        archive = cfg.staging_dir  # where the embedded catalog is, when none is configured
        args = ["report", "--archive", str(archive), "--out", str(out), "--days", str(days)]
        link_base = report_link_base(cfg.report_uri, cfg.warc_uri)
        if link_base is not None:
            args += ["--link-base", link_base]
        code, _ = run_command(args, catalog)
        if code != 0 or not out.is_file():
            raise JobFailedError(f"newsarchive report ended with exit code {code}")
        html = out.read_bytes()
    destination, name = cfg.report()
    if destination.remote:
        destination.store().replace_bytes(name, html, content_type="text/html; charset=utf-8")
        location = cfg.report_uri
    else:
        destination.store().replace_bytes(name, html)
        location = destination.where(name)
    logger.info("Report written to %s (%d bytes)", location, len(html))
    return {"report": location, "bytes": len(html)}


def report_link_base(report_uri: str, warc_uri: str) -> str | None:
    """The report's links to WARC files (``warc_filename``, ``warc/<rest>``) relative to where
    it sits, when the bucket puts them there: REPORT_URI and WARC_URI in one bucket, WARC_URI
    ending in ``/warc`` (``<WARC_URI>/<rest>`` is then ``<its parent>/warc/<rest>``). None
    otherwise (the report then links the worker's local files)."""
    import posixpath

    from newsarchive.storage.s3 import parse_s3_uri

    if not (report_uri.startswith("s3://") and warc_uri.startswith("s3://")):
        return None
    (report_bucket, report_key), (warc_bucket, warc_prefix) = parse_s3_uri(report_uri), parse_s3_uri(warc_uri)
    if report_bucket != warc_bucket or posixpath.basename(warc_prefix) != "warc":
        return None
    rel = posixpath.relpath(posixpath.dirname(warc_prefix) or ".", posixpath.dirname(report_key) or ".")
    return "" if rel == "." else rel


def compact_tables() -> dict[str, Any]:
    """``newsarchive compact`` over every table of the catalog (one JSON line per table)."""
    cfg = JobConfig.load()
    catalog = catalog_env()
    code, lines = run_command(["compact", "--archive", str(cfg.staging_dir)], catalog)
    if code != 0:
        raise JobFailedError(f"newsarchive compact ended with exit code {code}")
    return {"tables": lines}


def backfill(
    spider: str, since: str | None, until: str | None, path: str | None, dag_run_id: str | None
) -> dict[str, Any]:
    """Backfill a source that can page back in time, or import a folder of Jekyll posts."""
    if spider == "jekyll":
        if not path:
            raise ValueError("spider=jekyll needs `path`: a folder of posts written by the original site")
        cfg = JobConfig.load()
        catalog = catalog_env()
        workdir = cfg.workdir("jekyll", catalog)
        if catalog.embedded:
            logger.warning("%s", embedded_warning(catalog, workdir))
        code, summary, log, elapsed = run_logged(
            "jekyll", ["import-jekyll", path, "--archive", str(workdir)], workdir, catalog
        )
        result: dict[str, Any] = {"spider": spider, "exit_code": code, **summary}
        result["log"] = log_location(cfg, workdir, log)
        (logger.info if code == 0 else logger.error)("%s", crawl_line("jekyll", code, summary, elapsed, result["log"]))
        result.update(upload_logs(cfg, catalog, workdir))
        if code != 0:
            raise JobFailedError(f"import-jekyll ended {summary.get('status', 'badly')} (exit {code})")
        return result
    if not supports_backfill(spider):
        if spider == "finews":
            raise ValueError(
                "the finews feeds cannot page back in time (each list holds only the latest ~100 "
                "records); there is nothing to backfill. Import old Jekyll posts instead (spider=jekyll)."
            )
        raise ValueError(f"spider {spider!r} cannot page back in time: there is nothing to backfill")
    prefix = spider.upper()
    extra = {}
    if since:
        extra[f"{prefix}_SINCE"] = since
    if until:
        extra[f"{prefix}_UNTIL"] = until
    return crawl_and_upload(spider, dag_run_id, extra)


def supports_backfill(spider: str) -> bool:
    """Whether ``spider`` can page back in time (its class says so: ``supports_backfill``, read
    through Scrapy's spider loader). Raises ValueError for a spider the project does not have.
    Scrapy is imported here, not at the top: the DAG files import this module."""
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    settings = Settings()
    settings.setmodule("newsarchive.settings", priority="project")
    try:
        cls = SpiderLoader.from_settings(settings).load(spider)
    except KeyError as exc:
        raise ValueError(f"no spider {spider!r}") from exc
    return bool(getattr(cls, "supports_backfill", False))
