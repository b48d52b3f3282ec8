"""Signals newsarchive components send one another (Scrapy's signal manager, ``crawler.signals``).

A pipeline returns one item per item; a stage that keeps an article *and* records a problem
with it (a link dropped as unsafe) sends the extra quarantine row with this signal, and the
quarantine writer writes it like any other (``item=`` a :class:`~newsarchive.items.Quarantined`).
"""

from __future__ import annotations

#: Sent with ``item=<Quarantined>``: write this quarantine row as well.
quarantine_row = object()
