"""Open an archive table (local directory or ``s3://bucket/prefix``) as a pyarrow dataset.

Analysts can equally use DuckDB (``read_parquet('…/articles/**/*.parquet',
hive_partitioning=true, union_by_name=true)``), pandas (``pd.read_parquet('…/articles')``)
or Spark; this helper just picks the options that always work: hive partitions discovered as
dictionaries (matching the ``source`` column), hidden temporary files ignored, and the
schemas of files written under older schema versions unified. A local archive is listed
without following symbolic links (a link is named in a warning, never read), and a file
whose Parquet footer cannot be read is skipped with a warning naming it, so one planted or
damaged file does not make the whole archive unreadable.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from newsarchive.archive.layout import ARTICLES, Layout

if TYPE_CHECKING:
    from newsarchive.storage.s3 import S3Config

logger = logging.getLogger(__name__)


def filesystem(uri: str, s3: S3Config | None = None) -> tuple[pafs.FileSystem, str]:
    """(pyarrow filesystem, base path) of a local path, ``file://`` or ``s3://`` URI.

    For S3 the endpoint and credentials come from the standard AWS environment
    (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``)."""
    if uri.startswith("s3://"):
        from newsarchive.storage.s3 import S3Config, parse_s3_uri

        bucket, prefix = parse_s3_uri(uri)
        return (s3 or S3Config()).arrow(), f"{bucket}/{prefix}" if prefix else bucket
    if uri.startswith("file://"):
        uri = uri[len("file://") :]
    return pafs.LocalFileSystem(), str(pafs.LocalFileSystem().normalize_path(_abs(uri)))


def _abs(path: str) -> str:
    return str(Path(path).expanduser().resolve())


def _local_paths(base: str, table: str) -> list[str]:
    """Parquet files of a local table, listed without following links (each one warned about)."""
    layout = Layout(Path(base))
    paths = []
    for key, link in layout.walk(table):
        name = key.rsplit("/", 1)[-1]
        if link:
            logger.warning("Skipping %s: a symbolic link (the archive never follows one)", layout.root / key)
        elif name.endswith(".parquet") and not any(p.startswith((".", "_")) for p in key.split("/")):
            paths.append(str(layout.root / key))
    return sorted(paths)


def _readable(paths: list[str], fs: pafs.FileSystem) -> dict[str, pa.Schema]:
    """The schema of each file of ``paths`` whose Parquet footer can be read; the others are
    left out, each named in a warning."""
    import pyarrow.parquet as pq

    good: dict[str, pa.Schema] = {}
    for path in paths:
        try:
            good[path] = pq.read_schema(path, filesystem=fs)
        except (OSError, ValueError, pa.ArrowException) as exc:
            logger.warning("Skipping unreadable Parquet file %s: %s", path, exc)
    return good


def open_dataset(uri: str, table: str = ARTICLES, s3: S3Config | None = None) -> ds.Dataset:
    """``s3``: endpoint and credentials for an ``s3://`` URI (default: the AWS environment)."""
    fs, base = filesystem(uri, s3)
    root = f"{base.rstrip('/')}/{table}"
    if isinstance(fs, pafs.LocalFileSystem):
        paths = _local_paths(base, table)
    else:
        selector = pafs.FileSelector(root, recursive=True, allow_not_found=True)
        paths = sorted(
            info.path
            for info in fs.get_file_info(selector)
            if info.type == pafs.FileType.File
            and info.path.endswith(".parquet")
            and not info.base_name.startswith((".", "_"))
        )
    physical = _readable(paths, fs)
    paths = list(physical)
    partitioning = ds.HivePartitioning.discover(infer_dictionary=True)
    if not paths:
        from newsarchive.schema import ARTICLE_SCHEMA, QUARANTINE_SCHEMA

        schema = ARTICLE_SCHEMA if table == ARTICLES else QUARANTINE_SCHEMA
        return ds.dataset(pa.Table.from_pylist([], schema=schema))
    try:
        dataset = ds.dataset(paths, filesystem=fs, format="parquet", partitioning=partitioning, partition_base_dir=root)
    except pa.ArrowTypeError:
        # Files from before ``source`` was dictionary-encoded (a plain string column) clash
        # with the dictionary partition key: read every file with ``source`` as a string.
        return _as_strings(paths, fs, root)
    schemas = set(physical.values())
    if len(schemas) > 1:  # files of several schema versions: read them all by name
        unified = pa.unify_schemas([dataset.schema, *schemas], promote_options="permissive")
        dataset = ds.dataset(
            paths,
            filesystem=fs,
            format="parquet",
            partitioning=partitioning,
            partition_base_dir=root,
            schema=unified,
        )
    return dataset


def _as_strings(paths: list[str], fs: pafs.FileSystem, root: str) -> ds.Dataset:
    import pyarrow.parquet as pq

    physical = [pq.read_schema(p, filesystem=fs) for p in paths]
    physical = [_string_source(s) for s in physical]
    unified = pa.unify_schemas(physical, promote_options="permissive")
    partitioning = ds.HivePartitioning.discover()
    return ds.dataset(
        paths,
        filesystem=fs,
        format="parquet",
        partitioning=partitioning,
        partition_base_dir=root,
        schema=_with_keys(unified),
    )


def _string_source(schema: pa.Schema) -> pa.Schema:
    i = schema.get_field_index("source")
    return schema.set(i, pa.field("source", pa.string())) if i >= 0 else schema


def _with_keys(schema: pa.Schema) -> pa.Schema:
    """Add the partition keys (``date``) the files do not hold as columns."""
    return schema if "date" in schema.names else schema.append(pa.field("date", pa.string()))
