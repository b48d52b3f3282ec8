"""Scrapy downloader and spider middlewares of newsarchive."""
