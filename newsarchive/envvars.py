"""``NEWSARCHIVE_<NAME>`` environment variables: how one becomes a setting's value.

A leaf module (nothing of newsarchive imported): :mod:`newsarchive.settings` applies it to its
own defaults when Scrapy or Airflow imports it, and :mod:`newsarchive.config` reads settings
through it; so neither imports the other back.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

ENV_PREFIX = "NEWSARCHIVE_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


class SettingError(ValueError):
    """A NEWSARCHIVE_* variable could not be read as the type of its default."""


def coerce(name: str, raw: str, default: Any) -> Any:
    """Parse an environment string as the type of the setting's default."""
    try:
        if isinstance(default, bool):
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(f"not a boolean: {raw!r}")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, (list, tuple)):
            stripped = raw.strip()
            if stripped.startswith("["):
                return list(json.loads(stripped))
            return [part.strip() for part in stripped.split(",") if part.strip()]
        if isinstance(default, dict):
            try:
                parsed = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON object: {raw!r} ({exc})") from exc
            if not isinstance(parsed, dict):  # dict() would read ["6h"] as {"6": "h"}
                raise ValueError(f"not a JSON object: {raw!r}")
            return parsed
    except ValueError as exc:
        raise SettingError(f"{ENV_PREFIX}{name}: {exc}") from exc
    return raw


def apply_env(namespace: MutableMapping[str, Any], environ: Mapping[str, str] | None = None) -> None:
    """Override upper-case names in ``namespace`` from ``NEWSARCHIVE_<NAME>`` variables.

    Variables naming a setting that the module does not declare (any Scrapy setting,
    say ``NEWSARCHIVE_CLOSESPIDER_TIMEOUT``) are passed through as strings; Scrapy's
    typed getters parse them.
    """
    env = os.environ if environ is None else environ
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :]
        if not _NAME.fullmatch(name):
            continue
        namespace[name] = coerce(name, raw, namespace.get(name))
