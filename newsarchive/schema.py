"""The archive's schema: one declaration for the writer, the quarantine, the docs and tests.

Adding a column is one edit here plus a bump of :data:`SCHEMA_VERSION`; columns are only
ever added (never renamed or retyped), so files written under older versions read
together with newer ones (pyarrow's unified schema, DuckDB's ``union_by_name``).
``docs/schema.md`` is generated from this module (``newsarchive schema --markdown``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

#: Version of the article and quarantine tables written by this code.
SCHEMA_VERSION = 3

UTC_TS = pa.timestamp("us", tz="UTC")
#: ``source`` is a plain string: the tables partition by it with a hidden (Iceberg identity)
#: transform, so no path carries a value a reader must reconcile with the column.
SOURCE_TYPE = pa.string()


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    doc: str
    example: Any
    since: int = 1
    nullable: bool = True

    def field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable)


ARTICLE_COLUMNS: tuple[Column, ...] = (
    Column(
        "source",
        SOURCE_TYPE,
        "Where the article came from: `finews` (infoCode feeds), `eastmoney` (East Money's web "
        "APIs), `thepaper` (thepaper.cn), `jekyll` (posts of the original site imported by "
        "`import-jekyll`).",
        "finews",
        nullable=False,
    ),
    Column(
        "source_id",
        pa.string(),
        "The article's id within its source: for `finews`, `eastmoney` and `jekyll` the infoCode (a "
        "rolling-news post's numeric id becomes `NW` + id), for `thepaper` the contId (digits). "
        "(`source`, `source_id`) identifies an article.",
        "NW202201122245299970",
        nullable=False,
    ),
    Column(
        "info_code",
        pa.string(),
        "East Money infoCode: `NW` or `AN` + 18 digits. Null for sources without one.",
        "NW202201122245299970",
    ),
    Column(
        "title",
        pa.string(),
        "Headline as the source gave it.",
        "上海推进城市数字化转型 启动首席数据官制度研究和试点",
    ),
    Column(
        "digest",
        pa.string(),
        "Summary from the feed (rolling news: `digest` without the "
        "leading `【title】`; media feed: `simdigest`; thepaper: `summary`; `jekyll` rolling "
        "posts: the `> ` line, or the whole body of early ones).",
        "1月12日，上海市政府新闻办举行…",
    ),
    Column(
        "media_name",
        pa.string(),
        "Publishing medium: from the feed (`medianame`, `from`; thepaper: the page's `source`) or, "
        "when no feed names it, from the body's `em_media` credit.",
        "澎湃新闻",
    ),
    Column(
        "media_slug",
        pa.string(),
        "The original site's category slug: the media name in "
        "pinyin, character by character, no separators (as `xpinyin` made it); for `jekyll` "
        "market posts the post's `categories` as published.",
        "pengpaixinwen",
    ),
    Column(
        "published_at",
        UTC_TS,
        "Publication time in UTC (sources give Beijing time, UTC+8). "
        "Never null: a record without a usable time is quarantined.",
        "2022-01-12 07:51:41+00:00",
        nullable=False,
    ),
    Column(
        "content_html",
        pa.string(),
        "Article body HTML exactly as served (`text`, else `content` of the text endpoint; "
        "thepaper: `content`, or for a page without one (video, image set) a minimal body built "
        "from its summary, images with captions and video, see docs/thepaper.md); for `jekyll` "
        "the post's body exactly as written (without the digest line and links).",
        "<p>1月12日，上海市政府新闻办…</p>",
    ),
    Column(
        "content_text",
        pa.string(),
        "Plain text of the body: entities decoded, tags and "
        "full-width indents removed, the `em_media` credit removed (and East Money's live "
        "quotes `span#quote_*`, editor's line `p.res-edit`/`div.res-edit`/`<p>（责任编辑：…）</p>`, "
        "ad slots `div.ad_context3` and share bars), one paragraph per line (`\\n`).",
        "1月12日，上海市政府新闻办举行…",
    ),
    Column(
        "media_credit",
        pa.string(),
        'Text of the body\'s credit: `<p class="em_media">`, or a plain `<p>（文章来源：…）</p>`.',
        "（文章来源：澎湃新闻）",
    ),
    Column(
        "article_url",
        pa.string(),
        "The article's page at the publisher (`url_w` of the rolling feed; eastmoney: "
        "`EASTMONEY_WEB_BASE` + the article path; thepaper: "
        "`THEPAPER_WEB_BASE` + the article path; a `jekyll` rolling post's link) when known.",
        "http://finance.eastmoney.com/a/202201122245299970.html",
    ),
    Column(
        "share_url",
        pa.string(),
        "Public share page of the article (`FINEWS_SHARE_URL`; eastmoney: the list's "
        "`uniqueUrl`; for `jekyll` the market post's link).",
        "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202201122245299970",
    ),
    Column(
        "source_url",
        pa.string(),
        "URL actually fetched for the body (the text endpoint; thepaper: the article page); "
        "for `jekyll` the post file's `file://` URI.",
        "http://finews.zning.xyz/NewsData/GetNewsText.do?id=NW202201122245299970",
    ),
    Column(
        "list_url",
        pa.string(),
        "List endpoint of the feed record that won the merge (thepaper: the channel or hot-list "
        "endpoint); for `jekyll` the `file://` URI of the folder (or file) given to `import-jekyll`.",
        "http://183.136.162.242/web/webapi?type=45&count=100&newsid=1",
    ),
    Column(
        "feed",
        pa.string(),
        "Feed family of that record: `rolling`, `media`, `market-<marketType>`; eastmoney: "
        "`column:<id>`, `fast:<fastColumn>`; thepaper: "
        "`channel-<channelId>`, `hot`, `topic-<contId>` (listed by a special topic); for "
        "`jekyll` the post template recognised: `jekyll-market`, `jekyll-market-early`, "
        "`jekyll-rolling`, `jekyll-rolling-early`, `jekyll-other` (docs/jekyll.md).",
        "market-37",
    ),
    Column(
        "fetched_at",
        UTC_TS,
        "When the body response was received (UTC): with WARC capture, the WARC-Date of its "
        "response record, which a reparse keeps; for `jekyll` when the imported file was read.",
        "2026-11-27 18:30:02.123456+00:00",
    ),
    Column("http_status", pa.int32(), "HTTP status of the body response.", 200),
    Column(
        "content_sha256",
        pa.string(),
        "SHA-256 (hex) of `content_html` in UTF-8; versions of an article differ by it.",
        "9f2c…e1",
    ),
    Column("spider", pa.string(), "Scrapy spider (or command) that produced the row.", "finews"),
    Column(
        "story_id",
        pa.string(),
        "Hash of the normalised title (NFKC, whitespace and "
        "punctuation removed) and the Beijing-time publication date; computed from the row "
        "alone, so the same story from two sources shares it.",
        "3b1f0c2a9d4e5f60",
    ),
    Column(
        "run_id",
        pa.string(),
        "Crawl run that wrote the row; unique per crawl process; `[A-Za-z0-9_.-]` only.",
        "20261127T183000Z-4f2a9c1e",
    ),
    Column(
        "dag_run_id",
        pa.string(),
        "Airflow DAG run id when the run was scheduled; null for hand runs.",
        "scheduled__2026-11-27T18:00:00+00:00",
    ),
    Column(
        "pipeline_version",
        pa.string(),
        "Version of newsarchive that wrote the row (`PIPELINE_VERSION`); a reparse writes its "
        "own, and for the same fetch the newest version wins (compared numerically).",
        "0.1.0",
    ),
    Column("schema_version", pa.int32(), "Schema version of the file that holds the row.", 1),
    # --- v2: fields only some sources have, and the raw evidence of each row -------------
    Column(
        "author",
        pa.string(),
        "Author(s) as the source names them (thepaper `author`); null when the source does not say.",
        "澎湃新闻记者 张三",
        since=2,
    ),
    Column(
        "editors",
        pa.list_(pa.string()),
        "Responsible editors (thepaper `responEditor`, split on 、 , / and spaces).",
        ["李四"],
        since=2,
    ),
    Column(
        "channel",
        pa.string(),
        "Channel or column at the source (thepaper `nodeInfo.name` of the page, else of the list entry).",
        "10%公司",
        since=2,
    ),
    Column("tags", pa.list_(pa.string()), "Tags at the source (thepaper `tagList[].tag`).", ["余承东"], since=2),
    Column(
        "image_urls",
        pa.list_(pa.string()),
        "Images of the article, in page order (thepaper: the body's `<img>`, lazy `data-src` "
        "included, then `images[].src`; absolute, no duplicates; `[]` when there are none).",
        ["https://imgpai.thepaper.cn/newpai/image/1.png"],
        since=2,
    ),
    Column(
        "updated_at",
        UTC_TS,
        "Last update at the source, when it says (UTC; thepaper `updateTime`).",
        "2025-07-08 13:11:14+00:00",
        since=2,
    ),
    Column(
        "warc_filename",
        pa.string(),
        "WARC file (key relative to the archive root) holding the response the row was parsed "
        "from; null when the run had `WARC_ENABLED` off. See docs/warc.md.",
        "warc/date=2026-11-27/20261127T183000Z-4f2a9c1e-0.warc.gz",
        since=2,
    ),
    Column(
        "warc_record_offset",
        pa.int64(),
        "Byte offset of that response record in the WARC file: one gzip member that "
        "decompresses alone (fetch bytes offset … offset+length-1).",
        48213,
        since=2,
    ),
    Column("warc_record_length", pa.int64(), "Byte length of that gzip member (compressed).", 3120, since=2),
    Column(
        "raw_sha256",
        pa.string(),
        "SHA-256 (hex) of the raw payload the row was parsed from: the HTTP response body as "
        "received (before any Content-Encoding is undone; the record's WARC-Payload-Digest), "
        "or the imported file.",
        "5d41…",
        since=2,
    ),
)

QUARANTINE_COLUMNS: tuple[Column, ...] = (
    Column("source", SOURCE_TYPE, "Source the bad record came from.", "finews", nullable=False),
    Column(
        "stage",
        pa.string(),
        "Where it failed: `list` (a list feed or a record in it), "
        "`text` (the body request: text endpoint or article page), `import` (a file read by an "
        "import), `validate`, `normalise`, `write`.",
        "text",
        nullable=False,
    ),
    Column(
        "reason",
        pa.string(),
        "Short code from the documented list (see below).",
        "http_error",
        nullable=False,
    ),
    Column("detail", pa.string(), "Human-readable explanation.", "HTTP 404 after 0 retries"),
    Column("info_code_raw", pa.string(), "The infoCode (or id) as received, unvalidated.", "../../etc/passwd"),
    Column(
        "url",
        pa.string(),
        "URL involved (list or text endpoint), if any.",
        "http://finews.zning.xyz/NewsData/GetNewsText.do?id=NW202201122245299970",
    ),
    Column(
        "raw",
        pa.string(),
        "The offending record or response excerpt as JSON text.",
        '{"infoCode": "NW1", "title": "…"}',
    ),
    Column("http_status", pa.int32(), "HTTP status, when a response was received.", 404),
    Column("seen_at", UTC_TS, "When the problem was seen (UTC).", "2026-11-27 18:30:02+00:00", nullable=False),
    Column("run_id", pa.string(), "Crawl run that saw it.", "20261127T183000Z-4f2a9c1e", nullable=False),
    Column("dag_run_id", pa.string(), "Airflow DAG run id, if scheduled.", None),
    Column("spider", pa.string(), "Spider (or command) that saw it.", "finews"),
    Column(
        "fingerprint",
        pa.string(),
        "SHA-256 of (source, reason, raw) for record-level "
        "problems, with the article's id for a text or page (two articles with the same bad "
        "body are two rows): the same bad record is quarantined once, not on every run.",
        "a41c…",
    ),
    Column("pipeline_version", pa.string(), "Version of newsarchive that wrote the row.", "0.1.0"),
    Column("schema_version", pa.int32(), "Schema version of the file that holds the row.", 1),
    # --- v2: the raw evidence -------------------------------------------------------------
    Column(
        "warc_filename",
        pa.string(),
        "WARC file holding the response the problem was seen in, when one was received "
        "(a list, an HTTP error, a bad body); null for failures without a response.",
        "warc/date=2026-11-27/20261127T183000Z-4f2a9c1e-0.warc.gz",
        since=2,
    ),
    Column(
        "warc_record_offset",
        pa.int64(),
        "Byte offset of that response record (one gzip member).",
        48213,
        since=2,
    ),
    Column("warc_record_length", pa.int64(), "Byte length of that gzip member.", 3120, since=2),
    Column("raw_sha256", pa.string(), "SHA-256 (hex) of that response's body as received.", "5d41…", since=2),
)

_COUNTS = pa.map_(pa.string(), pa.int64())
_WARC_FILE = pa.struct(
    [
        pa.field("path", pa.string()),
        pa.field("bytes", pa.int64()),
        pa.field("sha256", pa.string()),
        pa.field("records", pa.int64()),
    ]
)

#: The ``runs`` table: one row per crawl, import or reparse, committed last (after its
#: articles and quarantine rows), so a row here means the run's rows are in the tables.
RUN_COLUMNS: tuple[Column, ...] = (
    Column(
        "run_id",
        pa.string(),
        "Run id: `<UTC start>-<8 hex>`; also the `run_id` of its rows.",
        "20261127T183000Z-4f2a9c1e",
        nullable=False,
    ),
    Column(
        "dag_run_id",
        pa.string(),
        "Airflow DAG run that started it; null for hand runs.",
        "scheduled__2026-11-27T18:30:00+00:00",
    ),
    Column("spider", pa.string(), "Spider (or command) that ran.", "eastmoney"),
    Column("source", pa.string(), "Source it archived.", "eastmoney"),
    Column(
        "status",
        pa.string(),
        "`complete`, `partial` (something went wrong, the rest is archived), `failed` or "
        "`recovered` (a run that died after committing rows, before this row; written by the next run).",
        "complete",
        nullable=False,
    ),
    Column(
        "finish_reason",
        pa.string(),
        "Scrapy's close reason (`finished`, `shutdown`, `archive_write_failed`, `catalog_unavailable`, ...).",
        "finished",
    ),
    Column("started_at", UTC_TS, "When the run started (UTC).", "2026-11-27 18:30:00+00:00", nullable=False),
    Column("finished_at", UTC_TS, "When its rows were committed (UTC).", "2026-11-27 18:31:12+00:00"),
    Column("duration_s", pa.float64(), "`finished_at - started_at`, in seconds.", 72.4),
    Column("requests", pa.int64(), "Requests sent, retries included.", 131),
    Column(
        "requests_by_kind",
        _COUNTS,
        "Requests by kind (`list`, `text`, `page`, `robots`, ...).",
        "{list: 15, page: 116}",
    ),
    Column("responses_by_status", _COUNTS, "Responses by HTTP status.", "{200: 130, 404: 1}"),
    Column("articles_written", pa.int64(), "Article rows this run committed to `articles`.", 44),
    Column("quarantined", pa.int64(), "Rows this run committed to `quarantine`.", 3),
    Column("quarantined_by_reason", _COUNTS, "Those rows by reason.", "{http_error: 1, bad_json: 2}"),
    Column(
        "duplicates", pa.int64(), "Article versions met that the archive already held (skipped, not written again).", 0
    ),
    Column("lists_ok", pa.int64(), "Lists read.", 15),
    Column("lists_failed", pa.int64(), "Lists that could not be read.", 0),
    Column(
        "counts",
        _COUNTS,
        "Every other counter of the run (`skipped_archived`, `eastmoney_skipped_cfh`, `quarantine_repeats`, ...).",
        "{skipped_archived: 12}",
    ),
    Column(
        "problems",
        pa.list_(pa.string()),
        "What made the run partial or failed, secrets masked.",
        "[list http://…/list?page=2: http_error (HTTP 503)]",
    ),
    Column(
        "archive_problems",
        pa.list_(pa.string()),
        "What the run found wrong in its working directory (a planted link moved aside); "
        "the rows are archived all the same.",
        "[]",
    ),
    Column(
        "articles_snapshot_id",
        pa.int64(),
        "Snapshot of `articles` that committed the run's rows (null when it had none).",
        3051729675574597004,
    ),
    Column(
        "quarantine_snapshot_id",
        pa.int64(),
        "Snapshot of `quarantine` that committed the run's rows (null when it had none).",
        6712054380045810390,
    ),
    Column(
        "commit_retries", pa.int64(), "Commit attempts the catalog refused because another writer committed first.", 0
    ),
    Column(
        "warc_files",
        pa.list_(_WARC_FILE),
        "The run's WARC files (raw capture): path under ARCHIVE_URI (`warc/<rest>`, uploaded to "
        "`<WARC_URI>/<rest>`), size, SHA-256 and record count.",
        "[{path: warc/date=2026-11-27/20261127T183000Z-4f2a9c1e-0.warc.gz, bytes: 183204, "
        "sha256: 9f2c…, records: 262}]",
    ),
    Column(
        "catalog",
        pa.string(),
        "The catalog and namespace committed to, without credentials.",
        "embedded SQLite catalog at /srv/archive/catalog.db, namespace 'newsarchive'",
    ),
    Column(
        "settings",
        pa.string(),
        "Every setting that shaped the run, as JSON, secrets masked.",
        '{"SPIDERS": ["eastmoney"], ...}',
    ),
    Column("pipeline_version", pa.string(), "newsarchive version that ran.", "0.4.0"),
    Column("schema_version", pa.int32(), "Schema version it wrote.", 3),
)

#: Quarantine reason codes, each with what it means. Stable: analysts filter on them.
QUARANTINE_REASONS: dict[str, str] = {
    "invalid_info_code": "The record's infoCode is not `NW`/`AN` + 18 digits (or is missing); "
    "it never reaches a URL or a file name.",
    "missing_time": "No usable publication time: absent, empty or unparseable.",
    "missing_title": "The record has no title.",
    "bad_json": "A response that should be JSON is not: invalid or truncated JSON, an empty "
    "body, an HTML page served with status 200.",
    "bad_feed": "Valid JSON, but not a known list family (no `records`, `nodeList` or `record` list).",
    "bad_record": "A list entry that is not a JSON object.",
    "empty_text": "The text endpoint answered without `text` or `content`.",
    "http_error": "The server answered with an HTTP error status (after retries for 5xx).",
    "timeout": "No answer within DOWNLOAD_TIMEOUT (after retries).",
    "truncated": "The connection closed before the whole body arrived (fewer bytes than Content-Length).",
    "connection_error": "Connection refused, reset or closed early, DNS failure (after retries).",
    "too_large": "The response exceeded DOWNLOAD_MAXSIZE and was refused.",
    "robots_forbidden": "robots.txt disallows the URL.",
    "offsite": "A URL outside the configured hosts; never requested.",
    "invalid_id": "A list entry's id (thepaper `contId`) is not 1-12 digits; it never reaches a URL.",
    "api_error": "A JSON API answered with an error code (thepaper: `code` not 200 or `resultCode` "
    "not 1, e.g. `99998` when a request header is missing).",
    "not_article": "A page that should hold an article holds none: no `contentDetail`, "
    "`liveDetail` or `specialDetail` in its `__NEXT_DATA__` and no article markup (the homepage).",
    "live_page": "A thepaper live page (`liveDetail`) without the title, time or body an article needs.",
    "special_topic": "A thepaper special topic (`specialDetail`): a collection page, not an article; "
    "the articles it lists are followed and archived on their own.",
    "fetch_error": "Any other download failure; `detail` names it.",
    "too_deep": "A JSON response nested deeper than JSON_MAX_DEPTH levels; unusable as a whole.",
    "number_out_of_range": "A number the archive cannot hold: an integer with more digits than "
    "JSON_MAX_INT_DIGITS, or a time (epoch or date) outside any plausible range; `detail` names the field.",
    "undecodable": "A body that cannot be decoded as text in the encoding its HTTP header, BOM or "
    "markup declares (or UTF-8 when none does); `detail` names the encoding and the byte offset.",
    "invalid_text": "A text field holds characters no Parquet file can store (a lone UTF-16 "
    "surrogate such as `\\ud800`); `detail` names the field.",
    "unsafe_url": "A link whose scheme is not http or https (`javascript:`, `data:`, …); the link is "
    "not archived as a link, `detail` names the column.",
    "internal_error": "An exception escaped a parsing step or a pipeline for this one item or "
    "response; `detail` names it. Every other item of the run is archived.",
    "not_in_warc": "A reparse needed a response that the WARC files being replayed do not hold "
    "(the original run never fetched it); nothing is fetched instead.",
    "invalid": "The item failed validation after parsing; `detail` names the field.",
    "bad_post": "An imported file is not a post the importer can read: not UTF-8, no front "
    "matter, or the file could not be read.",
    "not_an_article": "An imported post is no news article: no infoCode in its links or file "
    "name (e.g. the site's own `init` post).",
}


def _schema(columns: tuple[Column, ...]) -> pa.Schema:
    meta = {b"newsarchive.schema_version": str(SCHEMA_VERSION).encode()}
    return pa.schema([c.field() for c in columns], metadata=meta)


ARTICLE_SCHEMA = _schema(ARTICLE_COLUMNS)
QUARANTINE_SCHEMA = _schema(QUARANTINE_COLUMNS)
ARTICLE_FIELDS = tuple(c.name for c in ARTICLE_COLUMNS)
QUARANTINE_FIELDS = tuple(c.name for c in QUARANTINE_COLUMNS)
RUN_SCHEMA = _schema(RUN_COLUMNS)
RUN_FIELDS = tuple(c.name for c in RUN_COLUMNS)
#: Columns that identify an article and its version; the archive index keeps only these.
INDEX_SCHEMA = pa.schema(
    [
        pa.field("source", SOURCE_TYPE, nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("content_sha256", pa.string()),
        pa.field("published_at", UTC_TS),
        # Since WARC capture: a reparse with newer parsers is a new version of a row. Index
        # parts written before have no such column (readers treat it as unknown).
        pa.field("pipeline_version", pa.string()),
    ]
)
INDEX_FIELDS = tuple(INDEX_SCHEMA.names)


#: What the quarantine already holds: fingerprints of bad records, so a later run (even on a
#: worker that starts empty) does not write the same bad record again.
QUARANTINE_INDEX_SCHEMA = pa.schema(
    [
        pa.field("source", SOURCE_TYPE, nullable=False),
        pa.field("fingerprint", pa.string(), nullable=False),
        pa.field("seen_at", UTC_TS),
    ]
)


def markdown() -> str:
    """Render both tables and the reason codes as the body of ``docs/schema.md``."""

    def table(cols: tuple[Column, ...]) -> str:
        rows = ["| column | type | null | since | meaning | example |", "|---|---|---|---|---|---|"]
        for c in cols:
            example = "" if c.example is None else f"`{c.example}`"
            null = "yes" if c.nullable else "no"
            rows.append(f"| `{c.name}` | `{c.type}` | {null} | v{c.since} | {c.doc} | {example} |")
        return "\n".join(rows)

    reasons = "\n".join(f"| `{k}` | {v} |" for k, v in QUARANTINE_REASONS.items())
    return (
        f"<!-- generated by `newsarchive schema --markdown`; schema version {SCHEMA_VERSION} -->\n"
        f"## `articles`\n\n{table(ARTICLE_COLUMNS)}\n\n"
        f"## `quarantine`\n\n{table(QUARANTINE_COLUMNS)}\n\n"
        f"## `runs`\n\n{table(RUN_COLUMNS)}\n\n"
        f"## Quarantine reasons\n\n| reason | meaning |\n|---|---|\n{reasons}\n"
    )
