"""``newsarchive report``: the archive's health on one self-contained HTML page.

:mod:`.data` asks the archive's views what to show, :mod:`.windows` places it in time,
:mod:`.freshness` judges each source at the report's time, :mod:`.svg` draws it and
:mod:`.page` lays it out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsarchive.analytics.report.freshness import StalePolicy
    from newsarchive.tables.catalog import CatalogSpec

#: Days each window spans by default (0: the whole archive).
DEFAULT_DAYS = 30


def build_report(
    spec: CatalogSpec,
    *,
    days: int = DEFAULT_DAYS,
    link_base: str | None = None,
    warc_root: str | None = None,
    now: datetime | None = None,
    policy: StalePolicy | None = None,
) -> str:
    """The report's HTML. ``link_base``: prefix of links to WARC files (``""`` when the report
    is stored beside them, as the DAG does); else they link into ``warc_root``, the crawl's
    working directory. ``now``: the moment freshness is judged at (a test's, or a past
    report's); ``policy``: each source's limit (REPORT_STALE_AFTER's default when None)."""
    from newsarchive.analytics.report.data import collect
    from newsarchive.analytics.report.page import render
    from newsarchive.analytics.views import connect

    con = connect(spec)
    try:
        data = collect(con, days)
    finally:
        con.close()
    return render(data, spec.describe(), now or datetime.now(UTC), link_base, warc_root, policy)
