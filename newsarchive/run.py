"""The state one crawl process shares between its spider, pipelines and extensions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from newsarchive import __version__
from newsarchive.archive.files import WrittenFile
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.layout import Layout, move_links_aside
from newsarchive.archive.locks import RunLock
from newsarchive.archive.recovery import recover
from newsarchive.config import redact_value
from newsarchive.logredact import redact, secrets_from_env, setting_secrets
from newsarchive.runid import new_run_id
from newsarchive.timeparse import utcnow

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


@dataclass
class Run:
    """One crawl run: its id, archive, lock, and what it has written so far."""

    run_id: str
    started_at: datetime
    layout: Layout
    dag_run_id: str | None = None
    #: ``pipeline_version`` of the rows this run writes (setting ``PIPELINE_VERSION``).
    pipeline_version: str = __version__
    #: A reparse: responses come from WARC files (``WARC_REPLAY_PATHS``), not the network.
    replay: bool = False
    files: list[WrittenFile] = field(default_factory=list)
    #: Problems that make the run ``partial`` (a list feed down, a write error...).
    problems: list[str] = field(default_factory=list)
    #: Failures that make the run ``failed`` whatever else it did: its good rows could not
    #: all be written (disk full, I/O error). Also listed in ``problems``.
    failures: list[str] = field(default_factory=list)
    #: The quarantine writer's intake, for rows found bad outside the item chain (a row a
    #: writer cannot store); set by the quarantine writer.
    quarantine: Callable[[Any], Any] | None = None
    #: Called by the quarantine writer before it publishes: the other writers flush their
    #: buffers then, so the rows they cannot store still reach the quarantine.
    before_quarantine_publish: list[Callable[[], None]] = field(default_factory=list)
    #: What the run found wrong in the archive itself (planted links moved aside, files it
    #: could not read): named in the manifest's ``archive_problems``; they do not change the
    #: status (every article was still archived), ``newsarchive verify`` reports them.
    archive_problems: list[str] = field(default_factory=list)
    #: Values that must never be written anywhere (secret env vars, passwords in URL settings).
    secrets: set[str] = field(default_factory=set)
    _lock: RunLock | None = None
    _indexes: dict[str, ArchiveIndex] = field(default_factory=dict)

    @classmethod
    def of(cls, crawler: Crawler) -> Run:
        """The run of this crawler, created (and the archive tidied) on first use."""
        run: Run | None = getattr(crawler, "_newsarchive_run", None)
        if run is None:
            settings = crawler.settings
            started = utcnow()
            run = cls(
                run_id=new_run_id(started),
                started_at=started,
                layout=Layout.from_uri(settings.get("ARCHIVE_URI") or "./archive"),
                dag_run_id=settings.get("DAG_RUN_ID") or None,
                pipeline_version=str(settings.get("PIPELINE_VERSION") or __version__),
                replay=bool(settings.getlist("WARC_REPLAY_PATHS")),
                secrets=secrets_from_env() | setting_secrets(settings.copy_to_dict()),
            )
            run.layout.root.mkdir(parents=True, exist_ok=True)
            # before anything is written (the lock lives in runs/): no link is followed
            run.archive_problems.extend(move_links_aside(run.layout, run.run_id))
            run._lock = RunLock(run.layout, run.run_id).acquire()
            try:
                run.archive_problems.extend(recover(run.layout, current_run_id=run.run_id).unreadable)
            except Exception as exc:  # tidying is best effort: what it left waits for the next run
                logger.exception("Tidying the archive failed; the crawl goes on")
                run.archive_problems.append(f"tidying the archive failed: {type(exc).__name__}: {exc}")
            crawler._newsarchive_run = run  # type: ignore[attr-defined]
            logger.info("Run %s writing to %s", run.run_id, run.layout.root)
        return run

    def redact(self, text: str) -> str:
        """``text`` with this run's secrets and any ``user:password@`` masked."""
        return redact(redact_value(text), self.secrets)

    def index(self, source: str) -> ArchiveIndex:
        """The archive index of ``source``, loaded once per run.

        A reparse sees only rows of its own pipeline version or newer: what an older version
        parsed is not "archived" for it, so the spider asks for it again (from the WARC) and
        the dedupe lets the newer rows through; rerunning the same reparse adds nothing."""
        if source not in self._indexes:
            floor = self.pipeline_version if self.replay else None
            self._indexes[source] = index = ArchiveIndex.load(self.layout, source, min_version=floor)
            self.archive_problems.extend(index.skipped)
        return self._indexes[source]

    def add_files(self, files: list[WrittenFile]) -> None:
        self.files.extend(files)

    def fail(self, problem: str) -> None:
        """The run cannot write its good rows: it is ``failed`` (see :attr:`failures`)."""
        if problem not in self.failures:
            self.failures.append(problem)
            self.problems.append(problem)

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
