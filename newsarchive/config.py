"""Settings read outside Scrapy (the CLI, the DAGs, the jobs), and the ones a spider needs.

Every setting is declared once, with its default, in :mod:`newsarchive.settings`.
Each can also come from the environment as ``NEWSARCHIVE_<NAME>`` (:mod:`newsarchive.envvars`);
``-s NAME=value`` on the command line overrides both (Scrapy's ``cmdline`` priority beats
``project``). This module stays import-light: DAG files read their schedule through it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from newsarchive import settings as declared
from newsarchive.envvars import ENV_PREFIX, coerce


def setting(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """One setting's effective value (module default, then environment), without Scrapy."""
    env = os.environ if environ is None else environ
    default = declared._defaults.get(name, getattr(declared, name, None))
    raw = env.get(ENV_PREFIX + name)
    return default if raw is None else coerce(name, raw, default)


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
