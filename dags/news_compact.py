"""news_compact: maintain the Iceberg tables (``newsarchive compact``).

Daily by default (NEWSARCHIVE_COMPACT_SCHEDULE; ``asset`` runs it whenever news_crawl
commits to the articles table). Runs ``newsarchive compact`` as a subprocess against the same
catalog as the crawls (NEWSARCHIVE_ICEBERG_CATALOG, properties from the Airflow connection
NEWSARCHIVE_ICEBERG_CONN_ID or pyiceberg's configuration): every partition of every table of
the namespace, each table rewritten in one atomic commit, so readers never see a row twice.
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
    tags=["newsarchive", "maintenance"],
    doc_md=__doc__,
)
def news_compact() -> None:
    @task
    def compact() -> dict[str, Any]:
        from newsarchive.jobs import compact_tables

        return compact_tables()

    compact()


news_compact()
