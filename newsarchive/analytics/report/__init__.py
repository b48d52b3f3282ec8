"""``newsarchive report``: the archive's health on one self-contained HTML page.

:mod:`.data` asks the archive's views what to show, :mod:`.windows` places it in time,
:mod:`.svg` draws it and :mod:`.page` lays it out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsarchive.storage.s3 import S3Config

#: Days each window spans by default (0: the whole archive).
DEFAULT_DAYS = 30


def build_report(
    archive: str,
    s3: S3Config | None = None,
    *,
    days: int = DEFAULT_DAYS,
    link_base: str | None = None,
    now: datetime | None = None,
) -> str:
    """The report's HTML. ``link_base``: prefix of links to manifests and WARC files
    (``""`` when the report is stored at the archive's root, beside ``runs/``)."""
    from newsarchive.analytics.report.data import collect
    from newsarchive.analytics.report.page import render
    from newsarchive.analytics.views import connect

    con = connect(archive, s3)
    try:
        data = collect(con, days)
    finally:
        con.close()
    return render(data, archive, now or datetime.now(UTC), link_base)
