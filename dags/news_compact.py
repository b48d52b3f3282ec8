"""news_compact: one file per partition for the previous day(s), every version kept.

Daily by default (NEWSARCHIVE_COMPACT_SCHEDULE; ``asset`` runs it whenever news_crawl
updates the archive). Rewrites the partitions of the previous NEWSARCHIVE_COMPACT_DAYS
Beijing days in the bucket, writes a compaction manifest, then deletes the replaced parts,
and aborts multipart uploads left by killed uploads. It takes every slot of the archive
pool, so no crawl or backfill writes while it runs.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, dag, task

from newsarchive.config import setting
from newsarchive.jobs import archive_asset_uri, dag_defaults

_schedule = str(setting("COMPACT_SCHEDULE"))
SCHEDULE: Any = [Asset(name="newsarchive_articles", uri=archive_asset_uri())] if _schedule == "asset" else _schedule


@dag(
    dag_id="news_compact",
    schedule=SCHEDULE,
    **dag_defaults(),
    params={"since": None, "until": None},
    tags=["newsarchive", "maintenance"],
    doc_md=__doc__,
)
def news_compact() -> None:
    @task(pool=str(setting("AIRFLOW_POOL")), pool_slots=int(setting("AIRFLOW_POOL_SLOTS")))
    def compact() -> dict[str, Any]:
        from airflow.sdk import get_current_context

        from newsarchive.jobs import compact_archive

        params = get_current_context()["params"]
        return compact_archive(int(setting("COMPACT_DAYS")), params.get("since"), params.get("until"))

    compact()


news_compact()
