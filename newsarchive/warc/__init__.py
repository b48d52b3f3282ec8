"""Raw capture: every request and response of a run in WARC files, and replaying them.

* :mod:`~newsarchive.warc.writer` writes the records (warcio, one gzip member each) and
  rotates and publishes the files;
* :mod:`~newsarchive.warc.capture` records a crawl's exchanges (downloader middleware +
  extension);
* :mod:`~newsarchive.warc.evidence` points every archived row to its record;
* :mod:`~newsarchive.warc.replay` answers requests from recorded files (``reparse``);
* :mod:`~newsarchive.warc.reader` reads records back.

See docs/warc.md.
"""
