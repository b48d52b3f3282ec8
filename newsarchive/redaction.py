"""Secret masking, the one home of it: which names are secret, and hiding their values.

For the ``runs`` row and the WARC ``warcinfo`` (:func:`redacted`: settings as JSON, secrets as
``***``) and for every log record (:func:`install`): a logging filter masks the values of
secret-looking environment variables (``*SECRET*``, ``*TOKEN*``, ``*PASSWORD*``,
``AWS_SECRET_ACCESS_KEY``...) and ``user:password@`` in URLs, in the message
and its arguments, whichever handler writes the record: the console, a crawl's LOG_FILE,
Airflow's task log (records are made masking, see :func:`install`).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
#: ``_PASS`` at the end: Scrapy's ``HTTPAUTH_PASS`` (and ``FTP_PASS``-style names).
_SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|ACCESS_KEY|PRIVATE|API_KEY|(?:^|_)PASS$)", re.I)
#: The userinfo of a URL (``user:password`` or a lone token), which ends at the first ``/``,
#: ``?`` or ``#``: ``http://h/?a=b@c`` has none.
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]+)@", re.I)
#: Secrets shorter than this are not masked (masking "1" or "true" would garble every line).
MIN_SECRET = 6


def is_secret_name(name: str) -> bool:
    """A setting or variable name whose value is a secret (``*SECRET*``, ``*TOKEN*``, ``*_PASS``...)."""
    return bool(_SECRET_NAME.search(name))


def redact_value(value: Any) -> Any:
    """Strip credentials embedded in URLs (``scheme://user:pass@host``)."""
    if isinstance(value, str):
        return _USERINFO.sub(rf"\g<scheme>{MASK}@", value) if "@" in value else value
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


def secrets_from_env(environ: Mapping[str, str] | None = None) -> set[str]:
    env = os.environ if environ is None else environ
    names = {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"}
    return {v for k, v in env.items() if (k in names or is_secret_name(k)) and len(v) >= MIN_SECRET}


def url_passwords(values: Iterable[object]) -> set[str]:
    """Passwords embedded as ``user:password@`` (or a lone ``token@``) in URL-like setting
    values: masked wherever they show up, in URL form or not (Twisted's "invalid hostname:
    user:password@host")."""
    found: set[str] = set()
    for value in values:
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if not isinstance(item, str):
                continue
            for userinfo in (m.group("userinfo") for m in _USERINFO.finditer(item)):
                secret = userinfo.split(":", 1)[1] if ":" in userinfo else userinfo
                if len(secret) >= MIN_SECRET:
                    found.add(secret)
    return found


def setting_secrets(settings: Mapping[str, object]) -> set[str]:
    """What a run's settings hold that must never be written: passwords in URLs and the
    values of secret-named settings (``HTTPAUTH_PASS``: Scrapy logs the settings it was given)."""
    named = {v for k, v in settings.items() if is_secret_name(str(k)) and isinstance(v, str) and len(v) >= MIN_SECRET}
    return named | url_passwords(settings.values())


def redact(text: str, secrets: Iterable[str]) -> str:
    if "@" in text:  # a userinfo needs one (and most texts, URLs above all, have none)
        text = _USERINFO.sub(rf"\g<scheme>{MASK}@", text)
    found = [secret for secret in secrets if secret in text]  # usually none: nothing to sort
    for secret in sorted(found, key=len, reverse=True):  # longest first: a secret inside another
        text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Mask secrets in a record (message, arguments, exception text)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = set(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message, self.secrets)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class _RedactingRecord(logging.LogRecord):
    """A record that masks secrets when it is formatted, not when it is made: most records
    (Scrapy's DEBUG lines under a WARNING handler) are never formatted, and must cost nothing."""

    redactor: RedactingFilter | None = None

    def getMessage(self) -> str:  # noqa: N802 - logging's name
        message = super().getMessage()
        flt = self.redactor
        if flt is None:
            return message
        if self.exc_info and not self.exc_text:
            self.exc_text = redact(logging.Formatter().formatException(self.exc_info), flt.secrets)
        return redact(message, flt.secrets)


def install(secrets: Iterable[str] | None = None) -> RedactingFilter:
    """Mask secrets in every log record this process creates, whichever handler (Scrapy's,
    Airflow's, a test's) later writes it: records are made masking (lazily, on format)."""
    flt = RedactingFilter(secrets_from_env() if secrets is None else secrets)
    current = _RedactingRecord.redactor
    if current is not None:
        current.secrets |= flt.secrets
        return current
    _RedactingRecord.redactor = flt
    logging.setLogRecordFactory(_RedactingRecord)
    return flt


def mask(text: str) -> str:
    """``text`` with the secrets this process masks in its log (and passwords in URLs) hidden:
    for what is printed beside the log (a console's short form of a traceback)."""
    flt = _RedactingRecord.redactor
    return redact(text, flt.secrets if flt is not None else secrets_from_env())
