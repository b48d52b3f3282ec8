"""DuckDB's own Iceberg reader attached to the archive's REST catalog: a second engine.

pyiceberg writes the tables; this opens them with nothing of pyiceberg's: DuckDB's
``iceberg`` extension asks the REST catalog for each table's metadata and its ``httpfs``
extension reads the manifests and data files from object storage. The extensions are the
packaged ones from PyPI (``duckdb-extension-iceberg``, ``-httpfs``, ``-avro``, the version of
``duckdb``), loaded from site-packages: DuckDB never downloads or autoloads an extension here.

The connection is configured from the pyiceberg properties of a ``type=rest`` catalog
(``uri``, ``warehouse``, ``credential`` "id:secret", ``oauth2-server-uri``, ``s3.endpoint``,
``s3.access-key-id``, ``s3.secret-access-key``, ``s3.region``): one S3 secret, one Iceberg
secret, then ``ATTACH``. The secrets' values go into DuckDB's in-memory secret manager only
(temporary secrets: never written to ``~/.duckdb``);
they are never logged, and an error DuckDB raises has them masked.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import duckdb

    from newsarchive.tables.catalog import CatalogSpec

#: The extensions the reader needs, in the order they are loaded.
EXTENSIONS = ("httpfs", "avro", "iceberg")
#: The name the catalog is attached under: ``SELECT ... FROM iceberg.<namespace>.articles``.
DEFAULT_ALIAS = "iceberg_catalog"


class EngineUnavailableError(RuntimeError):
    """DuckDB's Iceberg reader cannot be set up (an extension missing, not a REST catalog)."""


def extension_path(name: str) -> Path:
    """The packaged extension ``name`` for the installed DuckDB, from site-packages."""
    import duckdb

    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError(f"the package duckdb-extension-{name} is not installed")
    version = duckdb.__version__
    path = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise EngineUnavailableError(f"duckdb-extension-{name} has no build for DuckDB {version} ({path})")
    return path


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """Load httpfs, avro and iceberg from site-packages; nothing is downloaded or autoloaded."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    for name in EXTENSIONS:
        con.execute(f"LOAD {_literal(str(extension_path(name)))}")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _secret_values(properties: Mapping[str, Any]) -> list[str]:
    values = [str(properties.get(k) or "") for k in ("credential", "s3.secret-access-key", "token")]
    values += [v.partition(":")[2] for v in values if ":" in v]
    return sorted({v for v in values if v}, key=len, reverse=True)


def _masked(message: str, secrets: list[str]) -> str:
    for value in secrets:
        message = message.replace(value, "***")
    return message


def secret_statements(properties: Mapping[str, Any], alias: str = DEFAULT_ALIAS) -> list[str]:
    """The CREATE SECRET statements for a REST catalog's properties (they hold credentials:
    execute them, never print them)."""
    if str(properties.get("type", "rest")).lower() != "rest" or not properties.get("uri"):
        raise EngineUnavailableError("DuckDB's Iceberg reader attaches a REST catalog (type=rest with a uri)")
    statements = []
    endpoint = str(properties.get("s3.endpoint") or "")
    if properties.get("s3.access-key-id") or endpoint:
        options = {"TYPE": "s3", "REGION": str(properties.get("s3.region") or "us-east-1")}
        if properties.get("s3.access-key-id"):
            options["KEY_ID"] = str(properties["s3.access-key-id"])
            options["SECRET"] = str(properties.get("s3.secret-access-key") or "")
        if endpoint:
            parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
            options["ENDPOINT"] = parts.netloc
            options["URL_STYLE"] = "path"  # a self-hosted store (SeaweedFS, MinIO) has no virtual hosts
            options["USE_SSL"] = "true" if parts.scheme == "https" else "false"
        statements.append(_create_secret(f"{alias}_s3", options))
    credential = str(properties.get("credential") or "")
    if credential:
        client_id, _, client_secret = credential.partition(":")
        options = {"TYPE": "iceberg", "CLIENT_ID": client_id, "CLIENT_SECRET": client_secret}
        token_uri = properties.get("oauth2-server-uri") or str(properties["uri"]).rstrip("/") + "/v1/oauth/tokens"
        options["OAUTH2_SERVER_URI"] = str(token_uri)
        statements.append(_create_secret(f"{alias}_rest", options))
    elif properties.get("token"):
        statements.append(_create_secret(f"{alias}_rest", {"TYPE": "iceberg", "TOKEN": str(properties["token"])}))
    return statements


def _create_secret(name: str, options: Mapping[str, str]) -> str:
    body = ", ".join(f"{k} {v if v in ('true', 'false') else _literal(v)}" for k, v in options.items())
    return f"CREATE OR REPLACE TEMPORARY SECRET {name} ({body})"  # in memory, never on disk


def attach_statement(properties: Mapping[str, Any], alias: str = DEFAULT_ALIAS) -> str:
    """The ATTACH of the catalog (the warehouse is named as the REST catalog knows it:
    ``s3://warehouse`` → ``warehouse``, SeaweedFS's table bucket)."""
    warehouse = str(properties.get("warehouse") or "")
    warehouse = warehouse.removeprefix("s3://").rstrip("/") if warehouse.startswith("s3://") else warehouse
    options = [f"TYPE iceberg, ENDPOINT {_literal(str(properties['uri']).rstrip('/'))}"]
    if properties.get("credential") or properties.get("token"):
        options.append(f"SECRET {alias}_rest")
    else:
        options.append("AUTHORIZATION_TYPE 'none'")
    return f"ATTACH {_literal(warehouse)} AS {alias} ({', '.join(options)})"


def attach(
    properties: Mapping[str, Any],
    con: duckdb.DuckDBPyConnection | None = None,
    alias: str = DEFAULT_ALIAS,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (``con`` or a new in-memory one) with the REST catalog of
    ``properties`` attached as ``alias``: its tables are ``alias.<namespace>.<table>``.

    Raises EngineUnavailableError (an extension missing, not a REST catalog, or DuckDB
    refusing the secrets or the catalog; credentials masked in the message)."""
    import duckdb

    statements = [*secret_statements(properties, alias), attach_statement(properties, alias)]
    secrets = _secret_values(properties)
    own = con is None
    con = duckdb.connect() if con is None else con
    try:
        con.execute("SET TimeZone = 'UTC'")
        load_extensions(con)
        for statement in statements:
            con.execute(statement)
    except (duckdb.Error, EngineUnavailableError) as exc:
        if own:
            con.close()
        if isinstance(exc, EngineUnavailableError):
            raise
        raise EngineUnavailableError(_masked(f"cannot attach the Iceberg catalog: {exc}", secrets)) from None
    return con


def connect(spec: CatalogSpec, alias: str = DEFAULT_ALIAS) -> duckdb.DuckDBPyConnection:
    """The views of :func:`newsarchive.analytics.views.connect` (``articles``,
    ``articles_all``, ``quarantine``, ``runs``), read by DuckDB's Iceberg reader instead of
    pyiceberg: the catalog of ``spec`` attached, each view a SELECT over its table (DuckDB
    reads the current snapshot's files itself, projections and filters pushed down).

    Raises TablesNotFoundError when the namespace or a table is not in the catalog."""
    import duckdb

    from newsarchive.analytics.views import DEDUP_SQL
    from newsarchive.tables.definitions import ARTICLES, QUARANTINE, RUNS
    from newsarchive.tables.read import TablesNotFoundError

    if spec.embedded:
        raise EngineUnavailableError("DuckDB's Iceberg reader attaches a REST catalog, not the embedded one")
    con = attach(spec.properties, alias=alias)
    schema = f"{alias}.{_identifier(spec.namespace)}"
    for name, view in ((ARTICLES, "articles_all"), (QUARANTINE, "quarantine"), (RUNS, "runs")):
        try:
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM {schema}.{_identifier(name)}")  # noqa: S608 (quoted)
        except duckdb.CatalogException as exc:
            con.close()
            raise TablesNotFoundError(f"no table {spec.namespace}.{name} in the {spec.describe()}: {exc}") from None
    con.execute(f"CREATE VIEW articles AS {DEDUP_SQL}")
    return con


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
