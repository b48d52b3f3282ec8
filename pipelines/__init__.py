"""Item pipelines: validate → normalise → dedupe → write (articles, then quarantine).

Each stage is one component in its own module, configured in ``ITEM_PIPELINES``. A stage
that rejects an :class:`~newsarchive.items.Article` turns it into a
:class:`~newsarchive.items.Quarantined` item with its reason; nothing is dropped silently.
"""
