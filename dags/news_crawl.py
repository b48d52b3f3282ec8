"""news_crawl: crawl every configured spider, upload its run, announce the archive Asset.

Scheduled by NEWSARCHIVE_SCHEDULE (default every 30 minutes), no catchup, one active run.
One mapped task per spider (NEWSARCHIVE_SPIDERS), so each crawl sees every feed of its
spider and requests each article once. The crawl runs as a subprocess; the task then uploads
to NEWSARCHIVE_UPLOAD_URI with the credentials of the Airflow connection
NEWSARCHIVE_AWS_CONN_ID (default aws_default; endpoint in its extra). A partial crawl
uploads what it archived, then fails, and Airflow retries it.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, dag, task

from newsarchive.config import setting
from newsarchive.jobs import archive_asset_uri, dag_defaults

ARCHIVE = Asset(name="newsarchive_articles", uri=archive_asset_uri())


@dag(
    dag_id="news_crawl",
    schedule=str(setting("SCHEDULE")),
    **dag_defaults(),
    tags=["newsarchive", "crawl"],
    doc_md=__doc__,
)
def news_crawl() -> None:
    @task(pool=str(setting("AIRFLOW_POOL")), outlets=[ARCHIVE])
    def crawl(spider: str) -> dict[str, Any]:
        from airflow.sdk import get_current_context

        from newsarchive.jobs import crawl_and_upload

        return crawl_and_upload(spider, get_current_context()["dag_run"].run_id)

    crawl.expand(spider=list(setting("SPIDERS")))


news_crawl()
