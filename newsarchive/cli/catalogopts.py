"""The options that name the tables (``--archive``, ``--catalog``, ``--namespace``) and the
catalog they name, for every command that reads or maintains the tables. Their defaults are
the settings: the CLI is an edge, the table modules take what they open as parameters.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsarchive.tables.catalog import CatalogSpec


def add_catalog_arguments(parser: argparse.ArgumentParser) -> None:
    """``--archive``, ``--catalog`` and ``--namespace``, the same for every reader."""
    parser.add_argument(
        "--archive",
        default=None,
        metavar="DIR",
        help="the crawl's working directory (ARCHIVE_URI, ./archive): the embedded catalog when none is configured",
    )
    parser.add_argument(
        "--catalog", default=None, metavar="NAME", help="pyiceberg catalog name (ICEBERG_CATALOG, newsarchive)"
    )
    parser.add_argument(
        "--namespace", default=None, metavar="NS", help="namespace of the tables (ICEBERG_NAMESPACE, newsarchive)"
    )


def reader_spec(args: argparse.Namespace) -> CatalogSpec:
    """The catalog the options (or the settings they default to) name."""
    from newsarchive.config import setting
    from newsarchive.tables.read import locate

    return locate(
        args.archive or str(setting("ARCHIVE_URI")),
        args.catalog or str(setting("ICEBERG_CATALOG")),
        args.namespace or str(setting("ICEBERG_NAMESPACE")),
    )


def open_catalog(args: argparse.Namespace, *, create: bool = False):  # type: ignore[no-untyped-def]
    """(catalog, spec) named by the options, else by the settings. Only ``create`` (migrate)
    may make an embedded catalog where there is none; the others say none is there."""
    from newsarchive.cli import UsageError
    from newsarchive.config import setting
    from newsarchive.tables.catalog import resolve
    from newsarchive.tables.read import TablesNotFoundError

    try:
        if create:
            spec = resolve(
                args.archive or str(setting("ARCHIVE_URI")),
                args.catalog or str(setting("ICEBERG_CATALOG")),
                args.namespace or str(setting("ICEBERG_NAMESPACE")),
            )
        else:
            spec = reader_spec(args)
    except (ValueError, TablesNotFoundError) as exc:  # --archive is a local directory, never a bucket
        raise UsageError(str(exc)) from exc
    return spec.open(), spec
