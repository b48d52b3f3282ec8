"""Run ids: unique per crawl process, safe in file names and object keys."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from newsarchive.timeparse import utcnow

RUN_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def new_run_id(now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ-<8 hex>``: sortable by start time, never reused by a retry."""
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(4)}"


def is_run_id(value: str) -> bool:
    return bool(RUN_ID_RE.fullmatch(value)) and value not in {".", ".."}
