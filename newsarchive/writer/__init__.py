"""The run's write work, off the crawler's core: Parquet, WARC records and derived text.

* :mod:`~newsarchive.writer.work`: :class:`RunWriter`, the work itself (article and
  quarantine sinks, the WARC writer, the text columns derived from ``content_html``),
  whatever process it runs in;
* :mod:`~newsarchive.writer.frames`: how messages travel between the processes;
* :mod:`~newsarchive.writer.child`: ``python -m newsarchive.writer``, the writer process;
* :mod:`~newsarchive.writer.client`: :class:`WriterClient`, the crawler's extension that
  feeds the writer in batches (``WRITER_PROCESS``), or calls it in-process.
"""
