"""Which row of an article wins when a reparse wrote it again with newer parsers.

``newsarchive reparse`` rebuilds rows from the recorded responses: a reparsed row keeps the
``fetched_at`` of the response it was parsed from (its WARC-Date) and carries the
``pipeline_version`` that parsed it. So rows of one article (``source``, ``source_id``) are
either different *fetches* (different ``fetched_at``: the body may have changed, each is a
version of the article) or the same fetch parsed by several pipeline versions (same
``fetched_at``; ``content_sha256`` may differ when a parser fix changed the extracted body).

The rules, shared by the deduplicated view (docs/analytics.md), compaction and the dedupe
pipeline:

* versions compare numerically (``0.10.0`` > ``0.9.0``), see :func:`version_key`;
* the *current* row of an article is the greatest by (``fetched_at``, version):
  :func:`current`;
* compaction keeps, for each fetch of an article (same ``fetched_at``), only the row of the
  newest version and drops the others: :func:`superseded`. Rows of different fetches are
  article versions and are left to compaction's own rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

_VERSION = re.compile(
    r"(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre>a|alpha|b|beta|c|rc|pre|preview)[-_.]?(?P<pre_n>\d*))?"
    r"(?:[-_.]?(?:post|rev|r)[-_.]?(?P<post>\d*))?"
    r"(?:[-_.]?dev[-_.]?(?P<dev>\d*))?"
    r"(?:\+[a-z0-9.]*)?",
    re.IGNORECASE,
)
_PRE_PHASE = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_MIN_TIME = datetime.min.replace(tzinfo=UTC)

#: The same order in DuckDB SQL (release numbers only; pre-release suffixes are ignored):
#: ``ORDER BY fetched_at DESC, <VERSION_ORDER_SQL> DESC NULLS LAST``.
VERSION_ORDER_SQL = (
    r"CAST(string_split(NULLIF(regexp_extract(pipeline_version, '^[0-9]+(\.[0-9]+)*'), ''), '.')"
    " AS INTEGER[])"
)

VersionKey = tuple[int, tuple[int, ...], tuple[int, int, int, int, int]]
Row = TypeVar("Row", bound=Mapping[str, Any])


@lru_cache(maxsize=1024)
def version_key(version: str | None) -> VersionKey:
    """A sort key for a PEP 440-style version: numeric release, then
    ``dev < a < b < rc < final < post``. ``None`` and unparseable strings sort first."""
    m = _VERSION.fullmatch(version.strip()) if version else None
    if m is None:
        return (0, (), (0, 0, 0, 0, 0))
    release = [int(p) for p in m["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:  # 1.0 == 1.0.0
        release.pop()
    dev = m["dev"] is not None
    dev_n = int(m["dev"] or 0)
    if m["pre"] is not None:
        stage = (1, _PRE_PHASE[m["pre"].lower()], int(m["pre_n"] or 0))
    elif m["post"] is not None:
        stage = (3, 0, int(m["post"] or 0))
    elif dev:  # 1.0.dev1 comes before 1.0a1
        stage = (0, 0, 0)
    else:
        stage = (2, 0, 0)
    return (1, tuple(release), (*stage, 0 if dev else 1, dev_n))


def is_newer(version: str | None, than: str | None) -> bool:
    return version_key(version) > version_key(than)


def _order(row: Mapping[str, Any]) -> tuple[datetime, VersionKey]:
    fetched = row.get("fetched_at")
    return (fetched if isinstance(fetched, datetime) else _MIN_TIME, version_key(row.get("pipeline_version")))


def current(rows: Iterable[Row]) -> Row:
    """The row that represents an article now, among rows of that one article: the latest
    fetch, and of that fetch the row of the newest pipeline version."""
    return max(rows, key=_order)


def superseded(rows: Iterable[Row]) -> list[Row]:
    """Rows of one article that compaction drops: every row for which a row of the same fetch
    (same ``fetched_at``) has a newer ``pipeline_version``. Ties (same fetch, same version)
    are left to compaction's content dedupe."""
    rows = list(rows)
    newest: dict[Any, VersionKey] = {}
    for row in rows:
        key = version_key(row.get("pipeline_version"))
        fetch = row.get("fetched_at")
        if fetch not in newest or key > newest[fetch]:
            newest[fetch] = key
    return [r for r in rows if version_key(r.get("pipeline_version")) < newest[r.get("fetched_at")]]
