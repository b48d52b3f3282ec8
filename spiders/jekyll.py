"""``jekyll``: import posts written by the original Jekyll site (backfill of its history).

No requests: ``start()`` walks the given folders (or files), reads each post as bytes and
yields an ``Article`` of source ``jekyll`` or a ``Quarantined`` record with its reason, so
the normal pipelines, quarantine, run manifest and exit codes apply. Parsing lives in
:mod:`newsarchive.jekyll.format`. Run it with ``newsarchive import-jekyll PATH...`` or
``newsarchive crawl jekyll -a paths=DIR[:DIR...]``.

An article is (``jekyll``, infoCode): a rolling-news post (numeric id) and a market post
(``NW`` + the same id) are one article. Each distinct body is a version of it. Posts of one
run with the same infoCode and body (copies, a rolling twin of a market post) give one row:
the best template's post (market first), its empty fields filled from the others. A body
already archived adds nothing, whatever file it comes from.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import scrapy
from scrapy.exceptions import NotConfigured

from newsarchive.errors import error_detail
from newsarchive.extensions.archiverun import ArchiveRun
from newsarchive.items import Article, quarantine
from newsarchive.jekyll.format import ParsedPost, PostError, info_code_of_name, parse_post
from newsarchive.timeparse import utcnow

SOURCE = "jekyll"
STAGE = "import"


def as_paths(value: Any) -> list[Path]:
    """Spider argument ``paths``: a list, or one string of paths joined by ``os.pathsep``."""
    if not value:
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).split(os.pathsep)
    return [Path(str(p)).expanduser() for p in items if str(p).strip()]


def iter_posts(root: Path, suffixes: tuple[str, ...]) -> Iterator[tuple[Path, bool]]:
    """(file, is a post candidate) under ``root`` in name order; a file given as ``root``
    is always a candidate. Hidden folders and Jekyll's ``_site`` output are not entered."""
    if not root.is_dir():
        yield root, True
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "_site")
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name, name.lower().endswith(suffixes)


class JekyllSpider(scrapy.Spider):
    name = "jekyll"
    source = SOURCE
    #: JEKYLL_POST_SUFFIXES and DOWNLOAD_MAXSIZE, read in ``from_crawler``.
    suffixes: tuple[str, ...] = ()
    max_bytes: int = 0

    def __init__(self, paths: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.paths = as_paths(paths)

    @property
    def run(self) -> ArchiveRun:
        """The import's run (an extension, built after the spider: looked up when used)."""
        return ArchiveRun.of(self.crawler)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> JekyllSpider:
        spider: JekyllSpider = super().from_crawler(crawler, *args, **kwargs)
        if not spider.paths:
            raise NotConfigured("jekyll: name the posts to import with -a paths=DIR[:DIR...]")
        settings = crawler.settings
        spider.suffixes = tuple(s.lower() for s in settings.getlist("JEKYLL_POST_SUFFIXES"))
        spider.max_bytes = settings.getint("DOWNLOAD_MAXSIZE")
        return spider

    async def start(self) -> AsyncIterator[Any]:
        """Two passes: read and group every post by (infoCode, body), quarantining what
        cannot be read; then write one row per group (bodies are read again, not kept)."""
        groups: dict[tuple[str, str], list[_Seen]] = {}
        for item in self._scan(groups):
            yield item
        self.crawler.stats.set_value("newsarchive/records/unique", len(groups))
        for seen in groups.values():
            try:  # one post no rule foresaw costs that post only
                items = list(self._article(seen))
            except Exception as exc:
                items = [self._internal_error(exc, seen[0].path, "JekyllSpider._article")]
            for item in items:
                yield item

    def _scan(self, groups: dict[tuple[str, str], list[_Seen]]) -> Iterator[Any]:
        index = self.run.index(self.source)
        stats = self.crawler.stats
        visited: set[Path] = set()
        found: list[tuple[str, _Seen]] = []
        for root in self.paths:
            if not root.exists():
                self.run.problems.append(f"path {root}: no such file or folder")
                self.logger.error("Nothing to import at %s: no such file or folder", root)
                continue
            for path, candidate in iter_posts(root, self.suffixes):
                if not candidate:
                    stats.inc_value("newsarchive/jekyll/files_skipped")
                    continue
                real = path.resolve()
                if real in visited:  # the same file under two of the given paths
                    continue
                visited.add(real)
                stats.inc_value("newsarchive/records/seen")
                read = self.read(path)
                if not isinstance(read, tuple):
                    yield read
                    continue
                post, data = read
                content_sha = _sha(post.content_html.encode("utf-8"))
                light = replace(post, content_html="")  # bodies are not kept in memory
                found.append((content_sha, _Seen(path, root, _sha(data), light)))
        # one question to the archive for every post found, not one per post
        index.prefetch(seen.post.info_code for _, seen in found)
        for content_sha, seen in found:
            if index.has_version(seen.post.info_code, content_sha):
                stats.inc_value("newsarchive/skipped_archived")
                continue
            groups.setdefault((seen.post.info_code, content_sha), []).append(seen)

    def read(self, path: Path) -> tuple[ParsedPost, bytes] | Any:
        """(parsed post, file bytes), or the quarantine item saying why not."""
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                return self._bad("too_large", f"{size} bytes > DOWNLOAD_MAXSIZE {self.max_bytes}", path, None)
            data = path.read_bytes()
        except OSError as exc:
            return self._bad("bad_post", f"cannot read the file: {exc.strerror or exc}", path, None)
        try:
            post = parse_post(data, path.name)
        except PostError as exc:
            return self._bad(exc.reason, exc.detail, path, data, exc.info_code)
        except Exception as exc:  # one post no rule foresaw costs that post only
            return self._internal_error(exc, path, "parse_post", data)
        problem = _missing(post)
        if problem is not None:
            return self._bad(*problem, path, data, post.info_code)
        return post, data

    def _article(self, seen: list[_Seen]) -> Iterator[Any]:
        """One row for posts with the same infoCode and body: the best template's post,
        its empty fields filled from the others (a rolling twin's digest and url_w)."""
        ordered = sorted(seen, key=lambda s: TEMPLATE_ORDER.index(s.post.template))
        first = ordered[0]
        read = self.read(first.path)  # read again: bodies were not kept
        if not isinstance(read, tuple):
            yield read
            return
        post, data = read
        if _sha(data) != first.file_sha256:
            self.logger.warning("%s changed during the import; archived as it is now", first.path)
        fields = {name: getattr(post, name) for name in _FILLABLE}
        for other in ordered[1:]:
            for name in _FILLABLE:
                fields[name] = fields[name] or getattr(other.post, name)
        if len(ordered) > 1:
            self.crawler.stats.inc_value("newsarchive/jekyll/merged", len(ordered) - 1)
        self.crawler.stats.inc_value(f"newsarchive/jekyll/templates/{post.template}")
        yield Article(
            source=self.source,
            source_id=post.info_code,
            info_code=post.info_code,
            title=post.title,
            published_at=post.published_at,
            content_html=post.content_html,
            source_url=first.path.absolute().as_uri(),
            list_url=first.root.absolute().as_uri(),
            feed=post.template,
            fetched_at=utcnow(),
            spider=self.name,
            raw_sha256=_sha(data),
            **fields,
        )

    def _internal_error(self, exc: Exception, path: Path, where: str, data: bytes | None = None) -> Any:
        """An exception reading one post: an ``internal_error`` row naming it and the file."""
        self.crawler.stats.inc_value("newsarchive/internal_errors")
        self.crawler.stats.inc_value("newsarchive/internal_errors/import")
        self.logger.error("%s failed on %s", where, path, exc_info=exc)
        return self._bad("internal_error", error_detail(exc, where), path, data)

    def _bad(self, reason: str, detail: str, path: Path, data: bytes | None, info_code: str | None = None) -> Any:
        """A quarantine record whose ``raw`` is the file's text: the same bad post, wherever
        it lies, is quarantined once (fingerprint), and is there to read."""
        item = quarantine(
            self.source,
            STAGE,
            reason,
            f"{path.name}: {detail}",
            info_code_raw=info_code or info_code_of_name(path.name),
            url=path.absolute().as_uri(),
            raw=data,
        )
        if data is not None:
            item["raw_sha256"] = _sha(data)
        return item


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: Best first: which post of a group gives the row (the export reproduces market posts).
TEMPLATE_ORDER = (
    "jekyll-market",
    "jekyll-market-early",
    "jekyll-rolling",
    "jekyll-rolling-early",
    "jekyll-other",
)
#: Fields a group's row takes from its other posts when its own post lacks them.
_FILLABLE = ("digest", "media_name", "media_slug", "share_url", "article_url")


@dataclass(frozen=True)
class _Seen:
    """A readable post met in the first pass (without its body)."""

    path: Path
    root: Path
    file_sha256: str
    post: ParsedPost


def _missing(post: ParsedPost) -> tuple[str, str] | None:
    if post.published_at is None:
        return "missing_time", f"no usable date in the front matter (got {post.date_raw!r})"
    if not post.title or not post.title.strip():
        return "missing_title", "the front matter has no title"
    if not post.content_html.strip():
        return "empty_text", "the post has no body"
    return None
