"""A live run holds an exclusive lock, so cleanup never touches another live run's files."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from newsarchive.archive.layout import RUNS, Layout

LOCK_DIR = f"{RUNS}/.locks"


class RunLock:
    def __init__(self, layout: Layout, run_id: str) -> None:
        self.path = layout.path(f"{LOCK_DIR}/{run_id}.lock")
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def is_live(layout: Layout, run_id: str) -> bool:
    """True if a process holds the run's lock right now."""
    path = layout.path(f"{LOCK_DIR}/{run_id}.lock")
    if not path.exists():
        return False
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def stale_locks(layout: Layout) -> list[Path]:
    base = layout.path(LOCK_DIR)
    if not base.is_dir():
        return []
    return [p for p in base.glob("*.lock") if not is_live(layout, p.stem)]
