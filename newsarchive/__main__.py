"""``python -m newsarchive`` is the ``newsarchive`` command."""

from newsarchive.cli import entrypoint

entrypoint()
