"""The archive as Apache Iceberg tables: which catalog, and the tables it holds.

``catalog`` resolves the catalog a run commits to (pyiceberg's own configuration, else an
embedded SQLite catalog inside the archive directory); ``definitions`` declares the tables
(schema from :mod:`newsarchive.schema`, hidden partitioning, sort order, properties) and
creates or evolves them.
"""
