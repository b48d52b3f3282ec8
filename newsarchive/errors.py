"""How an exception is told in a row (``detail``, ``problems``): its type and a bounded
message. Kept free of Scrapy, so that the writer process does not import it."""

from __future__ import annotations

#: Longest exception message kept in an ``internal_error`` detail (a message can quote a
#: whole bad input).
ERROR_MESSAGE_LIMIT = 1000


def error_detail(exc: BaseException, where: str | None = None) -> str:
    """``RecursionError: maximum recursion depth exceeded (in FinewsSpider.parse_list)``."""
    message = str(exc)
    if len(message) > ERROR_MESSAGE_LIMIT:
        message = message[:ERROR_MESSAGE_LIMIT] + f"... ({len(message)} characters)"
    detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return f"{detail} (in {where})" if where else detail
