"""``newsarchive report``: one self-contained HTML page, rendered by a real headless Chromium.

Over tables committed by :mod:`tests.readers_fixture` (embedded catalog; SeaweedFS's REST
catalog in the slow test) and, in ``test_e2e_*``, over what real crawls committed."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsarchive.cli import main
from tests.helpers import ROOT, run_cli
from tests.readers_fixture import (
    PARTIAL,
    article,
    build_archive,
    commit_run,
    embedded,
    isolated,
)

CHARTS = ("articles-per-media", "feed-gaps", "quarantine-reasons", "run-durations", "run-requests")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
#: The screenshot the README shows; refreshed with NEWSARCHIVE_UPDATE_SCREENSHOT=1.
SCREENSHOT = ROOT / "docs" / "report.png"
#: Read at import: the tests run with every NEWSARCHIVE_* variable removed (``isolated``).
UPDATE_SCREENSHOT = bool(os.environ.get("NEWSARCHIVE_UPDATE_SCREENSHOT"))

#: The tables fixtures (tables_archive, crawled_archive).
pytest_plugins = ["tests.readers_fixture"]


@pytest.fixture(autouse=True)
def no_pyiceberg_config(tmp_path: Path):
    with isolated(tmp_path / "home"):
        yield


def make_report(archive: Path, out: Path, *args: str) -> int:
    return main(["report", "--archive", str(archive), "--out", str(out), "--days", "0", *args])


@pytest.fixture(scope="module")
def report(tables_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    with isolated(out.parent / "home"):
        assert make_report(tables_archive, out) == 0
    return out


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("CI needs the Debian packages chromium and chromium-driver")
        pytest.skip("chromium and chromedriver are not installed")
    import tempfile

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="newsarchive-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1100,900",
        # a link that escaped the rules must not reach the network: only 127.0.0.1 resolves
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


#: For each chart, what the browser drew: marks with a visible size, and the chart's own box.
CHART_STATE = """
return Array.from(document.querySelectorAll('[data-chart]')).map(el => {
  const box = el.getBoundingClientRect();
  const marks = Array.from(el.querySelectorAll('.mark')).filter(m => {
    const b = m.getBoundingClientRect(); return b.width > 0 && b.height > 0;
  });
  return {id: el.dataset.chart, empty: el.dataset.empty === 'true', tag: el.tagName.toLowerCase(),
          width: box.width, height: box.height, marks: marks.length,
          tips: marks.filter(m => m.querySelector('title')).length};
});
"""


def test_every_chart_renders_with_data_in_chromium(browser, report, tmp_path):
    browser.get(report.as_uri())
    assert "newsarchive report" in browser.title
    charts = {c["id"]: c for c in browser.execute_script(CHART_STATE)}
    assert set(charts) == set(CHARTS)
    for chart in charts.values():
        assert chart["tag"] == "svg" and not chart["empty"], chart
        assert chart["width"] > 600 and chart["height"] > 40, chart
        assert chart["marks"] > 0 and chart["tips"] == chart["marks"], chart
    # it fetched nothing: no script, stylesheet, font or image from anywhere
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert browser.execute_script("return document.scripts.length") == 0
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1100, min(height + 40, 6000))
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    from PIL import Image

    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
        assert image.width >= 1000 and image.height > 1500
    assert len(colours) > 100  # charts, text and legend, not a blank page
    if UPDATE_SCREENSHOT:  # the charts, without the long table
        with Image.open(shot) as image:
            image.crop((0, 0, image.width, min(image.height, 3000))).save(SCREENSHOT, optimize=True)


def test_the_report_shows_what_the_archive_holds(report, tables_archive):
    html = report.read_text(encoding="utf-8")
    # every source, the partial and the failed run (which committed nothing but its runs row)
    assert ">finews<" in html and ">thepaper<" in html
    assert ">partial<" in html and ">failed<" in html and f"<code>{PARTIAL}</code>" in html
    # the quarantine chart names each reason the tables hold
    assert all(f"· {r}:" in html for r in ("bad_json", "http_error", "not_article"))
    # WARC records link into the crawl's working directory
    assert f'href="{(tables_archive / "warc/date=2022-01-13/run-0.warc.gz").as_uri()}"' in html
    assert "embedded SQLite catalog" in html
    assert not re.search(r"""<(script|link|img|iframe)\b""", html)


def test_an_archive_with_empty_tables_still_makes_a_report(tmp_path):
    embedded(tmp_path / "archive")
    out = tmp_path / "report.html"
    assert make_report(tmp_path / "archive", out) == 0
    html = out.read_text(encoding="utf-8")
    assert html.count('data-empty="true"') == len(CHARTS)
    assert "The archive is empty" in html


def test_no_catalog_is_a_usage_error(tmp_path, capsys):
    assert make_report(tmp_path / "nothing", tmp_path / "report.html") == 2
    assert "no catalog" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "nothing").exists()


@pytest.mark.slow
def test_report_reads_the_rest_catalog(tmp_path, monkeypatch):
    """Tables in SeaweedFS's REST catalog (files in S3, read through pyiceberg); WARC links
    relative with ``--link-base ""``, as the DAG stores the report beside the WARC files."""
    from newsarchive.samples.seaweed import SeaweedFS
    from newsarchive.tables.catalog import resolve

    (tmp_path / "s3").mkdir()
    with SeaweedFS(tmp_path / "s3", table_bucket="warehouse") as s3:
        for key, value in s3.catalog_properties.items():
            monkeypatch.setenv(f"PYICEBERG_CATALOG__LAKE__{key.upper().replace('-', '_').replace('.', '__')}", value)
        build_archive(resolve(str(tmp_path / "unused"), "lake"))
        out = tmp_path / "report.html"
        assert make_report(tmp_path / "unused", out, "--catalog", "lake", "--link-base", "") == 0
    html = out.read_text(encoding="utf-8")
    assert 'href="warc/date=2022-01-13/run-0.warc.gz"' in html and "catalog &#x27;lake&#x27; (rest)" in html
    assert 'data-empty="true"' not in html


def test_e2e_report_over_real_crawls(crawled_archive, tmp_path):
    archive, env = crawled_archive
    out = tmp_path / "report.html"
    proc = run_cli("report", "--archive", str(archive), "--out", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    assert ">finews<" in html and ">thepaper<" in html and ">partial<" in html
    assert 'data-empty="true"' not in html
    # the samples are years old: the crawls just ran and found nothing newer, so both are stale
    assert set(health(html)) == {("finews", "stale"), ("thepaper", "stale")}
    assert 'data-alert="freshness"' in html


def test_feed_gaps_count_the_silent_hours():
    """Articles in hours 0, 1 and 5 of a ten-hour window: 7 silent hours, the longest gap
    the last four, and two stretches with articles."""
    import duckdb
    import pyarrow as pa

    from newsarchive.analytics.report.data import _feeds
    from newsarchive.analytics.report.windows import Window

    start = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    times = [start + timedelta(minutes=10), start + timedelta(hours=1, minutes=5), start + timedelta(hours=5)]
    con = duckdb.connect()
    articles = pa.table(
        {"source": ["s"] * 3, "feed": ["f"] * 3, "published_at": pa.array(times, pa.timestamp("us", tz="UTC"))}
    )
    con.register("articles", articles)
    (feed,) = _feeds(con, "s", Window(start, start + timedelta(hours=9, minutes=30)))
    assert (feed.total_hours, feed.silent_hours) == (10, 7)
    assert feed.longest_gap == (start + timedelta(hours=6), 4)
    assert [(s.hour, e.hour, n) for s, e, n in feed.spans] == [(0, 2, 2), (5, 6, 1)]


@pytest.mark.parametrize(("days", "unit", "bars"), [(10, "day", 11), (120, "week", 18), (1000, "month", 33)])
def test_windows_keep_charts_readable(days, unit, bars):
    from newsarchive.analytics.report.windows import Window

    end = datetime(2026, 11, 27, 12, tzinfo=UTC)
    window = Window.ending(end, end - timedelta(days=5000), days)
    assert window is not None and window.unit == unit
    assert len(window.buckets()) == bars
    assert window.bucket(window.end) == window.buckets()[-1]


#: What a hostile link does if it ever runs: the test looks for the mark after every click.
PWNED = "pwned"
CLICK_STATE = "return [document.title, window.name]"


def _hostile_archive(tmp_path: Path, safe_link: str) -> Path:
    """Tables holding ``javascript:`` links in every URL column the report links and as the
    WARC key (as a table made by an older code, or by another writer, may hold them), beside
    a row with a safe http link."""
    archive = tmp_path / "archive"
    spec = embedded(archive)
    old = article(
        9,
        title="旧档案",
        article_url=f"JavaScript:void(document.title='{PWNED}-old-article')",
        source_url=f" jav\tascript:void(window.name='{PWNED}-old-source')",
        list_url=f"\x01javascript:void(document.title='{PWNED}-old-list')",
        warc_filename=f"javascript:void(document.title='{PWNED}-old-warc')",
        warc_record_offset=0,
    )
    commit_run(spec, "20200101T000000Z-0ld00000", articles=[old, article(8, article_url=safe_link)])
    return archive


def test_no_link_in_the_report_runs_a_script(browser, tmp_path, feed_server):
    """``javascript:`` links the tables hold are text in the report: clicking every link of
    the page (rendered with and without ``--link-base``) runs nothing."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    feed_server.add("/safe", b"{}")
    safe = feed_server.url("/safe")
    archive = _hostile_archive(tmp_path, safe)
    for link_base in (None, ""):
        out = tmp_path / f"report-{link_base is None}.html"
        assert make_report(archive, out, *([] if link_base is None else ["--link-base", link_base])) == 0
        browser.get(out.as_uri())
        hrefs = browser.execute_script("return Array.from(document.links).map(a => a.href)")
        for n in range(len(hrefs)):
            browser.get(out.as_uri())
            browser.execute_script("window.name = ''")
            link = browser.find_elements(By.TAG_NAME, "a")[n]
            browser.execute_script("arguments[0].scrollIntoView()", link)
            try:
                link.click()
            except WebDriverException:
                browser.execute_script("arguments[0].click()", link)
            title, name = browser.execute_script(CLICK_STATE)
            assert PWNED not in title and PWNED not in name, (hrefs[n], title, name)
        assert safe in hrefs and hrefs, hrefs  # http(s) links stay links
        assert all(h.split(":", 1)[0] in {"http", "https", "file"} for h in hrefs), hrefs
        # the hostile links are shown, as text
        browser.get(out.as_uri())
        shown = browser.find_element(By.TAG_NAME, "body").text
        assert f"JavaScript:void(document.title='{PWNED}-old-article')" in shown
        assert f"void(document.title='{PWNED}-old-warc')" in shown
    # and the page would have shown it had one run: the check can fail
    browser.execute_script(f"document.title = '{PWNED}'")
    assert PWNED in browser.execute_script(CLICK_STATE)[0]


# --- freshness: is each source up to date at the report's time --------------------------

#: The report's "now" in the freshness tests.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _bj(t: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    from newsarchive.timeparse import BEIJING

    return t.astimezone(BEIJING).strftime(fmt)


def _commit(spec, run_id: str, source: str, started: datetime, articles=(), status="complete", spider=None):
    """One run of ``source``; ``articles``: (n, published, feed)."""
    rows = [
        article(n, source=source, source_id=f"{source}-{n}", published_at=published, feed=feed)
        for n, published, feed in articles
    ]
    run = {"source": source, "spider": spider or source, "status": status, "started_at": started}
    commit_run(spec, run_id, articles=rows, run=run)


def build_freshness_archive(archive: Path) -> None:
    """Four sources at NOW: thepaper published two hours ago (fresh); finews's newest article
    is ten days old though its crawl completed two hours ago (stale), and its feed ``flash``
    went silent 80 days ago; eastmoney's newest is 1,645 days old and its crawl fails (not
    crawled since); jekyll holds imported posts only (off by default)."""
    spec = embedded(archive)
    east = [(1, NOW - 1645 * DAY, "hk"), (2, NOW - 1646 * DAY, "hk")]
    _commit(spec, "20190601T000000Z-eeee0001", "eastmoney", NOW - 1645 * DAY + HOUR, east)
    _commit(spec, "20180101T000000Z-jjjj0001", "jekyll", NOW - 100 * DAY, [(3, NOW - 3000 * DAY, "posts")])
    finews = [(10, NOW - 80 * DAY, "flash")] + [(11 + n, NOW - 10 * DAY - n * HOUR, "market") for n in range(3)]
    _commit(spec, "20261201T100000Z-ffff0001", "finews", NOW - 2 * HOUR, finews)
    _commit(spec, "20261201T103000Z-ffff0002", "finews", NOW - 90 * 60 * timedelta(seconds=1), spider="reparse")
    paper = [(20 + n, NOW - (2 + 3 * n) * HOUR, "channel_25950") for n in range(3)]
    _commit(spec, "20261201T110000Z-pppp0001", "thepaper", NOW - HOUR, paper)
    _commit(spec, "20261201T113000Z-eeee0002", "eastmoney", NOW - HOUR / 2, status="failed")


@pytest.fixture(scope="module")
def freshness_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("freshness")
    with isolated(root / "home"):
        build_freshness_archive(root / "archive")
    return root / "archive"


def fresh_report(archive: Path, out: Path, *args: str) -> str:
    """The report at NOW (a later ``--now`` in ``args`` wins)."""
    code = main(["report", "--archive", str(archive), "--out", str(out), "--now", NOW.isoformat(), *args])
    assert code == 0
    return out.read_text(encoding="utf-8")


def health(html: str) -> list[tuple[str, str]]:
    """(source, freshness) of the Health table's rows, in the page's order."""
    return re.findall(r'<tr data-source="([^"]+)" data-freshness="([^"]+)"', html)


def health_rows(html: str) -> dict[str, str]:
    return {m[1]: m[0] for m in re.findall(r'(<tr data-source="([^"]+)" data-freshness=.*?</tr>)', html, re.S)}


def charts_of(html: str, chart: str) -> dict[str, str]:
    """Each source's ``<svg data-chart=chart>``, by source, in the page's order."""
    pattern = rf'<svg data-chart="{chart}" viewBox="[^"]*" data-source="([^"]+)".*?</svg>'
    return {m.group(1): m.group(0) for m in re.finditer(pattern, html, re.S)}


def test_stale_sources_are_flagged_red_and_sorted_first(freshness_archive, tmp_path):
    html = fresh_report(freshness_archive, tmp_path / "r.html", "--days", "30")
    # the ones that need a look first, oldest first; then the fresh; then those not judged
    assert health(html) == [("eastmoney", "not-crawled"), ("finews", "stale"), ("thepaper", "fresh"), ("jekyll", "off")]
    rows = health_rows(html)
    assert "class=alarm" in rows["eastmoney"] and "class=alarm" in rows["finews"]
    assert "class=alarm" not in rows["thepaper"] and "class=alarm" not in rows["jekyll"]
    assert "<td class=bad>1,645 days (4.5 years)</td>" in rows["eastmoney"]
    assert "<td class=bad>10 days</td>" in rows["finews"] and ">2 hours<" in rows["thepaper"]
    assert "<td class=nw>6 hours</td>" in rows["finews"] and "<td class=nw>off</td>" in rows["jekyll"]
    assert "<td class=bad>failed</td>" in rows["eastmoney"]  # its last run
    # the alert at the top names them, and only them, in the same order, with the why
    alert = re.search(r'<section class="alert" data-alert="freshness">(.*?)</section>', html, re.S)
    assert alert and html.index(alert.group(0)) < html.index("<h2>Health</h2>")
    named = re.findall(r'<li data-source="([^"]+)" data-freshness="([^"]+)"', alert.group(1))
    assert named == [("eastmoney", "not-crawled"), ("finews", "stale")]
    assert "newest article 1,645 days (4.5 years) old, over its limit of 6 hours; no run completed" in alert.group(1)
    assert "newest article 10 days old, over its limit of 6 hours, though a run completed" in alert.group(1)
    assert '<div class="card alarm"><b>2</b><span>stale sources: eastmoney, finews</span>' in html


def test_a_fresh_archive_has_no_alert(freshness_archive, tmp_path):
    html = fresh_report(freshness_archive, tmp_path / "r.html", "--stale-after", "off")
    assert {state for _, state in health(html)} == {"off"}
    assert 'data-alert="freshness"' not in html and "card alarm" not in html


def test_freshness_is_judged_at_the_reports_time(freshness_archive, tmp_path):
    """The same tables seen later: six hours on, thepaper's newest article (8 h) and its last
    complete run (7 h) are both past its limit; four hours on, its article is just within it."""
    later = fresh_report(freshness_archive, tmp_path / "later.html", "--now", (NOW + 6 * HOUR).isoformat())
    assert ("thepaper", "not-crawled") in health(later) and ("finews", "not-crawled") in health(later)
    sooner = fresh_report(freshness_archive, tmp_path / "sooner.html", "--now", (NOW + 4 * HOUR).isoformat())
    assert ("thepaper", "fresh") in health(sooner) and ("finews", "stale") in health(sooner)


def test_each_source_is_charted_in_its_own_window(freshness_archive, tmp_path):
    """Each source's charts end at its own newest article: eastmoney, 1,645 days behind,
    is drawn with its articles (one window ending at thepaper's newest would hold none)."""
    from newsarchive.analytics.report.windows import Window

    html = fresh_report(freshness_archive, tmp_path / "r.html", "--days", "30")
    media, gaps = charts_of(html, "articles-per-media"), charts_of(html, "feed-gaps")
    # in the Health table's order: the ones to look at first
    assert list(media) == list(gaps) == ["eastmoney", "finews", "thepaper", "jekyll"]
    assert all('class="mark"' in chart for chart in (*media.values(), *gaps.values()))
    newest = {"eastmoney": NOW - 1645 * DAY, "finews": NOW - 10 * DAY, "thepaper": NOW - 2 * HOUR}
    oldest = {"eastmoney": NOW - 1646 * DAY, "finews": NOW - 80 * DAY, "thepaper": NOW - 8 * HOUR}
    for source, end in newest.items():
        window = Window.ending(end, oldest[source], 30)
        headings = re.findall(rf'<h3 data-source="{source}">([^\n]*?)</h3>', html)
        assert len(headings) == 2 and all(h.endswith(f", {window}") for h in headings), headings
    # eastmoney's bar is on its own day, four and a half years back, and its strip ends there
    assert f"<title>{_bj(NOW - 1645 * DAY, '%Y-%m-%d')} · 澎湃新闻: 1</title>" in media["eastmoney"]
    assert f">{_bj(NOW - 1645 * DAY, '%m-%d %H:%M')}</text>" in gaps["eastmoney"]


def test_silent_feeds_are_a_table(freshness_archive, tmp_path):
    """finews's ``flash`` published nothing in the 30 days up to finews's newest article."""
    html = fresh_report(freshness_archive, tmp_path / "r.html", "--days", "30")
    table = re.search(r'<table data-table="silent-feeds">(.*?)</table>', html, re.S)
    assert table, html
    assert "<th>feed</th><th>source</th><th>last seen</th><th>age</th>" in table.group(1)
    rows = re.findall(r"<tr[^>]*><td>([^<]*)</td><td>([^<]*)</td><td class=nw>([^<]*)</td><td class=bad>([^<]*)<", html)
    assert rows == [("flash", "finews", _bj(NOW - 80 * DAY), "80 days")]
    # over the whole archive no feed is silent for its source's window, and the page says so
    everything = fresh_report(freshness_archive, tmp_path / "all.html", "--days", "0")
    assert '<table data-table="silent-feeds">' not in everything
    assert '<p class="note" data-table="silent-feeds">Every feed has articles' in everything


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        # the shipped default: 6 hours, jekyll off
        (None, [], {"eastmoney": "not-crawled", "finews": "stale", "thepaper": "fresh", "jekyll": "off"}),
        # a default of two weeks: finews's ten days are fresh; jekyll, unnamed, is judged too
        ('{"default": "2w"}', [], {"finews": "fresh", "thepaper": "fresh", "jekyll": "not-crawled"}),
        # per source: thepaper within 90 minutes (its newest is 2 h old), eastmoney off
        ('{"thepaper": "90m", "eastmoney": "off"}', [], {"eastmoney": "off", "finews": "stale", "thepaper": "stale"}),
        # --stale-after over the setting: the default, then one source
        ('{"default": "1h"}', ["--stale-after", "11d", "--stale-after", "jekyll=off"], {"finews": "fresh"}),
        ('{"default": "1h"}', ["--stale-after", "jekyll=off"], {"thepaper": "stale", "jekyll": "off"}),
        (None, ["--stale-after", "finews=10d"], {"finews": "fresh", "thepaper": "fresh"}),
        (None, ["--stale-after", "finews=239h"], {"finews": "stale"}),
    ],
)
def test_limits_per_source_and_the_default(freshness_archive, tmp_path, monkeypatch, env, args, expected):
    if env is not None:
        monkeypatch.setenv("NEWSARCHIVE_REPORT_STALE_AFTER", env)
    states = dict(health(fresh_report(freshness_archive, tmp_path / "r.html", *args)))
    assert {s: states[s] for s in expected} == expected


def test_a_limit_for_a_source_the_archive_lacks_is_pointed_out(freshness_archive, tmp_path):
    html = fresh_report(freshness_archive, tmp_path / "r.html", "--stale-after", "thepapr=1d")
    assert "REPORT_STALE_AFTER names sources this archive does not hold: <code>thepapr</code>" in html
    assert "does not hold" not in fresh_report(freshness_archive, tmp_path / "ok.html")  # shipped jekyll: no


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ('{"default": "6"}', [], "REPORT_STALE_AFTER['default']: '6' is not a limit; give a whole number above 0"),
        ('{"default": 6}', [], "REPORT_STALE_AFTER['default']: 6 is not a limit"),
        ('{"finews": "0h"}', [], "REPORT_STALE_AFTER['finews']: '0h' is not a limit"),
        ('{"finews": "6 hours"}', [], "'6 hours' is not a limit"),
        ('{"finews": "1.5h"}', [], "'1.5h' is not a limit"),
        ('{"finews": "-1h"}', [], "'-1h' is not a limit"),
        ('{"finews": null}', [], "None is not a limit"),
        ('{"": "6h"}', [], "REPORT_STALE_AFTER: '' is not a source name"),
        ("6h", [], "NEWSARCHIVE_REPORT_STALE_AFTER: not a JSON object: '6h'"),  # the setting is a dict
        ('["6h"]', [], "NEWSARCHIVE_REPORT_STALE_AFTER: not a JSON object: '[\"6h\"]'"),
        (None, ["--stale-after", "6x"], "--stale-after '6x': '6x' is not a limit"),
        (None, ["--stale-after", "=6h"], "--stale-after '=6h': name the source before '='"),
        (None, ["--stale-after", "finews="], "--stale-after 'finews=': '' is not a limit"),
        (None, ["--now", "2026-12-01T12:00"], "has no offset"),
        (None, ["--now", "yesterday"], "is not an ISO 8601 time"),
    ],
)
def test_bad_limits_are_a_usage_error(freshness_archive, tmp_path, monkeypatch, capsys, env, args, message):
    if env is not None:
        monkeypatch.setenv("NEWSARCHIVE_REPORT_STALE_AFTER", env)
    out = tmp_path / "r.html"
    assert main(["report", "--archive", str(freshness_archive), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsarchive report: ") and message in err, err
    assert not out.exists()


def test_run_bars_are_labelled_by_spider(report):
    """Each request bar has a band in its run's spider colour, named in its tooltip and the legend."""
    html = report.read_text(encoding="utf-8")
    (chart,) = re.findall(r'<svg data-chart="run-requests".*?</svg>', html, re.S)
    bands = re.findall(r'<rect class="mark band"[^>]*fill="([^"]+)"><title>([^<]*): spider (\w+)</title>', chart)
    assert [spider for _, _, spider in bands] == ["finews", "reparse", "finews", "thepaper", "finews"]
    colour = {spider: fill for fill, _, spider in bands}
    assert len(set(colour.values())) == 3  # one colour per spider
    after = html[html.index(chart) :]
    for spider, fill in colour.items():
        assert f'<li><span style="background:{fill}"></span>spider {spider}</li>' in after
    # and under each bar's time, its spider's name (five bars: every one labelled)
    under = re.findall(r'<text class="tick" x="[^"]+" y="[^"]+" text-anchor="middle">(\w+)</text>', chart)
    assert under == ["finews", "reparse", "finews", "thepaper", "finews"]
    # the stacked segments name the spider of their run too
    assert f"<title>{_bj(datetime(2022, 1, 13, 3, tzinfo=UTC), '%m-%d %H:%M')} · reparse · text: 8</title>" in chart


def test_many_runs_get_one_bar_per_spider_and_day():
    """Over 60 runs the bars are per day and spider, each labelled by its band."""
    from collections import Counter

    from newsarchive.analytics.report.data import ReportData, Totals
    from newsarchive.analytics.report.page import _run_charts
    from newsarchive.analytics.report.windows import Window

    start = datetime(2026, 11, 27, 0, 30, tzinfo=UTC)
    runs = [
        {
            "run_id": f"r{n}",
            "spider": ("finews", "thepaper")[n % 2],
            "source": "x",
            "status": "complete",
            "started_at": start + n * HOUR,
            "duration_s": 1.0,
            "requests": 3,
            "by_kind": [("list", 1), ("text", 2)],
            "articles_written": 2,
            "quarantined": 0,
        }
        for n in range(70)
    ]
    data = ReportData(Totals(), Window(start, start + 69 * HOUR))
    data.runs = runs
    html = _run_charts(data)
    per_bar = Counter((_bj(r["started_at"], "%Y-%m-%d"), r["spider"]) for r in runs)
    bands = re.findall(r'<rect class="mark band"[^>]*><title>([^<]*) · (\w+): spider \2</title>', html)
    assert bands == sorted(per_bar)
    texts = re.findall(r"<title>([^<]*) · (\w+) · text: (\d+)</title>", html)
    assert {(day, spider): int(n) for day, spider, n in texts} == {k: 2 * n for k, n in per_bar.items()}
    assert "Requests per spider and day" in html


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("90m", timedelta(minutes=90)),
        ("6h", timedelta(hours=6)),
        (" 2D ", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("off", None),
        ("OFF", None),
    ],
)
def test_limits_parse(text, limit):
    from newsarchive.analytics.report.freshness import parse_limit

    assert parse_limit(text) == limit


def test_states_at_their_edges():
    from newsarchive.analytics.report.freshness import StalePolicy, assess

    policy = StalePolicy.parse({"default": "6h"})
    six = timedelta(hours=6)
    newest = {"edge": NOW - six, "over": NOW - six - timedelta(seconds=1)}
    complete = {"over": NOW - six, "empty": NOW - HOUR, "never": NOW - 2 * six}
    fresh = assess(["edge", "over", "empty", "never", "none"], newest, complete, policy, NOW)
    states = {f.source: f.state for f in fresh}
    assert states == {"edge": "fresh", "over": "stale", "empty": "stale", "never": "not-crawled", "none": "not-crawled"}
    assert StalePolicy.parse({}).limit("any") == six  # no default given: six hours


@pytest.mark.parametrize(
    ("age", "words"),
    [
        (timedelta(seconds=30), "under a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=59), "59 minutes"),
        (timedelta(hours=47), "47 hours"),
        (timedelta(days=2), "2 days"),
        (timedelta(days=364), "364 days"),
        (timedelta(days=1645), "1,645 days (4.5 years)"),
        (None, "never"),
        (-HOUR, "in the future"),
    ],
)
def test_ages_in_words(age, words):
    from newsarchive.analytics.report.freshness import age_words

    assert age_words(age) == words
