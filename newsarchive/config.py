"""Settings plumbing shared by Scrapy, the CLI and the DAGs.

Every setting is declared once, with its default, in :mod:`newsarchive.settings`.
Each can also come from the environment as ``NEWSARCHIVE_<NAME>``; ``-s NAME=value``
on the command line overrides both (Scrapy's ``cmdline`` priority beats ``project``).
This module stays import-light: DAG files read their schedule through it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

ENV_PREFIX = "NEWSARCHIVE_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
#: ``_PASS`` at the end: Scrapy's ``HTTPAUTH_PASS`` (and ``FTP_PASS``-style names).
_SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|ACCESS_KEY|PRIVATE|API_KEY|(?:^|_)PASS$)", re.I)
_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
#: Userinfo ends at the first ``/``, ``?`` or ``#``: ``http://h/?a=b@c`` has none.
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]+)@", re.I)


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


def setting(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """One setting's effective value (module default, then environment), without Scrapy."""
    from newsarchive import settings as module

    env = os.environ if environ is None else environ
    default = getattr(module, "_defaults", {}).get(name, getattr(module, name, None))
    raw = env.get(ENV_PREFIX + name)
    return default if raw is None else coerce(name, raw, default)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def redact_value(value: Any) -> Any:
    """Strip credentials embedded in URLs (``scheme://user:pass@host``)."""
    if isinstance(value, str):
        return _URL_USERINFO.sub(r"\g<scheme>***@", value)
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: ("***" if is_secret_name(str(k)) else redact_value(v)) for k, v in value.items()}
    return value


def redacted(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-able copy of ``settings`` with secrets replaced by ``***``."""
    out: dict[str, Any] = {}
    for name, value in sorted(settings.items()):
        if is_secret_name(name):
            out[name] = "***" if value else value
            continue
        value = redact_value(value)
        try:
            json.dumps(value)
        except TypeError:
            value = repr(value)
        out[name] = value
    return out


#: Settings a spider cannot run without, because it ships no default for them: their
#: values name hosts, and the hosts the original finews script used are gone (issue 16).
REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {"finews": ("FINEWS_LIST_URLS", "FINEWS_TEXT_URL")}


def _blank(value: Any) -> bool:
    """Unset, empty, or only blanks (``-s FINEWS_LIST_URLS=`` reads as ``['']``)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not any(part.strip() for part in value.split(","))
    if isinstance(value, (list, tuple)):
        return all(_blank(v) for v in value)
    return False


def missing_settings(spider: str, lookup: Callable[[str], Any] = setting) -> list[str]:
    """The required settings of ``spider`` that ``lookup`` finds unset (none: configured).

    ``lookup`` is :func:`setting` (module defaults + environment, for the DAGs) or a Scrapy
    ``Settings.get`` (command line included, for the spider)."""
    return [name for name in REQUIRED_SETTINGS.get(spider, ()) if _blank(lookup(name))]


def not_configured_message(spider: str, missing: list[str] | None = None) -> str:
    """Why ``spider`` cannot run and how to configure it, in one line (after
    ``spider 'finews' is not configured: ``)."""
    names = REQUIRED_SETTINGS.get(spider, ())
    unset = f"; {', '.join(missing)} unset" if missing and list(missing) != list(names) else ""
    return f"set {' and '.join(names)} (NEWSARCHIVE_<NAME> or -s NAME=VALUE{unset}): {spider} ships no default hosts"
