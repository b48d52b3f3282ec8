"""news_backfill: fill the archive with the past, on demand (trigger with params).

* ``spider`` with ``since``/``until`` (YYYY-MM-DD) for sources that can page back in time
  (thepaper). The finews feeds cannot: each list holds only its latest ~100 records, so a
  finews backfill fails at once, saying so.
* ``spider=jekyll`` with ``path``: import a folder of posts written by the original site.

Like news_crawl, the rows go to the catalog NEWSARCHIVE_ICEBERG_CATALOG (the Airflow
connection NEWSARCHIVE_ICEBERG_CONN_ID, else pyiceberg's configuration) and the WARC files
to NEWSARCHIVE_WARC_URI.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from newsarchive.jobs import dag_defaults


@dag(
    dag_id="news_backfill",
    schedule=None,
    **dag_defaults(),
    params={
        "spider": Param("thepaper", type="string", description="thepaper, jekyll (finews cannot page back)"),
        "since": Param(None, type=["null", "string"], format="date", description="first day (YYYY-MM-DD)"),
        "until": Param(None, type=["null", "string"], format="date", description="last day (YYYY-MM-DD)"),
        "path": Param(None, type=["null", "string"], description="spider=jekyll: folder of posts"),
    },
    tags=["newsarchive", "backfill"],
    doc_md=__doc__,
)
def news_backfill() -> None:
    @task
    def backfill() -> dict[str, Any]:
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowFailException

        from newsarchive.jobs import backfill as run_backfill

        ctx = get_current_context()
        p = ctx["params"]
        try:
            return run_backfill(p["spider"], p.get("since"), p.get("until"), p.get("path"), ctx["dag_run"].run_id)
        except ValueError as exc:  # bad request: retrying cannot help
            raise AirflowFailException(str(exc)) from exc

    backfill()


news_backfill()
