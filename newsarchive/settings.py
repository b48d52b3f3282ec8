"""The one home of every newsarchive setting (and the Scrapy settings module).

Each name below can be overridden by an environment variable ``NEWSARCHIVE_<NAME>``
and, above that, by ``-s NAME=value`` on the ``scrapy``/``newsarchive crawl`` command
line. Live hosts are settings, never constants; the finews feeds have no default hosts (the
original script's are gone), the other sources default to the public sites.

This module must stay import-light (no Scrapy, no pyarrow): Airflow reads the
schedule from it when it parses DAG files.
"""

from newsarchive import __version__
from newsarchive.envvars import apply_env

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
#: ``scrapy crawl`` of this project: a spider refusing its settings stops it with one line.
COMMANDS_MODULE = "newsarchive.commands"

# --- Where the archive lives -------------------------------------------------------
#: Local directory (or file:// URI) the crawl writes its Parquet archive to.
ARCHIVE_URI = "./archive"
#: Rows per Parquet row group: bounds the memory a writer holds per open partition.
# --- the tables (Apache Iceberg) ----------------------------------------------------
#: Name of the Iceberg catalog, configured the way pyiceberg reads configuration
#: (``PYICEBERG_CATALOG__<NAME>__URI`` …, or ``.pyiceberg.yaml``). When pyiceberg has no
#: entry of that name, an embedded SQLite catalog lives in ARCHIVE_URI (``catalog.db``).
ICEBERG_CATALOG = "newsarchive"
#: Namespace of the tables ``articles``, ``quarantine`` and ``runs``.
ICEBERG_NAMESPACE = "newsarchive"
#: Airflow connection whose extras are pyiceberg catalog properties (they win over PYICEBERG_*).
ICEBERG_CONN_ID = "iceberg_default"
#: Commit attempts when other writers commit first (each reloads the table and re-checks duplicates).
ICEBERG_COMMIT_ATTEMPTS = 10
#: A run that committed rows but died before its ``runs`` row is recorded ``recovered`` by the
#: next run once its last commit is this many seconds old (a live run is between commits briefly).
ICEBERG_RECOVER_AFTER = 600.0
#: Where WARC files are uploaded (a plain bucket prefix, never a table bucket), e.g.
#: ``s3://news-raw/warc``; a WARC file ``warc/<rest>`` of ARCHIVE_URI goes to ``<WARC_URI>/<rest>``.
WARC_URI = ""
#: Where scheduled crawls' log files go (``<LOG_URI>/date=<day>/<run_id>.log``); empty: beside
#: the run's WARC files, under WARC_URI. The task log keeps a summary, warnings and errors.
LOG_URI = ""

PARQUET_ROW_GROUP_SIZE = 1000
#: A partition's file is closed and a new part started after this many rows.
PARQUET_MAX_ROWS_PER_FILE = 200_000
#: At most this many partitions have an open writer; the least recently used is
#: closed (its part published at the end of the run) when a new one is needed.
PARQUET_MAX_OPEN_PARTITIONS = 16
PARQUET_COMPRESSION = "zstd"
PARQUET_COMPRESSION_LEVEL = 3

# --- The finews spider (infoCode feeds) -----------------------------------------------
# No defaults: the hosts the original script used in 2021-2022 are gone (a crawl with them
# sent five requests to public addresses and failed with five 404s). finews is configured
# when both FINEWS_LIST_URLS and FINEWS_TEXT_URL are set (config.REQUIRED_SETTINGS);
# otherwise ``newsarchive crawl finews`` exits 2 and ``scrapy crawl finews`` stops, each with
# one line naming them, and the news_crawl DAG does not schedule it.
#: List endpoints; the family of each is recognised by its JSON (records/nodeList/record).
FINEWS_LIST_URLS: list[str] = []
#: Article text endpoint; ``{info_code}`` is replaced by a validated infoCode.
FINEWS_TEXT_URL = ""
#: The public share page stored in ``share_url`` (and linked by the Jekyll export); never
#: requested. Empty: no ``share_url``. The original site's posts link
#: ``http://finews.zning.xyz/html_News/NewsShare.html?infoCode={info_code}`` (docs/original.md).
FINEWS_SHARE_URL = ""
#: Refetch articles already in the archive (normally off: runs are incremental).
FINEWS_REFETCH = False

# --- The thepaper spider (thepaper.cn) --------------------------------------------------
#: The three hosts the spider talks to (and the only ones: they make its allowed_domains).
THEPAPER_API_BASE = "https://api.thepaper.cn"
THEPAPER_CACHE_BASE = "https://cache.thepaper.cn"
THEPAPER_WEB_BASE = "https://www.thepaper.cn"
#: Channel list on THEPAPER_API_BASE: POST, JSON body {channelId, pageNum, pageSize, ...}.
THEPAPER_CHANNEL_PATH = "/contentapi/nodeCont/getByChannelId"
#: Hot list ("right sidebar") on THEPAPER_CACHE_BASE: GET.
THEPAPER_HOT_PATH = "/contentapi/wwwIndex/rightSidebar"
#: Article page on THEPAPER_WEB_BASE; ``{cont_id}`` is replaced by a validated contId.
THEPAPER_ARTICLE_PATH = "/newsDetail_forward_{cont_id}"
#: Channels paged through: 25950 时事, 25951 财经, 25952 思想, 25953 生活, 122908 国际, 119908 科技.
#: Ids are kept as strings and may be negative (-21 体育, -24 评论, -8 上海; docs/thepaper.md).
THEPAPER_CHANNELS = ["25950", "25951", "25952", "25953", "122908", "119908"]
#: Pages per channel and run at most, and entries asked for per page.
THEPAPER_MAX_PAGES = 5
THEPAPER_PAGE_SIZE = 20
#: Publication bounds, Beijing time, ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM``; empty = none.
#: Lists come in the editors' order, so paging stops after a page whose newest entry is
#: older than THEPAPER_SINCE; entries outside the bounds are skipped (both inclusive:
#: UNTIL as a date means the end of that day).
THEPAPER_SINCE = ""
THEPAPER_UNTIL = ""
#: Read the hot list too, and which of its lists (keys under ``data``).
THEPAPER_HOT = True
THEPAPER_HOT_LISTS = ["hotNews", "morningEveningNews", "editorHandpicked", "financialInformationNews"]
#: Request headers the site's WAF insists on: without a Referer it answers 403, without a
#: JSON Content-Type the list API answers ``code 99998``. Empty = header not sent.
THEPAPER_REFERER = "https://www.thepaper.cn/"
THEPAPER_CONTENT_TYPE = "application/json"
#: Seconds between two requests to thepaper.cn (all three hosts share one slot): the
#: reported tolerance is one request every 3 s. 0 = Scrapy's own DOWNLOAD_DELAY.
THEPAPER_DOWNLOAD_DELAY = 3.0
#: Follow the articles a special topic lists (the topic page itself is quarantined).
THEPAPER_FOLLOW_TOPICS = True
#: Fetch articles already in the archive again (normally off: runs are incremental).
THEPAPER_REFETCH = False

# --- The eastmoney spider (East Money's public web APIs) ----------------------------------
#: The three hosts the spider talks to (and the only ones: they make its allowed_domains):
#: the column lists, the 7x24 fast news, the article pages.
EASTMONEY_LIST_BASE = "https://np-listapi.eastmoney.com"
EASTMONEY_FAST_BASE = "https://np-weblist.eastmoney.com"
EASTMONEY_WEB_BASE = "https://finance.eastmoney.com"
#: Column list on EASTMONEY_LIST_BASE (GET); the spider adds column, page_index,
#: page_size and req_trace to the fixed query below.
EASTMONEY_COLUMN_PATH = "/comm/web/getNewsByColumns"
EASTMONEY_COLUMN_QUERY = (
    "client=web&biz=web_news_col&order=1&needInteractData=0"
    "&fields=code,showTime,title,mediaName,summary,image,url,uniqueUrl,Np_dst"
)
#: 7x24 fast news on EASTMONEY_FAST_BASE (GET); the spider adds fastColumn, sortEnd,
#: pageSize and req_trace.
EASTMONEY_FAST_PATH = "/comm/web/getFastNewsList"
EASTMONEY_FAST_QUERY = "client=web&biz=web_724"
#: Article page on EASTMONEY_WEB_BASE; ``{code}`` is replaced by the validated code (the
#: infoCode without its ``NW``).
EASTMONEY_ARTICLE_PATH = "/a/{code}.html"
#: Column ids paged through (digits only): the ones public code names (docs/eastmoney.md,
#: "Columns"): 344 财经导读, 345 资讯精华, 350 国内经济/财经要闻, 372 产业透视, 1207 财经早餐.
#: 366 is called by public code but named nowhere, so it is not crawled by default.
EASTMONEY_COLUMNS = ["344", "345", "350", "372", "1207"]
#: Read the 7x24 fast news too, and which of its columns (102: 7x24 全球直播).
EASTMONEY_FAST = True
EASTMONEY_FAST_COLUMN = "102"
#: Media names to keep (list ``mediaName``, else the page's source); empty keeps all.
EASTMONEY_MEDIA: list[str] = []
#: Pages per list and run at most, and entries asked for per page.
EASTMONEY_MAX_PAGES = 3
EASTMONEY_PAGE_SIZE = 50
#: Publication bounds, Beijing time, ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM``; empty = none.
#: Paging stops at entries older than EASTMONEY_SINCE; newer than EASTMONEY_UNTIL are skipped.
EASTMONEY_SINCE = ""
EASTMONEY_UNTIL = ""
#: ``req_trace`` sent with every list request: the API wants one, any value does. A fixed
#: value keeps request URLs reproducible (reparse answers them from WARC files by URL).
EASTMONEY_REQ_TRACE = "newsarchive"
#: ``Referer`` sent with every request (public code reports the list APIs want the 7x24
#: page's); empty = not sent.
EASTMONEY_REFERER = "https://kuaixun.eastmoney.com/7_24.html"
#: Seconds between two requests to East Money (the three hosts share one slot). No
#: tolerance is published; one a second is a guess at polite. 0 = Scrapy's DOWNLOAD_DELAY.
EASTMONEY_DOWNLOAD_DELAY = 1.0
#: Fetch articles already in the archive again (normally off: runs are incremental).
EASTMONEY_REFETCH = False
#: Pages of one article at most (page 1 and its ``<code>_2.html``, ``_3.html``… continuations,
#: fetched in order into one row); continuation links past it are not followed.
EASTMONEY_MAX_ARTICLE_PAGES = 10

# --- Raw capture (WARC) --------------------------------------------------------------
#: Keep every request and response of a run in ``warc/date=<day>/<run_id>-<n>.warc.gz``
#: (docs/warc.md); every archived row points to the record it was parsed from.
WARC_ENABLED = True
#: A run's WARC file is closed and the next one started once it reaches this many bytes.
WARC_MAX_SIZE = 1024 * 1024 * 1024
#: gzip level of each record (1 fastest ... 9 smallest). Measured on 5,000 articles: level 1
#: writes files 1.5% bigger than 6 and lets the crawl run 5% faster (docs/benchmarks.md).
WARC_GZIP_LEVEL = 1
#: Write the run's WARC records, text columns and Parquet files in a writer process of its
#: own (another core), fed in batches; off: in the crawler's process. A crawl exporting a feed
#: (FEEDS, ``-o``) writes in-process whatever this says: its items must leave complete.
WRITER_PROCESS = True
#: Messages (responses, articles, quarantine rows) per batch sent to the writer process.
WRITER_BATCH_SIZE = 64
#: Batches queued for the writer at most: past that the crawl waits for it (bounded memory).
WRITER_QUEUE_BATCHES = 16
#: Seconds the end of a run waits for the writer to finish its files before failing the run.
WRITER_TIMEOUT = 600.0
#: Niceness added to the writer process: when the cores are busy the crawler goes first, and
#: the writer catches up while the crawler waits on the network (0: the same priority).
WRITER_NICENESS = 10
#: Set by ``newsarchive reparse``: answer every request from these WARC files, never from the
#: network (a request they do not hold is quarantined as ``not_in_warc``).
WARC_REPLAY_PATHS: list[str] = []
#: ``pipeline_version`` written in every row (and the manifest): the package version, unless
#: set, e.g. to tell rows of a reparse with patched parsers apart.
PIPELINE_VERSION = __version__

# --- The health report (``newsarchive report``, docs/analytics.md) ----------------------
#: Days each chart of the report spans, ending at the newest data (0: the whole archive).
REPORT_DAYS = 30
#: Write the report after every news_crawl run and upload it beside the data.
REPORT_ENABLED = True
#: Where news_crawl puts it: the full URI of the object (``s3://bucket/reports/newsarchive.html``)
#: or a local file; empty: ``<STAGING_DIR>/report.html``. The only object ever replaced.
REPORT_URI = ""
#: How old a source's newest article may grow before the report calls the source stale and
#: puts it first, in red: ``"<n>m"``, ``"<n>h"``, ``"<n>d"``, ``"<n>w"`` or ``"off"`` (never
#: stale), under ``"default"`` and per source name. The feeds publish around the clock and
#: news_crawl runs every 30 minutes, so six hours without an article is an outage; imported
#: Jekyll posts never grow. The environment gives the whole dict as JSON (docs/configuration.md).
REPORT_STALE_AFTER = {"default": "6h", "jekyll": "off"}

# --- Jekyll export and import ----------------------------------------------------------
#: Site base URL of the back-links in exported posts (``export-jekyll --base-url``).
JEKYLL_BASE_URL = "//finews.withounder.com"
#: File name endings ``import-jekyll`` reads as posts when it walks a folder.
JEKYLL_POST_SUFFIXES = [".md", ".markdown"]

# --- Limits ------------------------------------------------------------------------
#: Text requests scheduled per run at most; the rest wait for the next run (0 = no limit).
MAX_ARTICLES_PER_RUN = 20_000
#: Responses larger than this are refused (Scrapy cancels the download).
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
#: JSON nested deeper than this is refused as ``too_deep`` before it is parsed (Python's
#: parser would raise RecursionError near 1000 levels). Real answers nest under 20 levels
#: (the deepest sample, thepaper's ``__NEXT_DATA__``, has 9); a list that deep is unusable.
JSON_MAX_DEPTH = 512
#: A JSON integer with more digits than this is kept as a marker, not converted: the record
#: holding it is quarantined ``number_out_of_range`` and the rest of its list is read. The
#: longest number any source sends is an 18-20 digit id; Python refuses above 4300 digits.
JSON_MAX_INT_DIGITS = 100

# --- Provenance -------------------------------------------------------------------
#: Set by the Airflow DAG; stored in the ``dag_run_id`` column. Empty for hand runs.
DAG_RUN_ID = ""

# --- Scheduling and upload (read by the DAGs and ``newsarchive upload``) -----------------
#: Airflow connection holding the object-store credentials and endpoint.
AWS_CONN_ID = "aws_default"
#: Cron expression or preset for the news_crawl DAG.
SCHEDULE = "*/30 * * * *"
#: Spiders the news_crawl DAG runs, one mapped task each. ``eastmoney`` is where the
#: infoCode articles are published today. ``finews`` needs a server that speaks the original
#: feeds: add it here and set FINEWS_LIST_URLS and FINEWS_TEXT_URL; listed but not
#: configured, the DAG skips it (and logs why).
SPIDERS = ["eastmoney"]
#: Working directory of the crawls on a worker (their ARCHIVE_URI: WARC files, temporary
#: files): ``<STAGING_DIR>/<spider>`` with a shared catalog; STAGING_DIR itself, shared by
#: the spiders, when the tasks fall back to the embedded SQLite catalog (``catalog.db`` there).
STAGING_DIR = "/tmp/newsarchive-staging"  # noqa: S108
#: Delete a WARC file from staging once WARC_URI holds it (uploaded and verified).
STAGING_PRUNE = True
#: Parts larger than this are uploaded in several parts.
UPLOAD_MULTIPART_THRESHOLD = 64 * 1024 * 1024
UPLOAD_PART_SIZE = 16 * 1024 * 1024
#: botocore's retry mode for every object-store call (WARC upload, the report): ``standard``
#: (exponential backoff with jitter on throttling, 5xx and connection errors) or
#: ``adaptive`` (the same, plus client-side rate limiting when the server throttles). It is
#: the only retry layer: nothing of ours retries a request on top of it.
S3_RETRY_MODE = "standard"
#: Attempts per object-store request, the first included (botocore's ``total_max_attempts``): a
#: server answering 500 for good costs this many requests per object, then a clear error.
S3_MAX_ATTEMPTS = 5
AIRFLOW_RETRIES = 2
AIRFLOW_RETRY_DELAY_MINUTES = 5
AIRFLOW_OWNER = "newsarchive"
#: Schedule of the news_compact DAG: a cron expression or preset, or ``asset`` to run
#: whenever news_crawl updates the archive.
COMPACT_SCHEDULE = "@daily"

# --- maintenance of the tables (``newsarchive compact``, docs/maintenance.md) ---------
#: zstd level of the files compaction writes (a crawl writes level PARQUET_COMPRESSION_LEVEL:
#: it cannot afford 19, compaction can, and sorted text then compresses about as well as gzip).
COMPACT_ZSTD_LEVEL = 19
#: Data files at least this large are left alone; two or more smaller ones in a partition
#: are rewritten into one.
COMPACT_TARGET_FILE_BYTES = 128 * 1024 * 1024
#: Snapshots older than this are expired (the current one never is); time travel reaches back
#: this far, and the files only older snapshots referenced become orphans.
SNAPSHOT_MAX_AGE_HOURS = 168
#: Unreferenced files younger than this are kept: a running crawl writes its files before it
#: commits them. Longer than the longest crawl.
ORPHAN_MIN_AGE_HOURS = 24

# --- Scrapy defaults that hurt here -----------------------------------------------
#: Honest user agent: who we are and where to read about us.
USER_AGENT = f"newsarchive/{__version__} (+https://github.com/newsarchive/newsarchive; news archival crawler)"
ROBOTSTXT_OBEY = True
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
COOKIES_ENABLED = False
#: Items of one response processed at once. Scrapy starts this many asyncio tasks for
#: every response, whatever it yields; at its default (100) that was a third of the
#: crawl's CPU. The pipelines are synchronous, so more than one buys nothing.
CONCURRENT_ITEMS = 1
#: Scrapy re-reads and re-parses a generator callback's source on every response to warn
#: about ``return value`` in generators (its cache is keyed by short-lived bound methods):
#: 0.16 ms per response. The spiders' callbacks are covered by tests instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
LOG_LEVEL = "INFO"
FEED_EXPORTERS = {"parquet": "newsarchive.exporters.ParquetItemExporter"}

ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.normalise.NormalisePipeline": 200,
    "pipelines.dedupe.DedupePipeline": 300,
    "pipelines.articles.ArticleWriterPipeline": 800,
    "pipelines.quarantine.QuarantineWriterPipeline": 850,
}
DOWNLOADER_MIDDLEWARES = {
    # Every request, redirects and retries included, goes only to the configured hosts.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "newsarchive.middlewares.offsite.StrictOffsiteMiddleware": 50,
    # Next to the downloader: records each attempt as sent and received (raw capture) ...
    "newsarchive.warc.capture.WarcCapture": 950,
    # ... or, in a reparse, answers it from the recorded responses instead.
    "newsarchive.warc.replay.WarcReplay": 960,
}
SPIDER_MIDDLEWARES = {
    "newsarchive.warc.evidence.WarcEvidence": 950,
    # Next to the spider: an exception escaping a callback becomes one internal_error
    # quarantine row (and, for a list, the rest of the run goes on); its output is stamped above.
    "newsarchive.middlewares.contain.ContainCallbackErrors": 990,
}
#: A live progress line on stderr (requests, articles, quarantined) while a crawl runs, shown
#: only when stderr is a terminal. Off for ``scrapy crawl`` and the scheduler; the
#: ``newsarchive`` command turns it on (its ``crawl``, ``import-jekyll``, ``reparse``).
PROGRESS_ENABLED = False

EXTENSIONS = {
    # First, so that its spider_closed handler says "committing" before ArchiveRun commits.
    "newsarchive.extensions.progress.CrawlProgress": 50,
    # The run: opens the catalog, answers "is this archived?", commits the tables at the end.
    "newsarchive.extensions.archiverun.ArchiveRun": 100,
    # The run's writer (WARC records, text, Parquet), in its own process: after ArchiveRun, so
    # that it opens the tables first and outlives the commits.
    "newsarchive.writer.client.WriterClient": 120,
    # Which WARC record each response is (filled by capture or replay, read by WarcEvidence).
    "newsarchive.warc.evidence.Evidence": 150,
    "newsarchive.extensions.requeststats.RequestKindStats": 500,
    # Scrapy's feed exporter, counting only the items a feed's format holds (exporters.py).
    "scrapy.extensions.feedexport.FeedExporter": None,
    "newsarchive.exporters.FeedExporter": 0,
}

# Declared defaults, before the environment is applied (read by ``config.setting``).
_defaults = {k: v for k, v in dict(globals()).items() if k.isupper()}
apply_env(globals())
