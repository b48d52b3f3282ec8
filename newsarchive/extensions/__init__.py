"""Scrapy extensions of newsarchive (enabled in ``EXTENSIONS``)."""
