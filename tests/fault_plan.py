"""The feed-fault plan: one site serving good articles among every fault a source throws.

Each fault is declared once with where it is injected and the quarantine reason that must
name it; the test crawls the site and checks that every good article is archived exactly
once, every fault is quarantined with its reason, and nothing is lost.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from newsarchive.samples.feedserver import FeedServer, Reply

BIG = 64 * 1024  # bodies above the test's DOWNLOAD_MAXSIZE
MAXSIZE = 32 * 1024
WARNSIZE = 16 * 1024
DEEP = 10_000  # levels of nesting of the poison JSON (Python's parser gives up near 1000); 20 KB, under the cap
HUGE_INT = "9" * 5000  # digits: above Python's 4300-digit int limit, let alone JSON_MAX_INT_DIGITS
BOMB = 1024 * 1024  # bytes a compression bomb expands to (from about 1 KiB on the wire)
TIMEOUT = 1  # DOWNLOAD_TIMEOUT in the test; slow replies take longer
ARTICLE = '<p>　　{title}正文第一段&lt;条例&gt;。</p><p>第二段。</p><p class="em_media">（文章来源：澎湃新闻）</p>'


def code(n: int) -> str:
    return f"NW20220112{n:010d}"


def record(n: int, title: str, **extra: Any) -> dict[str, Any]:
    return {"infoCode": code(n), "medianame": "澎湃新闻", "datetime": "2022-01-12 10:00:00", "title": title, **extra}


def text_ok(title: str, encoding: str = "utf-8") -> bytes:
    return json.dumps({"text": ARTICLE.format(title=title)}, ensure_ascii=False).encode(encoding)


def deep_json(key: str) -> bytes:
    return ('{"' + key + '": ' + "[" * DEEP + "]" * DEEP + "}").encode()


def with_raw_numbers(body: dict[str, Any], numbers: dict[str, str]) -> bytes:
    """JSON with numbers ``json.dumps`` cannot write (``"@name@"`` placeholders replaced by
    raw number text: thousands of digits, ``Infinity``)."""
    text = json.dumps(body, ensure_ascii=False)
    for name, raw in numbers.items():
        text = text.replace(f'"@{name}@"', raw)
    return text.encode()


def bomb(encoding: str) -> Reply:
    """A compression bomb: about 1 KiB on the wire, 1 MiB of zeros once decoded."""
    packed = gzip.compress(b"0" * BOMB) if encoding == "gzip" else zlib.compress(b"0" * BOMB)
    return Reply(body=packed, headers={"Content-Encoding": encoding})


@dataclass
class Fault:
    name: str
    where: str  # "list" or "text" or "record"
    reason: str | None  # quarantine reason that must name it; None: absorbed (archived)
    behaviour: str


@dataclass
class FaultSite:
    server: FeedServer
    lists: list[str] = field(default_factory=list)
    good: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    #: quarantine rows expected: (stage, reason, info_code_raw or list path)
    expected: list[tuple[str, str, str]] = field(default_factory=list)
    #: words the quarantine detail of a fault must hold, by its key in ``expected``
    details: dict[str, str] = field(default_factory=dict)
    trap_path: str = "/trap"

    def add_list(self, path: str, reply: Reply | list[Reply] | bytes) -> None:
        self.server.add(path, reply)
        self.lists.append(self.server.url(path))

    def settings(self) -> dict[str, str]:
        return {
            "FINEWS_LIST_URLS": ",".join(self.lists),
            "FINEWS_TEXT_URL": self.server.url("/text?id={info_code}"),
            "DOWNLOAD_MAXSIZE": str(MAXSIZE),
            "DOWNLOAD_WARNSIZE": str(WARNSIZE),
            "DOWNLOAD_TIMEOUT": str(TIMEOUT),
            "RETRY_TIMES": "2",
            "AUTOTHROTTLE_ENABLED": "False",
        }


def build(server: FeedServer) -> FaultSite:
    site = FaultSite(server)
    trap = f"http://localhost:{server.port}{site.trap_path}"
    fault = site.faults.append

    def expect(stage: str, reason: str, key: str) -> None:
        site.expected.append((stage, reason, key))

    # --- list 1 (market-37): good articles, and bad records among them -----------------
    records: list[Any] = []
    for n in range(1, 7):
        records.append(record(n, f"好文章{n}", url_w=f"{trap}?n={n}"))
        site.good.add(code(n))
        server.add(f"/text?id={code(n)}", text_ok(f"好文章{n}"))
    records.append(record(1, "好文章1"))  # duplicated within the feed
    fault(Fault("duplicate record in one feed", "record", None, "merged: one text request, one row"))
    for raw, label in (
        ("../../etc/passwd", "path traversal"),
        ("NW202201120000000001' OR '1'='1", "SQL injection"),
        ("NW202201120000000001/../../x", "traversal after a valid prefix"),
        ("NW20220112000000000<script>", "markup"),
        ("nw202201120000000007", "lower case"),
    ):
        records.append({"infoCode": raw, "medianame": "澎湃新闻", "datetime": "2022-01-12 10:00:00", "title": label})
        fault(Fault(f"infoCode: {label}", "record", "invalid_info_code", "quarantined; never in a URL or file name"))
        expect("list", "invalid_info_code", raw)
    records.append(record(50, "没有时间", datetime=""))
    fault(Fault("missing publication time", "record", "missing_time", "quarantined before any request"))
    expect("list", "missing_time", code(50))
    records.append(record(51, "时间不对", datetime="2022-13-45 99:99:99"))
    fault(Fault("malformed publication time", "record", "missing_time", "quarantined before any request"))
    expect("list", "missing_time", code(51))
    records.append("not an object")
    fault(Fault("list entry that is not an object", "record", "bad_record", "quarantined"))
    expect("list", "bad_record", "")
    # text faults, on records of list 1 --------------------------------------------------
    text_faults: list[tuple[int, str, Reply | list[Reply], str | None, str]] = [
        (
            20,
            "5xx burst then recovery",
            [Reply(status=503), Reply(status=502), Reply(body=text_ok("恢复"))],
            None,
            "retried, then archived",
        ),
        (21, "HTTP 500 every time", Reply(status=500, body=b"oops"), "http_error", "retried, then quarantined"),
        (22, "HTTP 404", Reply(status=404, body=b"{}"), "http_error", "quarantined, not retried"),
        (23, "invalid JSON", Reply(body=b"{text: <p>"), "bad_json", "quarantined"),
        (24, "JSON without text or content", Reply(body=b'{"text": null}'), "empty_text", "quarantined"),
        (
            25,
            "HTML error page with status 200",
            Reply(body=b"<html><body>Service busy</body></html>", content_type="text/html"),
            "bad_json",
            "quarantined",
        ),
        (26, "timeout", Reply(body=text_ok("慢"), delay=TIMEOUT + 1.5), "timeout", "retried, then quarantined"),
        (27, "connection reset", Reply(action="reset"), "connection_error", "retried, then quarantined"),
        (
            28,
            "body cut short (Content-Length not reached)",
            Reply(body=text_ok("截断"), action="truncate"),
            "truncated",
            "retried, then quarantined",
        ),
        (
            29,
            "body over the size cap",
            Reply(body=json.dumps({"text": "x" * BIG}).encode()),
            "too_large",
            "download refused, quarantined",
        ),
        (
            30,
            "redirect to another host",
            Reply(status=302, headers={"Location": trap}),
            "offsite",
            "redirect refused; the other host never contacted",
        ),
        (
            31,
            "binary body, wrong content type",
            Reply(body=b"\x89PNG\r\n\x1a\n\x00", content_type="image/png"),
            "undecodable",
            "quarantined: not UTF-8 (detail: encoding, byte offset)",
        ),
        (
            32,
            "JSON served as text/html",
            Reply(body=text_ok("类型不对"), content_type="text/html"),
            None,
            "archived: the body is what counts",
        ),
        (33, "empty body", Reply(body=b""), "bad_json", "quarantined"),
        (34, "truncated JSON (complete HTTP)", Reply(body=b'{"text": "<p>cut'), "bad_json", "quarantined"),
        (35, "JSON nested too deep", Reply(body=deep_json("text")), "too_deep", "quarantined; the run stays complete"),
        (
            36,
            "GBK with its charset",
            Reply(body=text_ok("国标码", "gbk"), content_type="application/json; charset=GBK"),
            None,
            "archived: decoded as declared",
        ),
        (
            37,
            "GB18030 with its charset",
            Reply(body=text_ok("𠀀字", "gb18030"), content_type="application/json; charset=GB18030"),
            None,
            "archived: decoded as declared",
        ),
        (
            38,
            "bytes invalid in the declared charset",
            Reply(body=b'{"text": "<p>\xe6\xad\xa3\xff</p>"}', content_type="application/json; charset=utf-8"),
            "undecodable",
            "quarantined, naming the encoding and the byte offset",
        ),
        (39, "gzip bomb (1 KiB expanding to 1 MiB)", bomb("gzip"), "too_large", "decompression stopped, quarantined"),
        (
            40,
            "deflate bomb (1 KiB expanding to 1 MiB)",
            bomb("deflate"),
            "too_large",
            "decompression stopped, quarantined",
        ),
        (
            41,
            "chunked body cut short (no last chunk)",
            Reply(body=text_ok("分块"), action="chunked_cut"),
            "truncated",
            "retried, then quarantined",
        ),
        (
            42,
            "gzip body over the warning size, under the cap",
            Reply(
                body=gzip.compress(text_ok("长文" + "长" * (WARNSIZE // 3))),
                headers={"Content-Encoding": "gzip"},
            ),
            None,
            "archived; a warning is logged",
        ),
    ]
    site.details.update(
        {
            code(31): "not valid utf-8 (default) at byte 0",
            code(35): "JSON nested 10001 levels deep (JSON_MAX_DEPTH is 512)",
            code(38): "not valid utf-8 (Content-Type charset) at byte 16",
            code(39): "exceeded DOWNLOAD_MAXSIZE (32768 B) during decompression",
            code(40): "exceeded DOWNLOAD_MAXSIZE (32768 B) during decompression",
            code(41): "chunked transfer ended before its last chunk",
            "/deep": "JSON nested 10001 levels deep",
            "/badbytes": "not valid gb18030 (Content-Type charset) at byte 23",
            "/gzipbomb": "during decompression",
            "/deflatebomb": "during decompression",
            "/chunkcut": "chunked transfer ended before its last chunk",
        }
    )
    for n, name, reply, reason, behaviour in text_faults:
        records.append(record(n, name))
        server.add(f"/text?id={code(n)}", reply)
        fault(Fault(f"text: {name}", "text", reason, behaviour))
        if reason is None:
            site.good.add(code(n))
        else:
            expect("text", reason, code(n))
    site.add_list("/list?marketType=37", json.dumps({"record": records}, ensure_ascii=False).encode())

    # --- a poison list (market-41): good articles beside records holding poison numbers -
    poison: list[Any] = []
    for n in (10, 11):
        poison.append(record(n, f"好文章{n}"))
        site.good.add(code(n))
        server.add(f"/text?id={code(n)}", text_ok(f"好文章{n}"))
    # poison numbers: only their record is quarantined, the rest of the list is read
    poison.append(record(52, "巨大的整数", views="@huge@"))
    fault(
        Fault(
            "integer with thousands of digits",
            "record",
            "number_out_of_range",
            "only its record quarantined, naming the field; the list's other records archived",
        )
    )
    expect("list", "number_out_of_range", code(52))
    site.details[code(52)] = "`views` (5000-digit integer"
    poison.append(record(53, "巨大的时间", datetime="@huge_epoch@"))
    fault(
        Fault("epoch time with hundreds of digits", "record", "number_out_of_range", "quarantined before any request")
    )
    expect("list", "number_out_of_range", code(53))
    site.details[code(53)] = "`datetime` (401-digit integer"
    poison.append(record(54, "九万年", datetime=3_155_760_000_000_000))
    fault(Fault("epoch time in the year 99999", "record", "number_out_of_range", "quarantined before any request"))
    expect("list", "number_out_of_range", code(54))
    site.details[code(54)] = "3155760000000000 is no plausible epoch time"
    poison.append(record(55, "无穷", datetime="@infinity@"))
    fault(Fault("epoch time Infinity", "record", "number_out_of_range", "quarantined before any request"))
    expect("list", "number_out_of_range", code(55))
    site.details[code(55)] = "`datetime` (Infinity)"
    numbers = {"huge": HUGE_INT, "huge_epoch": "1" + "0" * 400, "infinity": "Infinity"}
    site.add_list("/poison?marketType=41", with_raw_numbers({"record": poison}, numbers))

    # --- list 2 (media): a duplicate across feeds, and one more good article -----------
    site.add_list(
        "/media?type=45",
        json.dumps(
            {
                "nodeList": [
                    {"infocode": code(1), "from": "澎湃新闻", "showtime": "2022-01-12 10:00:00", "title": "好文章1"},
                    {"infocode": code(7), "from": "财联社", "showtime": "2022-01-12 11:00:00", "title": "好文章7"},
                ]
            },
            ensure_ascii=False,
        ).encode(),
    )
    site.good.add(code(7))
    server.add(f"/text?id={code(7)}", text_ok("好文章7"))
    fault(Fault("duplicate record across feeds", "record", None, "merged: one text request, one row"))

    # --- faulty lists ------------------------------------------------------------------
    site.add_list(
        "/burst?marketType=38",
        [Reply(status=503), Reply(status=500), Reply(body=json.dumps({"record": [record(8, "好文章8")]}).encode())],
    )
    site.good.add(code(8))
    server.add(f"/text?id={code(8)}", text_ok("好文章8"))
    fault(Fault("list: 5xx burst then recovery", "list", None, "retried, then read"))
    site.add_list(
        "/gbk?marketType=40",
        Reply(
            body=json.dumps({"record": [record(9, "国标码列表")]}, ensure_ascii=False).encode("gbk"),
            content_type="application/json; charset=GBK",
        ),
    )
    site.good.add(code(9))
    server.add(f"/text?id={code(9)}", text_ok("国标码列表"))
    fault(Fault("list: GBK with its charset", "list", None, "read as declared; its articles archived"))
    list_faults: list[tuple[str, str, Reply, str]] = [
        ("/down?marketType=39", "a feed down for the whole run", Reply(status=503, body=b"down"), "http_error"),
        (
            "/html",
            "list: HTML error page with status 200",
            Reply(body=b"<!DOCTYPE html><p>502</p>", content_type="text/html"),
            "bad_json",
        ),
        ("/empty", "list: empty body", Reply(body=b""), "bad_json"),
        ("/truncjson", "list: truncated JSON", Reply(body=b'{"record": [{"infoCode": "NW2022'), "bad_json"),
        ("/slow", "list: timeout", Reply(body=b'{"record": []}', delay=TIMEOUT + 1.5), "timeout"),
        ("/reset", "list: connection reset", Reply(action="reset"), "connection_error"),
        (
            "/huge",
            "list: body over the size cap",
            Reply(body=json.dumps({"record": ["x" * BIG]}).encode()),
            "too_large",
        ),
        ("/unknown", "list: JSON of an unknown family", Reply(body=b'{"data": {"items": []}}'), "bad_feed"),
        ("/deep", "list: JSON nested too deep", Reply(body=deep_json("record")), "too_deep"),
        (
            "/badbytes",
            "list: bytes invalid in the declared charset",
            Reply(body=b'{"record": [{"title": "\x81"}]}', content_type="application/json; charset=GBK"),
            "undecodable",
        ),
        ("/gzipbomb", "list: gzip bomb", bomb("gzip"), "too_large"),
        ("/deflatebomb", "list: deflate bomb", bomb("deflate"), "too_large"),
        (
            "/chunkcut",
            "list: chunked body cut short",
            Reply(body=json.dumps({"record": [record(60, "分块")]}).encode(), action="chunked_cut"),
            "truncated",
        ),
    ]
    for path, name, reply, reason in list_faults:
        site.add_list(path, reply)
        fault(Fault(name, "list", reason, "quarantined; the run is partial, exit 1, the DAG task retries"))
        expect("list", reason, path)
    return site
