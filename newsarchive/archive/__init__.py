"""The archive layout on disk: the only code that knows where files go.

Everything else (pipelines, upload, compaction, export, the DAGs) asks this package for
paths, publishes through it, and reads through it.
"""

from newsarchive.archive.files import WrittenFile
from newsarchive.archive.layout import Layout

__all__ = ["Layout", "WrittenFile"]
