"""Security: secrets never reach a log (or the tables, their metadata, the catalog, WARC),
requests go only to configured hosts.

Sanitising exported HTML against XSS payloads is proven in test_jekyll_build.py and
test_jekyll_safety.py; limits on response size and items per run in test_faults_feeds.py
and test_settings.py (docs/reliability.md lists them all).
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from newsarchive.redaction import RedactingFilter, redact, redact_value, secrets_from_env
from newsarchive.samples.feedserver import Received, Reply
from tests.helpers import FAST, run_crawl

FAKE_SECRET = "fake-secret-Zq81xvPw"
FAKE_TOKEN = "fake-token-Hh2k9La0"
FAKE_PASSWORD = "fake-pass-Qp7mT3s"
#: Scrapy's own basic auth (``HTTPAUTH_USER``/``HTTPAUTH_PASS``): works, and is never stored.
HTTP_USER, HTTP_PASSWORD = "feeder", "fake-httpauth-Vr4nW8"


def everything_written(*roots: Path) -> str:
    """Every byte under the given directories, as text (Parquet included, raw)."""
    out = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                out.append(path.read_bytes().decode("latin-1"))
    return "\n".join(out)


def warc_text(data: bytes) -> str:
    """Every record of a WARC file, decompressed: WARC headers, HTTP headers, payload."""
    from warcio.archiveiterator import ArchiveIterator

    out = []
    for record in ArchiveIterator(io.BytesIO(data)):
        out.append(record.rec_headers.to_str())
        if record.http_headers is not None:
            out.append(record.http_headers.to_str())
        out.append(record.content_stream().read().decode("utf-8", "replace"))
    return "\n".join(out)


def avro_text(path: Path) -> str:
    """Every record of an Avro file (an Iceberg manifest or manifest list, deflate-compressed),
    column bounds included, as text."""
    from collections.abc import Mapping

    from pyiceberg.avro.file import AvroFile
    from pyiceberg.io.pyarrow import PyArrowFileIO
    from pyiceberg.typedef import Record

    def plain(value: Any) -> Any:
        if isinstance(value, Record):
            return [plain(value[i]) for i in range(len(value))]
        if isinstance(value, Mapping) or hasattr(value, "items"):
            return {str(k): plain(v) for k, v in dict(value).items()}
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    with AvroFile(PyArrowFileIO().new_input(str(path))) as f:  # type: ignore[var-annotated]
        records = [plain(r) for r in f]
    return json.dumps(records, ensure_ascii=False, default=str)


def file_text(name: str, data: bytes) -> str:
    """A file's content as a reader sees it: a WARC file record by record (and its raw
    gunzipped bytes), a Parquet file's every column as text, an Avro file (Iceberg metadata)
    record by record, gzip decompressed, raw bytes."""
    import pyarrow.parquet as pq

    if name.endswith(".parquet") or data[:4] == b"PAR1":
        rows = pq.read_table(io.BytesIO(data)).to_pylist()
        return json.dumps(rows, ensure_ascii=False, default=str) + data.decode("latin-1")
    if data[:2] == b"\x1f\x8b":
        plain = gzip.decompress(data)
        text = plain.decode("utf-8", "replace")
        return warc_text(data) + text if ".warc" in name else text
    return data.decode("utf-8", "replace")


def every_file(root: Path) -> dict[str, str]:
    """Every file under ``root`` (hidden ones included), as text: WARC, the tables' data and
    metadata (``warehouse/**``: Parquet, Avro manifests, ``*.metadata.json``), ``catalog.db``."""
    out = {}
    for p in root.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            text = avro_text(p) + data.decode("latin-1") if data[:4] == b"Obj\x01" else file_text(p.name, data)
            out[str(p)] = text
    return out


def every_object(store: Any) -> dict[str, str]:
    """Every object under a bucket prefix, fetched and read like a file."""
    return {o.key: file_text(o.key, store.get_bytes(o.key)) for o in store.objects("")}


def test_redaction_masks_known_secrets_and_url_credentials():
    secrets = secrets_from_env(
        {"AWS_SECRET_ACCESS_KEY": FAKE_SECRET, "NEWSARCHIVE_API_TOKEN": FAKE_TOKEN, "HOME": "/root", "DB_PASSWORD": "1"}
    )
    assert secrets == {FAKE_SECRET, FAKE_TOKEN}  # too-short values are not masked
    assert redact(f"key={FAKE_SECRET} url=http://bob:{FAKE_PASSWORD}@h/x", secrets) == "key=*** url=http://***@h/x"
    record = logging.LogRecord("x", logging.ERROR, "f", 1, "got %s from %s", (FAKE_TOKEN, "http://a:b-c-d@h/"), None)
    RedactingFilter(secrets).filter(record)
    assert record.getMessage() == "got *** from http://***@h/"


def test_settings_secrets_and_url_userinfo():
    """Secret-named settings (Scrapy's ``HTTPAUTH_PASS`` too) and URL userinfo, tokens
    without a password included, are secrets; a ``@`` after the path is not userinfo."""
    from newsarchive.redaction import is_secret_name, redact_value, setting_secrets

    assert is_secret_name("HTTPAUTH_PASS") and not is_secret_name("BYPASS_CACHE")
    found = setting_secrets(
        {
            "HTTPAUTH_PASS": HTTP_PASSWORD,
            "FINEWS_LIST_URLS": [f"http://reader:{FAKE_PASSWORD}@h/l", "http://h/l?x=a@b"],
            "FINEWS_TEXT_URL": f"https://{FAKE_TOKEN}@h/t?id={{info_code}}",
            "HTTPAUTH_USER": "feeder-name",
        }
    )
    assert found == {HTTP_PASSWORD, FAKE_PASSWORD, FAKE_TOKEN}
    assert redact_value("http://h/p?next=a@b") == "http://h/p?next=a@b"
    assert redact(f"see https://{FAKE_TOKEN}@h/x", set()) == "see https://***@h/x"


def test_warc_request_records_carry_no_credential():
    """What the capture records of a request: URL userinfo and the run's secrets masked,
    credential headers kept by name with their value masked."""
    from scrapy import Request

    from newsarchive.warc.capture import http_request

    request = Request(
        f"http://reader:{FAKE_PASSWORD}@127.0.0.1:1/l?token={FAKE_TOKEN}",
        headers={"Authorization": "Basic ZmVlZGVyOnNlY3JldA==", "Cookie": "s=1", "Accept": "x"},
    )
    recorded = http_request(request, secrets=frozenset({FAKE_TOKEN}))
    assert recorded.url == "http://***@127.0.0.1:1/l?token=***"
    assert dict(recorded.headers) == {"Authorization": "***", "Cookie": "***", "Accept": "x"}


def record(code: str, title: str) -> dict[str, str]:
    return {"infoCode": code, "medianame": "澎湃新闻", "datetime": "2022-01-12 15:51:41", "title": title}


NEEDLES = (FAKE_PASSWORD, f"reader:{FAKE_PASSWORD}@", HTTP_PASSWORD, FAKE_SECRET, FAKE_TOKEN)


@pytest.fixture
def secret_run(tmp_path, feed_server) -> tuple[Path, Any, tuple[str, ...]]:
    """A crawl given a password in a list URL and in the share URL template, Scrapy's basic
    auth and secret environment variables. Returns its archive, result and the needles."""
    ok, failing, protected = "NW202201122245299970", "NW202201122245299971", "NW202201122245299972"
    feed_server.add("/l?marketType=37", json.dumps({"record": [record(ok, "标题"), record(failing, "失败")]}).encode())
    feed_server.add(f"/t?id={ok}", json.dumps({"text": "<p>正文</p>"}).encode())
    feed_server.add(f"/t?id={protected}", json.dumps({"text": "<p>要密码</p>"}).encode())
    feed_server.add(f"/t?id={failing}", Reply(status=500))
    expected = "Basic " + base64.b64encode(f"{HTTP_USER}:{HTTP_PASSWORD}".encode()).decode()

    def members_only(received: Received) -> Reply:
        if received.header("Authorization") != expected:
            return Reply(status=401, body=b'{"error": "who are you"}')
        return Reply(body=json.dumps({"record": [record(protected, "会员")]}, ensure_ascii=False).encode())

    feed_server.add_request_handler("/members", members_only)
    # a list URL carrying credentials: Scrapy 2.19 cannot use them (Twisted: "invalid
    # hostname"), so that list fails, loudly; the password must not be stored on the way
    userinfo = f"reader:{FAKE_PASSWORD}@"
    with_password = feed_server.url("/l2?marketType=38").replace("http://", f"http://{userinfo}")
    share = feed_server.url("/share?infoCode={info_code}").replace("http://", f"http://{userinfo}")
    env = {"AWS_SECRET_ACCESS_KEY": FAKE_SECRET, "NEWSARCHIVE_API_TOKEN": FAKE_TOKEN}
    from tests.helpers import clean_env

    archive = tmp_path / "a"
    lists = [feed_server.url("/l?marketType=37"), with_password, feed_server.url("/members?marketType=39")]
    result = run_crawl(
        "finews",
        {
            **FAST,
            "LOG_LEVEL": "DEBUG",
            "ARCHIVE_URI": archive,
            "FINEWS_LIST_URLS": ",".join(lists),
            "FINEWS_TEXT_URL": feed_server.url("/t?id={info_code}"),
            "FINEWS_SHARE_URL": share,
            "HTTPAUTH_USER": HTTP_USER,
            "HTTPAUTH_PASS": HTTP_PASSWORD,
            "HTTPAUTH_DOMAIN": f"127.0.0.1:{feed_server.port}",  # Scrapy compares the netloc
        },
        env=clean_env(**env),
    )
    assert result.returncode == 1 and result.summary["status"] == "partial", result.stderr[-3000:]
    return archive, result, (*NEEDLES, expected.split()[1])


def leaks(texts: dict[str, str], needles: tuple[str, ...]) -> list[tuple[str, str]]:
    return sorted({(needle, where) for where, text in texts.items() for needle in needles if needle in text})


def test_no_secret_leaves_a_run(secret_run):
    """None of the secrets is in any WARC record (decompressed), any file of the tables (data
    read column by column, Avro manifests record by record, metadata JSON), the SQLite
    catalog, the runs row, or the process output; the basic-auth feed is read all the same."""
    archive, result, needles = secret_run
    run = result.run
    assert run["status"] == "partial"
    # the open list's article and the members' one: Scrapy's basic auth works
    assert run["articles_written"] == 2, result.stderr[-6000:]
    logs = result.stdout + result.stderr
    assert "***@127.0.0.1" in logs  # the failing URL was logged, masked
    written = every_file(archive)
    warcs = {k: v for k, v in written.items() if ".warc" in k}
    metadata = [k for k in written if "/metadata/" in k]
    assert warcs and (archive / "catalog.db").is_file(), sorted(written)
    assert any(k.endswith(".avro") for k in metadata) and any(k.endswith(".metadata.json") for k in metadata)
    assert any("***@127.0.0.1" in p for p in run["problems"])  # the failing list, masked
    texts = {
        "process output": logs,
        "runs row": json.dumps(run, ensure_ascii=False, default=str),
        **{f"file {k}": v for k, v in written.items()},
    }
    assert not leaks(texts, needles)
    # what the WARC holds instead: the requests, masked; the basic-auth header by name only
    records = "\n".join(warcs.values())
    assert "WARC-Target-URI: http://***@127.0.0.1" in records
    assert "Authorization: ***" in records and "/members?marketType=39" in records


def test_e2e_no_secret_in_the_report_or_the_upload(secret_run, seaweed, bucket_uri):
    """The health report of that archive and the WARC files uploaded to the bucket (every
    object fetched and read) hold no secret either."""
    from newsarchive.storage.store import S3Store
    from tests.helpers import run_cli, s3_env

    archive, _, needles = secret_run
    report = archive.parent / "report.html"
    made = run_cli("report", "--archive", str(archive), "--out", str(report))
    assert made.returncode == 0, made.stderr[-2000:]
    # the upload's own credentials are the server's; the secret env values ride along
    upload = run_cli("upload", "--archive", str(archive), "--to", bucket_uri, env=s3_env(seaweed))
    assert upload.returncode == 0, upload.stderr[-2000:]
    uploaded = every_object(S3Store(bucket_uri, seaweed.config))
    assert uploaded
    texts = {
        "process output": made.stdout + made.stderr + upload.stdout + upload.stderr,
        "report": report.read_text(encoding="utf-8"),
        **{f"object {k}": v for k, v in uploaded.items()},
    }
    assert not leaks(texts, needles)


@pytest.mark.usefixtures("airflow_db")
def test_e2e_the_dag_never_logs_the_connection_secret(monkeypatch, capfd, seaweed, sample_settings, tmp_path):
    """Fake credentials in the Airflow connection: the upload fails with a clear error, and the
    secret appears in no output, log file, staging file or bucket object."""
    cfg = seaweed.config
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "AKIAFAKEFAKEFAKE",
                "password": FAKE_SECRET,
                "extra": {"endpoint_url": cfg.endpoint_url, "region_name": "us-east-1"},
            }
        ),
    )
    for name, value in {
        **FAST,
        **sample_settings,
        "UPLOAD_URI": f"s3://{seaweed.bucket}/security",  # until the WARC-only upload lands
        "WARC_URI": f"s3://{seaweed.bucket}/security/warc",
        "STAGING_DIR": str(tmp_path / "staging"),
        "SPIDERS": "finews",
        "AIRFLOW_RETRIES": "0",
        "AIRFLOW_RETRY_DELAY_MINUTES": "0",
    }.items():
        monkeypatch.setenv(f"NEWSARCHIVE_{name}", str(value))
    from airflow.dag_processing.dagbag import DagBag

    from tests.helpers import ROOT

    run = DagBag(dag_folder=str(ROOT / "dags")).get_dag("news_crawl").test()
    assert run.state == "failed"  # wrong credentials: refused by the server
    out, err = capfd.readouterr()
    assert "InvalidAccessKeyId" in out + err
    import os

    logs = (
        everything_written(Path(os.environ["AIRFLOW_HOME"]) / "logs")
        if (Path(os.environ["AIRFLOW_HOME"]) / "logs").exists()
        else ""
    )
    for text in (out, err, logs, everything_written(tmp_path / "staging")):
        assert FAKE_SECRET not in text


@pytest.mark.parametrize(
    ("value", "scheme"),
    [
        ("http://h/a", "http"),
        ("HTTPS://h/a", "https"),
        ("javascript:alert(1)", "javascript"),
        ("JaVaScRiPt:alert(1)", "javascript"),
        (" jav\tascript:alert(1)", "javascript"),  # browsers drop tabs and newlines anywhere
        ("\x01\x1f javascript:alert(1)", "javascript"),  # and C0 controls and spaces at the ends
        ("java\nscript:alert(1)", "javascript"),
        ("data:text/html,<script>alert(1)</script>", "data"),
        ("vbscript:x", "vbscript"),
        ("/relative/path", None),
        ("runs/x.json", None),
    ],
)
def test_links_are_read_as_a_browser_reads_them(value, scheme):
    from newsarchive import links

    assert links.scheme(value) == scheme
    assert (links.link_url(value) is not None) == (scheme in {"http", "https"})


def test_unsafe_links_are_dropped_by_column():
    """The ingest rule: a URL column keeps only http(s) (``source_url``/``list_url`` also the
    importer's ``file:``), credentials masked; what was dropped is returned to be quarantined."""
    from newsarchive.schema import ARTICLE_COLUMNS
    from pipelines.normalise import URL_COLUMNS, unsafe_links

    # every URL column of the schema is covered by the rule
    assert {c.name for c in ARTICLE_COLUMNS if c.name.endswith(("_url", "_urls"))} == set(URL_COLUMNS)
    item = {
        "article_url": " jav\tascript:alert(1)",
        "share_url": "HTTPS://h/share",
        "image_urls": ["http://h/1.png", "data:image/png;base64,AAAA", "https://h/2.png"],
        "source_url": "file:///posts/a.md",
        "list_url": f"http://reader:{FAKE_PASSWORD}@h/l",
    }
    removed = unsafe_links(item, redact_value)
    assert removed == [("article_url", " jav\tascript:alert(1)"), ("image_urls", "data:image/png;base64,AAAA")]
    assert item == {
        "article_url": None,
        "share_url": "HTTPS://h/share",
        "image_urls": ["http://h/1.png", "https://h/2.png"],
        "source_url": "file:///posts/a.md",
        "list_url": "http://***@h/l",
    }
    assert unsafe_links({"article_url": "file:///etc/passwd"}) == [("article_url", "file:///etc/passwd")]
    assert unsafe_links({"article_url": "", "share_url": None}) == []


def test_one_module_masks_names_urls_and_log_text():
    """redaction.py is the one masker: a secret name, a URL's userinfo, a secret's value in text."""
    from newsarchive import redaction

    assert redaction.is_secret_name("HTTPAUTH_PASS") and not redaction.is_secret_name("PASSAGE")
    assert redaction.redacted({"API_TOKEN": "t", "U": "http://u:pw@h/?a=b@c"}) == {
        "API_TOKEN": "***",
        "U": "http://***@h/?a=b@c",
    }
    assert redaction.url_passwords(["https://user:hunter22@h/x", "http://h/?a=b@c"]) == {"hunter22"}
    assert redaction.redact("login hunter22 at ftp://u:hunter22@h", {"hunter22"}) == "login *** at ftp://***@h"
