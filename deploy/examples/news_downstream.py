"""news_downstream (an example, not loaded by the scheduler): handle the articles that arrived
since this DAG last ran, each committed article version exactly once.

Scheduled on the Asset ``newsarchive_articles`` (``iceberg://<catalog>/<namespace>/articles``)
that news_crawl's crawl tasks emit after each commit. The task reads, with
:mod:`newsarchive.tables.incremental`, the rows of the crawls' snapshots after the snapshot it
stored last in the Airflow Variable ``newsarchive_downstream_snapshot`` (never the rows a
compaction re-added), hands them to ``handle`` batch by batch, and only then stores the
snapshot it read up to. A task that fails before that reads the same rows again when retried
(at least once; make ``handle`` idempotent, e.g. keyed by ``source``, ``source_id``,
``fetched_at``). The first run, with no Variable, handles the whole current table.

When the stored snapshot was expired by news_compact (``SNAPSHOT_MAX_AGE_HOURS``, 7 days by
default), the task fails saying so rather than hand out part of what arrived: run it more
often than snapshots expire, or delete the Variable to start again from the whole table.

The catalog is the crawls' own (``NEWSARCHIVE_ICEBERG_CATALOG``, the Airflow connection
``NEWSARCHIVE_ICEBERG_CONN_ID``, else pyiceberg's configuration). Copy this file into your
DAGs folder and replace ``handle``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from airflow.sdk import Asset, dag, task

from newsarchive.jobs import archive_asset_uri, dag_defaults

ARTICLES = Asset(name="newsarchive_articles", uri=archive_asset_uri())
#: The Airflow Variable holding the last snapshot id handled.
VARIABLE = "newsarchive_downstream_snapshot"
#: The columns ``handle`` needs (fewer columns, less to read).
COLUMNS = ("source", "source_id", "title", "published_at", "fetched_at", "run_id")


def handle(batch: Any, seen: Counter[str]) -> None:
    """Your processing of one Arrow RecordBatch of new rows; here it counts them by source."""
    seen.update(batch.column("source").to_pylist())


@dag(
    dag_id="news_downstream",
    schedule=[ARTICLES],
    **dag_defaults(),
    tags=["newsarchive", "example"],
    doc_md=__doc__,
)
def news_downstream() -> None:
    @task
    def new_articles() -> dict[str, Any]:
        from airflow.sdk import Variable
        from airflow.sdk.exceptions import AirflowFailException

        from newsarchive.jobs import JobConfig, catalog_env
        from newsarchive.tables import incremental, read
        from newsarchive.tables.catalog import resolve

        catalog = catalog_env()
        archive = str(JobConfig.load().staging_dir)  # the embedded catalog, when none is configured
        spec = resolve(archive, catalog.name, catalog.namespace, overrides=dict(catalog.properties) or None)
        table = read.open_tables(spec, ["articles"])["articles"]
        stored = Variable.get(VARIABLE, default=None)
        seen: Counter[str] = Counter()
        if stored is None:  # first run: everything the table holds now
            current = table.current_snapshot()
            if current is None:
                return {"since": None, "until": None, "rows": 0, "by_source": {}}
            since, until = None, current.snapshot_id
            for batch in table.scan(snapshot_id=until, selected_fields=COLUMNS).to_arrow_batch_reader():
                handle(batch, seen)
        else:
            try:
                changes = incremental.since_snapshot(table, int(stored))
            except incremental.SnapshotExpiredError as exc:
                raise AirflowFailException(f"{exc} (delete the Variable {VARIABLE} to start again)") from exc
            since, until = changes.since, changes.until
            for batch in changes.batches(COLUMNS):
                handle(batch, seen)
        if until is not None:
            Variable.set(VARIABLE, str(until))  # after handling: a failed run reads the same rows again
        return {"since": since, "until": until, "rows": sum(seen.values()), "by_source": dict(seen)}

    new_articles()


news_downstream()
