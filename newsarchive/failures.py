"""Name a failed request's fault with a quarantine reason code."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_error
from twisted.python.failure import Failure

_TIMEOUTS = (
    DownloadTimeoutError,
    twisted_error.TimeoutError,
    twisted_error.TCPTimedOutError,
    TimeoutError,
)
_CONNECTION = (
    DownloadConnectionRefusedError,
    CannotResolveHostError,
    DownloadFailedError,
    twisted_error.ConnectError,
    twisted_error.ConnectionDone,
    twisted_error.ConnectionLost,
    ConnectionError,
)


def _data_loss(exc: BaseException) -> str:
    """What a ResponseDataLossError cut: Twisted's chunked decoder names its state; a body
    with a Content-Length simply ended early."""
    cause = exc.__cause__
    reasons = getattr(cause, "reasons", None) or []
    chunked = next((str(r.value) for r in reasons if "Chunked decoder" in str(getattr(r, "value", ""))), None)
    if chunked:
        return f"the chunked transfer ended before its last chunk ({chunked})"
    return "the connection closed before the whole body arrived (Content-Length not reached)"


def classify(failure: Failure | BaseException) -> tuple[str, str, int | None]:
    """Return (reason, detail, http_status) for a request's failure."""
    exc: Any = failure.value if isinstance(failure, Failure) else failure
    name = type(exc).__name__
    message = str(exc) or name
    own = getattr(exc, "quarantine_reason", None)  # an exception that names its reason (WARC replay)
    if isinstance(own, str):
        return own, message, None
    if isinstance(exc, HttpError):
        status = exc.response.status
        return "http_error", f"HTTP {status}", status
    if isinstance(exc, _TIMEOUTS):
        return "timeout", f"{name}: {message}", None
    if isinstance(exc, DownloadCancelledError) and "max size" in message:
        return "too_large", message, None
    if isinstance(exc, ResponseDataLossError):
        return "truncated", _data_loss(exc), None
    if isinstance(exc, IgnoreRequest) and "exceeded DOWNLOAD_MAXSIZE" in message:
        # HttpCompressionMiddleware: a body that expands past the cap while decompressing
        return "too_large", message, None
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in message:
            return "robots_forbidden", message, None
        if "offsite" in message.lower():
            return "offsite", message, None
        return "fetch_error", f"{name}: {message}", None
    if isinstance(exc, _CONNECTION) or "ResponseNeverReceived" in name or "ResponseFailed" in name:
        return "connection_error", f"{name}: {message}", None
    return "fetch_error", f"{name}: {message}", None
