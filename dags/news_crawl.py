"""news_crawl: crawl every configured spider into the Iceberg tables, upload its WARC files,
announce the articles table's Asset.

Scheduled by NEWSARCHIVE_SCHEDULE (default every 30 minutes), no catchup, one active run.
One mapped task per spider (NEWSARCHIVE_SPIDERS, default eastmoney), so each crawl sees every
feed of its spider and requests each article once. A listed spider that is not configured
(finews without NEWSARCHIVE_FINEWS_LIST_URLS and NEWSARCHIVE_FINEWS_TEXT_URL: it ships no
hosts) is not scheduled; a warning says why. The crawl runs as a subprocess and commits its
rows to the catalog NEWSARCHIVE_ICEBERG_CATALOG (properties from the Airflow connection
NEWSARCHIVE_ICEBERG_CONN_ID, default iceberg_default, else pyiceberg's configuration; with
neither, a per-worker SQLite file, and a warning says so). The task then uploads the WARC
files to NEWSARCHIVE_WARC_URI with the credentials of the Airflow connection
NEWSARCHIVE_AWS_CONN_ID (default aws_default). A partial crawl commits what it archived,
then fails, and Airflow retries it. A last task writes the health report to
NEWSARCHIVE_REPORT_URI.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, dag, task

from newsarchive.config import setting
from newsarchive.jobs import archive_asset_uri, dag_defaults, scheduled_spiders

ARTICLES = Asset(name="newsarchive_articles", uri=archive_asset_uri())


@dag(
    dag_id="news_crawl",
    schedule=str(setting("SCHEDULE")),
    **dag_defaults(),
    tags=["newsarchive", "crawl"],
    doc_md=__doc__,
)
def news_crawl() -> None:
    @task(outlets=[ARTICLES])
    def crawl(spider: str) -> dict[str, Any]:
        from airflow.sdk import get_current_context

        from newsarchive.jobs import crawl_and_upload

        return crawl_and_upload(spider, get_current_context()["dag_run"].run_id)

    # Only the spiders that can run: finews without FINEWS_LIST_URLS + FINEWS_TEXT_URL is left
    # out (a warning in the DAG processor's log says so).
    crawls = crawl.expand(spider=scheduled_spiders())

    if setting("REPORT_ENABLED"):
        # After every crawl, failed ones included: a failure is what the report must show.
        @task(trigger_rule="all_done")
        def report() -> dict[str, Any]:
            from newsarchive.jobs import write_report

            return write_report()

        # The report always succeeds, so it cannot say how the run went: this task does,
        # failing the DAG run when a crawl failed for good (skipped when none did).
        @task(trigger_rule="one_failed")
        def crawls_failed() -> None:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException("a crawl failed after its retries; see its log and its runs row")

        crawls >> [report(), crawls_failed()]


news_crawl()
