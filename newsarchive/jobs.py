"""What the Airflow tasks do, as plain functions (the DAG files only wire them up).

Each job runs a crawl as a subprocess (a Twisted reactor cannot restart inside a worker),
then uploads through :mod:`newsarchive.storage`. Credentials come from the Airflow
connection ``AWS_CONN_ID`` when it exists, else from the standard AWS chain; they are
never passed to the crawl, never logged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsarchive.config import missing_settings, not_configured_message, setting

logger = logging.getLogger(__name__)


class JobFailedError(RuntimeError):
    """The job did its best (what could be archived was uploaded) and must be retried."""


class NotConfiguredError(ValueError):
    """The spider lacks a setting it has no default for; retrying cannot help."""


@dataclass(frozen=True)
class JobConfig:
    upload_uri: str
    staging_dir: Path
    aws_conn_id: str

    @classmethod
    def load(cls) -> JobConfig:
        return cls(
            upload_uri=str(setting("UPLOAD_URI") or "").rstrip("/"),
            staging_dir=Path(str(setting("STAGING_DIR"))),
            aws_conn_id=str(setting("AWS_CONN_ID")),
        )

    def staging(self, spider: str) -> Path:
        """One local archive per spider, so concurrent crawls never share a directory."""
        return self.staging_dir / spider


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
    return spiders


def archive_asset_uri() -> str:
    """The URI of the archive's Airflow Asset (documented for downstream DAGs)."""
    upload = str(setting("UPLOAD_URI") or "").rstrip("/")
    if upload:
        return f"{upload}/articles"
    return f"file://{Path(str(setting('STAGING_DIR'))).resolve()}"


def s3_config(conn_id: str) -> Any:
    from newsarchive.storage.s3 import S3Config

    try:
        return S3Config.from_airflow(conn_id)
    except Exception as exc:
        logger.info("No Airflow connection %r (%s); using the AWS default chain", conn_id, type(exc).__name__)
        return S3Config()


def run_command(args: list[str], env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """Run ``python -m newsarchive ARGS``, stream its output to the log, return (exit code,
    the JSON summary it printed last)."""
    cmd = [sys.executable, "-m", "newsarchive", *args]
    logger.info("Running %s", " ".join(cmd[2:]))
    child_env = {k: v for k, v in (env or os.environ).items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env)
    summary: dict[str, Any] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        print(line, flush=True)
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                summary = json.loads(line)
    return proc.wait(), summary


def crawl_and_upload(
    spider: str, dag_run_id: str | None, extra_settings: dict[str, str] | None = None
) -> dict[str, Any]:
    """Pull the index, crawl into the spider's staging archive, upload every run not yet
    uploaded, prune what was uploaded. Raises :class:`JobFailedError` after uploading when
    the crawl was partial or failed, so Airflow retries."""
    missing = missing_settings(spider)
    if missing:  # the DAG leaves such a spider out; a backfill or a hand-made run may not
        raise NotConfiguredError(f"spider {spider!r} is not configured: {not_configured_message(spider, missing)}")
    cfg = JobConfig.load()
    staging = cfg.staging(spider)
    staging.mkdir(parents=True, exist_ok=True)
    store = None
    if cfg.upload_uri:
        from newsarchive.archive.layout import Layout
        from newsarchive.storage.store import s3_store
        from newsarchive.storage.sync import pull_index

        store = s3_store(cfg.upload_uri, s3_config(cfg.aws_conn_id))
        pulled = pull_index(store, Layout.from_uri(str(staging)))
        logger.info("Pulled %d index parts from %s", pulled, cfg.upload_uri)
    args = ["crawl", spider, "-s", f"ARCHIVE_URI={staging}"]
    if dag_run_id:
        args += ["-s", f"DAG_RUN_ID={dag_run_id}"]
    for name, value in (extra_settings or {}).items():
        args += ["-s", f"{name}={value}"]
    code, summary = run_command(args)
    result: dict[str, Any] = {"spider": spider, "exit_code": code, **summary}
    if store is not None:
        result["upload"] = upload_staging(staging, store)
    if code != 0:
        raise JobFailedError(
            f"crawl {spider} ended {summary.get('status', 'badly')} (exit {code}); "
            f"what it archived was uploaded; see {summary.get('manifest')}"
        )
    return result


def upload_staging(staging: Path, store: Any) -> dict[str, Any]:
    from newsarchive.archive.layout import Layout
    from newsarchive.storage.sync import upload_archive

    report = upload_archive(Layout.from_uri(str(staging)), store, prune=bool(setting("STAGING_PRUNE")))
    logger.info(
        "Uploaded runs %s (%d objects, %d bytes)", report.runs_uploaded, report.objects_uploaded, report.bytes_uploaded
    )
    return report.to_json()


def write_report() -> dict[str, Any]:
    """Build the health report from the bucket (or, without UPLOAD_URI, from every spider's
    staging archive) and store it there as REPORT_KEY, replacing the previous one."""
    from newsarchive.analytics.report import build_report

    cfg = JobConfig.load()
    key = str(setting("REPORT_KEY")).strip("/")
    days = int(setting("REPORT_DAYS"))
    # Links to runs/ and warc/ are relative to where the report sits in the archive.
    link_base = "/".join([".."] * key.count("/"))
    if cfg.upload_uri:
        from newsarchive.storage.store import s3_store

        s3 = s3_config(cfg.aws_conn_id)
        html = build_report(cfg.upload_uri, s3, days=days, link_base=link_base).encode("utf-8")
        s3_store(cfg.upload_uri, s3).replace_bytes(key, html, content_type="text/html; charset=utf-8")
        location = f"{cfg.upload_uri}/{key}"
    else:
        from newsarchive.storage.local import LocalStore

        html = build_report(str(cfg.staging_dir), days=days).encode("utf-8")
        LocalStore(str(cfg.staging_dir)).replace_bytes(key, html)
        location = str(cfg.staging_dir / key)
    logger.info("Report written to %s (%d bytes)", location, len(html))
    return {"report": location, "bytes": len(html)}


def compact_archive(days: int, since: str | None = None, until: str | None = None) -> dict[str, Any]:
    """Compact the bucket (or, without UPLOAD_URI, every spider's staging archive)."""
    from datetime import date, timedelta

    from newsarchive.archive.compact import compact
    from newsarchive.storage.store import S3Store, Store, open_store, s3_store
    from newsarchive.timeparse import beijing_date, utcnow

    cfg = JobConfig.load()
    today = beijing_date(utcnow())
    start = date.fromisoformat(since) if since else today - timedelta(days=days)
    end = date.fromisoformat(until) if until else today - timedelta(days=1)
    stores: list[Store]
    if cfg.upload_uri:
        stores = [s3_store(cfg.upload_uri, s3_config(cfg.aws_conn_id))]
    else:
        dirs = sorted(p for p in cfg.staging_dir.iterdir() if p.is_dir()) if cfg.staging_dir.is_dir() else []
        stores = [open_store(str(p)) for p in dirs]
    reports = []
    for store in stores:
        report = compact(store, since=start, until=end)
        if isinstance(store, S3Store):
            aborted = store.abort_stale_uploads()
            if aborted:
                logger.warning("Aborted %d stale multipart uploads: %s", len(aborted), aborted)
        reports.append(
            {
                "store": store.uri,
                "partitions": report.partitions,
                "rows_before": report.rows_before,
                "rows_after": report.rows_after,
                "compaction_id": report.compaction_id,
            }
        )
    return {"since": start.isoformat(), "until": end.isoformat(), "compactions": reports}


def backfill(
    spider: str, since: str | None, until: str | None, path: str | None, dag_run_id: str | None
) -> dict[str, Any]:
    """Backfill a source that can page back in time, or import a folder of Jekyll posts."""
    if spider == "finews":
        raise ValueError(
            "the finews feeds cannot page back in time (each list holds only the latest ~100 "
            "records); there is nothing to backfill. Import old Jekyll posts instead (spider=jekyll)."
        )
    if spider == "jekyll":
        if not path:
            raise ValueError("spider=jekyll needs `path`: a folder of posts written by the original site")
        cfg = JobConfig.load()
        staging = cfg.staging("jekyll")
        code, summary = run_command(["import-jekyll", path, "--archive", str(staging)])
        result: dict[str, Any] = {"spider": spider, "exit_code": code, **summary}
        if cfg.upload_uri:
            from newsarchive.storage.store import s3_store

            result["upload"] = upload_staging(staging, s3_store(cfg.upload_uri, s3_config(cfg.aws_conn_id)))
        if code != 0:
            raise JobFailedError(f"import-jekyll ended {summary.get('status', 'badly')} (exit {code})")
        return result
    prefix = spider.upper()
    extra = {}
    if since:
        extra[f"{prefix}_SINCE"] = since
    if until:
        extra[f"{prefix}_UNTIL"] = until
    return crawl_and_upload(spider, dag_run_id, extra)
