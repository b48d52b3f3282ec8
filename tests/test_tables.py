"""The Iceberg catalog and tables: which catalog a run uses, and the tables' definitions.

Against the embedded SQLite catalog (no server) and SeaweedFS's real Iceberg REST catalog.
pyiceberg also reads ``~/.pyiceberg.yaml``, so every test isolates ``HOME`` and
``PYICEBERG_HOME`` and drops inherited ``PYICEBERG_*`` variables.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.expressions import In

from newsarchive.schema import ARTICLE_SCHEMA
from newsarchive.tables.catalog import EMBEDDED_DB, EMBEDDED_WAREHOUSE, resolve
from newsarchive.tables.definitions import ARTICLES, TABLES, TableDef, ensure, ensure_all, ensure_namespace, plain


@pytest.fixture(autouse=True)
def no_pyiceberg_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.upper().startswith("PYICEBERG_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PYICEBERG_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


def article_rows(ids: list[int], month: int = 1, source: str = "finews") -> pa.Table:
    rows = [
        {
            "source": source,
            "source_id": f"NW2022{month:02d}12{n:010d}",
            "info_code": f"NW2022{month:02d}12{n:010d}",
            "title": f"标题 {n}",
            "published_at": datetime(2022, month, 12, 10, tzinfo=UTC),
        }
        for n in ids
    ]
    return pa.Table.from_pylist(rows, schema=ARTICLE_SCHEMA)


def add_file(table: Any, rows: pa.Table, name: str, run_id: str) -> str:
    """Write ``rows`` as one Parquet file in the table's location and register it."""
    path = f"{table.location()}/data/{name}.parquet"
    with table.io.new_output(path).create() as out:
        pq.write_table(rows, out)
    with table.transaction() as tx:
        tx.add_files([path], snapshot_properties={"newsarchive.run-id": run_id})
    return path


def test_without_configuration_the_catalog_is_embedded_in_the_archive(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    spec = resolve(str(archive))
    assert spec.embedded and spec.name == "newsarchive" and spec.namespace == "newsarchive"
    tables = ensure_all(spec.open(), spec.namespace)
    assert set(tables) == set(TABLES)
    assert (archive / EMBEDDED_DB).is_file()
    for table in tables.values():
        assert table.location().startswith((archive / EMBEDDED_WAREHOUSE).as_uri())
    assert "embedded SQLite catalog" in spec.describe()


def test_a_catalog_configured_the_pyiceberg_way_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "shared"
    elsewhere.mkdir()
    monkeypatch.setenv("PYICEBERG_CATALOG__LAKE__TYPE", "sql")
    monkeypatch.setenv("PYICEBERG_CATALOG__LAKE__URI", f"sqlite:///{elsewhere / 'lake.db'}")
    monkeypatch.setenv("PYICEBERG_CATALOG__LAKE__WAREHOUSE", (elsewhere / "wh").as_uri())
    archive = tmp_path / "archive"
    spec = resolve(str(archive), name="lake", namespace="news")
    assert not spec.embedded
    ensure_all(spec.open(), spec.namespace)
    assert (elsewhere / "lake.db").is_file()
    assert not (archive / EMBEDDED_DB).exists()
    # The default name is not configured: that one still falls back to the archive.
    assert resolve(str(archive)).embedded


def test_a_pyiceberg_yaml_in_pyiceberg_home_is_read(tmp_path: Path, no_pyiceberg_config: Path) -> None:
    (no_pyiceberg_config / ".pyiceberg.yaml").write_text(
        f"catalog:\n  newsarchive:\n    type: sql\n    uri: sqlite:///{tmp_path / 'yaml.db'}\n"
        f"    warehouse: {(tmp_path / 'wh').as_uri()}\n",
        encoding="utf-8",
    )
    spec = resolve(str(tmp_path / "archive"))
    assert not spec.embedded
    ensure_all(spec.open(), spec.namespace)
    assert (tmp_path / "yaml.db").is_file()


def test_explicit_properties_win_and_credentials_never_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYICEBERG_CATALOG__NEWSARCHIVE__TYPE", "rest")
    monkeypatch.setenv("PYICEBERG_CATALOG__NEWSARCHIVE__URI", "http://127.0.0.1:1")
    monkeypatch.setenv("PYICEBERG_CATALOG__NEWSARCHIVE__CREDENTIAL", "key:s3cr3t-value")
    override = {"uri": "http://user:pw-in-url@127.0.0.1:2", "s3.secret-access-key": "another-s3cr3t"}
    spec = resolve(str(tmp_path / "archive"), overrides=override)
    assert spec.properties["uri"] == override["uri"] and spec.properties["type"] == "rest"
    shown = spec.describe() + repr(spec) + repr(spec.redacted())
    for secret in ("s3cr3t-value", "another-s3cr3t", "pw-in-url"):
        assert secret not in shown


def test_blank_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ICEBERG_NAMESPACE"):
        resolve(str(tmp_path), namespace=" ")
    with pytest.raises(ValueError, match="local directory"):
        resolve("s3://bucket/archive")


def test_tables_have_hidden_partitions_a_sort_order_and_no_pyiceberg_retries(tmp_path: Path) -> None:
    spec = resolve(str(tmp_path / "archive"))
    articles = ensure_all(spec.open(), spec.namespace)[ARTICLES]
    assert [(f.name, str(f.transform)) for f in articles.spec().fields] == [
        ("source", "identity"),
        ("published_month", "month"),
    ]
    assert [articles.schema().find_column_name(f.source_id) for f in articles.sort_order().fields] == ["source_id"]
    assert articles.properties["commit.retry.num-retries"] == "0"
    assert articles.schema().find_field("source").field_type == pa_string_type()
    assert [f.name for f in articles.schema().fields] == list(ARTICLE_SCHEMA.names)


def pa_string_type() -> Any:
    from pyiceberg.types import StringType

    return StringType()


def test_ensure_is_idempotent_and_adds_a_new_column_keeping_field_ids(tmp_path: Path) -> None:
    catalog = resolve(str(tmp_path / "archive")).open()
    full = TABLES[ARTICLES]
    older = TableDef(
        full.name, plain(ARTICLE_SCHEMA).remove(ARTICLE_SCHEMA.get_field_index("raw_sha256")), **_rest(full)
    )
    before = ensure(catalog, "newsarchive", older)
    ids = {f.name: f.field_id for f in before.schema().fields}
    assert "raw_sha256" not in ids
    after = ensure(catalog, "newsarchive", full)
    assert after.schema().find_field("raw_sha256").field_id not in ids.values()
    assert {f.name: f.field_id for f in after.schema().fields if f.name in ids} == ids
    again = ensure(catalog, "newsarchive", full)
    assert again.metadata_location == after.metadata_location  # nothing to do: no commit


def test_a_namespace_another_process_creates_meanwhile_is_not_an_error(tmp_path: Path) -> None:
    """Two crawls opening a new SQLite catalog at once both pass pyiceberg's existence check;
    the second INSERT of the namespace then fails (IntegrityError, seen in CI): the namespace
    exists, and the crawl goes on. A creation that fails for another reason still fails."""
    from pyiceberg.exceptions import NamespaceAlreadyExistsError
    from sqlalchemy.exc import IntegrityError

    spec = resolve(str(tmp_path / "archive"))
    ours, theirs = spec.open(), spec.open()

    def lose_the_race(namespace: str, properties: Any = None) -> None:
        theirs.create_namespace(namespace)  # the other process inserts first
        raise IntegrityError("INSERT INTO iceberg_namespace_properties", {}, Exception("UNIQUE constraint failed"))

    ours.create_namespace_if_not_exists = lose_the_race  # type: ignore[method-assign]
    ensure_namespace(ours, "raced")
    assert ours.namespace_exists("raced")
    tables = ensure_all(spec.open(), "raced")  # and the tables go in as usual
    assert set(tables) == set(TABLES)

    def broken(namespace: str, properties: Any = None) -> None:
        raise NamespaceAlreadyExistsError("a lie: nothing was created")

    ours.create_namespace_if_not_exists = broken  # type: ignore[method-assign]
    with pytest.raises(NamespaceAlreadyExistsError):
        ensure_namespace(ours, "never-created")


def _rest(d: TableDef) -> dict[str, Any]:
    return {"partitions": d.partitions, "sort": d.sort, "properties": d.properties}


def test_a_lookup_by_id_reads_only_the_file_that_can_hold_it(tmp_path: Path) -> None:
    """infoCodes share their first 16 characters: with Iceberg's default truncated bounds
    every file would match every id. Full bounds on source_id make a lookup prune."""
    spec = resolve(str(tmp_path / "archive"))
    table = ensure_all(spec.open(), spec.namespace)[ARTICLES]
    for i in range(3):
        add_file(table, article_rows(list(range(i * 100, i * 100 + 50))), f"f{i}", f"run-{i}")
    table = spec.open().load_table(("newsarchive", ARTICLES))
    wanted = {"NW202201120000000110", "NW202201120000000999"}
    scan = table.scan(row_filter=In("source_id", wanted), selected_fields=("source_id",))
    planned = [Path(t.file.file_path).name for t in scan.plan_files()]
    assert planned == ["f1.parquet"]
    assert scan.to_arrow().column("source_id").to_pylist() == ["NW202201120000000110"]
    summaries = [s.summary for s in table.snapshots()]
    assert [s["newsarchive.run-id"] for s in summaries] == ["run-0", "run-1", "run-2"]


def test_a_lookup_of_more_ids_than_pyiceberg_prunes_by_still_reads_only_the_file_that_can_hold_them(
    tmp_path: Path,
) -> None:
    """pyiceberg ignores file bounds for an In of more than 200 values, and a spider asks about
    a whole feed's ids at once: the lookup and the run's index add the ids' range. The files
    that cannot hold an id are deleted, so opening one would fail."""
    from scrapy.utils.test import get_crawler

    from newsarchive.extensions.archiverun import ArchiveRun
    from newsarchive.tables.lookup import archived, id_filter

    spec = resolve(str(tmp_path / "archive"))
    table = ensure_all(spec.open(), spec.namespace)[ARTICLES]
    paths = [
        add_file(table, article_rows(list(range(i * 1000, i * 1000 + 500))), f"f{i}", f"run-{i}") for i in range(3)
    ]
    table = spec.open().load_table(("newsarchive", ARTICLES))
    held = {f"NW20220112{n:010d}" for n in range(1000, 1300)}
    wanted = held | {"NW202201120000001700"}  # within the range, in no file
    planned = [Path(t.file.file_path).name for t in table.scan(row_filter=id_filter("finews", wanted)).plan_files()]
    assert planned == ["f1.parquet"]
    for path in (paths[0], paths[2]):
        os.remove(path.removeprefix("file://"))
    assert archived(table, "finews", wanted) == held
    run = ArchiveRun(get_crawler(settings_dict={"ARCHIVE_URI": str(tmp_path / "archive")}))
    index = run.index("finews")
    index.prefetch(wanted)
    assert index.queries == 1 and all(i in index for i in held) and "NW202201120000001700" not in index
    assert index.queries == 1  # every answer came from the one query


@pytest.mark.slow
def test_the_rest_catalog_of_seaweedfs_holds_the_tables(tmp_path: Path) -> None:
    from newsarchive.samples.seaweed import SeaweedFS

    (tmp_path / "seaweedfs").mkdir()
    with SeaweedFS(tmp_path / "seaweedfs", table_bucket="warehouse") as s3:
        spec = resolve(str(tmp_path / "archive"), overrides=s3.catalog_properties)
        assert not spec.embedded
        tables = ensure_all(spec.open(), spec.namespace)
        assert tables[ARTICLES].location().startswith("s3://warehouse/")
        add_file(tables[ARTICLES], article_rows([1, 2, 3], month=2), "part-0", "run-rest")
        table = spec.open().load_table(("newsarchive", ARTICLES))
        got = table.scan().to_arrow()
        assert sorted(got.column("source_id").to_pylist()) == [f"NW202202120000000{n:03d}" for n in (1, 2, 3)]
        assert table.current_snapshot().summary["newsarchive.run-id"] == "run-rest"
        assert not (tmp_path / "archive" / EMBEDDED_DB).exists()
