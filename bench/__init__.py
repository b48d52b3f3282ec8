"""Benchmarks of newsarchive: speed, memory and efficiency as ratios (``make bench``).

Modules, one job each: ``corpus``/``names`` (vocabulary), ``generator`` (deterministic
articles), ``feeds`` (pre-rendered feed responses), ``server`` (the feed server process),
``crawl`` (a measured crawl subprocess), ``launch`` (the same, forked from a small process),
``rows`` (archive rows without a crawl), one module per benchmark (``b_*``), ``report``
(JSON, table, chart) and ``__main__`` (the driver).
See docs/benchmarks.md.
"""
