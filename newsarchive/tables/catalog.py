"""Which Iceberg catalog the archive lives in.

A deployment names its catalog with ``ICEBERG_CATALOG`` and configures it exactly as pyiceberg
reads configuration (``PYICEBERG_CATALOG__<NAME>__URI``, ``__TYPE``, ``__WAREHOUSE``, … or
``.pyiceberg.yaml`` in ``PYICEBERG_HOME``, ``~`` or the working directory). When pyiceberg's
configuration has no entry of that name, the archive directory holds an embedded SQLite
catalog (``catalog.db``) and its warehouse (``warehouse/``): ``scrapy crawl`` by hand needs no
server. Properties given explicitly (an Airflow connection's extras) win over both.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

DEFAULT_CATALOG = "newsarchive"
DEFAULT_NAMESPACE = "newsarchive"
#: File names of the embedded catalog inside ARCHIVE_URI.
EMBEDDED_DB = "catalog.db"
EMBEDDED_WAREHOUSE = "warehouse"
#: Property names whose values are never shown (pyiceberg's credential-bearing keys).
_SECRET_KEYS = ("credential", "token", "secret", "password", "key-id", "session-token")


@dataclass(frozen=True)
class CatalogSpec:
    """A resolved catalog: its name, namespace and the properties pyiceberg opens it with."""

    name: str
    namespace: str
    properties: Mapping[str, Any] = field(repr=False)
    #: True for the per-archive SQLite fallback (fine for one machine, not for several workers).
    embedded: bool = False

    def open(self) -> Catalog:
        from pyiceberg.catalog import load_catalog

        if self.embedded:  # the archive directory may not exist yet (a first run)
            Path(str(self.properties["uri"]).removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(5):
            try:
                return load_catalog(self.name, **dict(self.properties))
            except Exception as exc:
                # Two processes opening a new SQL catalog at once both create its tables; the
                # loser's CREATE TABLE fails ("already exists") and is simply tried again.
                if attempt == 4 or "already exists" not in str(exc):
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def describe(self) -> str:
        """What this catalog is, safe for logs: type and location, never a credential."""
        kind = self.properties.get("type") or ("sql" if "uri" in self.properties else "?")
        where = _without_userinfo(str(self.properties.get("uri") or self.properties.get("warehouse") or ""))
        label = "embedded SQLite catalog" if self.embedded else f"catalog {self.name!r} ({kind})"
        return f"{label} at {where}, namespace {self.namespace!r}"

    def redacted(self) -> dict[str, Any]:
        """The properties with every credential masked (for manifests and error messages)."""
        return {
            k: "***" if any(s in k.lower() for s in _SECRET_KEYS) else _without_userinfo(v) if isinstance(v, str) else v
            for k, v in self.properties.items()
        }


def configured(name: str) -> dict[str, Any] | None:
    """pyiceberg's configuration of catalog ``name`` (environment and ``.pyiceberg.yaml``),
    read now rather than when pyiceberg was imported; None when it has no such entry."""
    from pyiceberg.utils.config import Config

    found = Config().get_catalog_config(name)
    return dict(found) if found else None


def embedded_properties(archive_uri: str) -> dict[str, str]:
    root = local_root(archive_uri)
    return {
        "type": "sql",
        "uri": f"sqlite:///{root / EMBEDDED_DB}",
        "warehouse": (root / EMBEDDED_WAREHOUSE).as_uri(),
    }


def resolve(
    archive_uri: str,
    name: str = DEFAULT_CATALOG,
    namespace: str = DEFAULT_NAMESPACE,
    overrides: Mapping[str, Any] | None = None,
) -> CatalogSpec:
    """The catalog a run in ``archive_uri`` commits to (see the module docstring)."""
    name = (name or DEFAULT_CATALOG).strip()
    namespace = (namespace or DEFAULT_NAMESPACE).strip()
    if not name or not namespace:
        raise ValueError("ICEBERG_CATALOG and ICEBERG_NAMESPACE must not be blank")
    props = configured(name)
    embedded = props is None and not overrides
    if embedded:
        props = embedded_properties(archive_uri)
    merged = {**(props or {}), **{k: v for k, v in (overrides or {}).items() if v is not None}}
    return CatalogSpec(name=name, namespace=namespace, properties=merged, embedded=embedded)


def from_settings(settings: Any, overrides: Mapping[str, Any] | None = None) -> CatalogSpec:
    """The catalog of a crawl or command: ARCHIVE_URI, ICEBERG_CATALOG and ICEBERG_NAMESPACE
    from Scrapy settings (or any object with ``.get``)."""
    return resolve(
        str(settings.get("ARCHIVE_URI") or "./archive"),
        str(settings.get("ICEBERG_CATALOG") or DEFAULT_CATALOG),
        str(settings.get("ICEBERG_NAMESPACE") or DEFAULT_NAMESPACE),
        overrides,
    )


def local_root(archive_uri: str) -> Path:
    """ARCHIVE_URI as an absolute local directory (it is always the crawl's working directory)."""
    uri = archive_uri or "./archive"
    if uri.startswith("file://"):
        uri = urlsplit(uri).path
    elif "://" in uri:
        raise ValueError(f"ARCHIVE_URI must be a local directory, not {uri!r}")
    return Path(uri).expanduser().resolve()


def _without_userinfo(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return parts._replace(netloc=host).geturl()
    return uri
