"""A scheduled crawl's log file: where the job keeps it and what the task log says of it.

An Airflow task that streamed the crawl's console got one log event per Scrapy line (about
130 per task), and its errors drowned among them. The job runs the crawl with its full log in
a file (Scrapy's ``LOG_FILE``), then puts in the task log one summary line, the crawl's
warnings and errors (bounded: the file has the rest) and where the file is. The file goes to
the bucket beside the run's WARC files: ``<LOG_URI or WARC_URI>/date=<day>/<run_id>.log``
(``day``: the run's Beijing start day, as for its WARC files).
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from newsarchive.runid import is_run_id
from newsarchive.timeparse import beijing_date, utcnow

#: Under a crawl's working directory (ARCHIVE_URI): ``logs/date=<day>/<run_id>.log``.
LOG_DIR = "logs"
LOG_SUFFIX = ".log"
#: The start of a record in Scrapy's default LOG_FORMAT (``%(asctime)s [%(name)s]
#: %(levelname)s: %(message)s``); the lines up to the next such line (a traceback) belong to it.
RECORD_START = re.compile(
    r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[,.]\d+)? \[(?P<name>[^\]]*)\] (?P<level>[A-Z]+): "
)
SURFACED = ("CRITICAL", "ERROR", "WARNING")


@dataclass
class LogDigest:
    """What the task log shows of a crawl log: counts per level, the first warnings and errors."""

    counts: Counter[str] = field(default_factory=Counter)
    #: (level, text) of the first ``limit`` records at WARNING and above, tracebacks cut short
    surfaced: list[tuple[str, str]] = field(default_factory=list)
    #: records at WARNING and above left out of ``surfaced``
    more: int = 0
    lines: int = 0

    @property
    def errors(self) -> int:
        return self.counts["ERROR"] + self.counts["CRITICAL"]

    @property
    def warnings(self) -> int:
        return self.counts["WARNING"]


def scan(path: Path, *, limit: int = 20, record_lines: int = 12, line_chars: int = 2000) -> LogDigest:
    """Read a crawl log (any bytes: undecodable ones are replaced) and keep what an operator
    must see. Lines before the first record, or in a log of another format, count as records
    of their own at level ``?`` and are never surfaced."""
    digest = LogDigest()
    current: list[str] | None = None  # the surfaced record being read

    def close() -> None:
        nonlocal current
        if current is not None:
            digest.surfaced[-1] = (digest.surfaced[-1][0], "\n".join(current))
        current = None

    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            digest.lines += 1
            line = raw.rstrip("\n")[:line_chars]
            match = RECORD_START.match(line)
            if match is None:
                if current is not None and len(current) < record_lines:
                    current.append(line)
                elif current is None and not digest.counts:
                    digest.counts["?"] += 1
                continue
            close()
            level = match["level"]
            digest.counts[level] += 1
            if level in SURFACED:
                if len(digest.surfaced) < limit:
                    digest.surfaced.append((level, ""))
                    current = [line]
                else:
                    digest.more += 1
    close()
    return digest


def run_day(run_id: str) -> date:
    """The Beijing day a run started, from its id (``YYYYMMDDTHHMMSSZ-…``); today when the id
    carries no stamp."""
    try:
        started = datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        started = utcnow()
    return beijing_date(started)


def log_key(run_id: str) -> str:
    """``date=<day>/<run_id>.log``, relative to the logs' prefix (local ``logs/``, or the bucket's)."""
    if not is_run_id(run_id):
        raise ValueError(f"not a run id: {run_id!r}")
    return f"date={run_day(run_id).isoformat()}/{run_id}{LOG_SUFFIX}"


def pending_path(workdir: Path, spider: str) -> Path:
    """Where a crawl writes its log before its run id is known: a hidden name under ``logs/``
    (unique per job process), renamed by :func:`publish` once the crawl has ended."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return workdir / LOG_DIR / f".{spider}-{stamp}-{os.getpid()}{LOG_SUFFIX}"


def publish(pending: Path, workdir: Path, run_id: str | None, spider: str) -> Path:
    """Give the crawl's log its final name: ``logs/date=<day>/<run_id>.log``; a crawl that
    never got a run id (it failed before starting) keeps its stamp: ``…/<spider>-<stamp>-norun.log``."""
    if run_id and is_run_id(run_id):
        key = log_key(run_id)
    else:
        stamp = pending.name.removeprefix(f".{spider}-").removesuffix(LOG_SUFFIX)
        key = f"date={beijing_date(utcnow()).isoformat()}/{spider}-{stamp}-norun{LOG_SUFFIX}"
    final = workdir / LOG_DIR / key
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(pending, final)
    return final


def local_logs(workdir: Path) -> list[Path]:
    """The published log files of a working directory (what is left to upload)."""
    root = workdir / LOG_DIR
    if not root.is_dir() or root.is_symlink():
        return []
    return sorted(
        p
        for p in root.glob(f"date=*/*{LOG_SUFFIX}")
        if p.is_file() and not p.is_symlink() and not p.name.startswith(".") and not p.parent.is_symlink()
    )
