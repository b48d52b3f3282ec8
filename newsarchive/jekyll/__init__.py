"""Jekyll parity: write the archive as the original site's posts, read its old posts back.

``format`` renders and parses one post (the original templates, byte for byte),
``yamltext`` quotes front-matter values the way YAML needs them, ``safety`` decides when a
title or body must be escaped or sanitised, ``site`` looks after ``_config.yml``, layouts
and the ``old_post/`` rotation, and ``export`` picks one row per infoCode and writes it.
The import runs as the ``jekyll`` spider (``spiders/jekyll.py``). See ``docs/jekyll.md``.
"""
