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
from tests.conftest import ROOT, run_cli
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
    if os.environ.get("NEWSARCHIVE_UPDATE_SCREENSHOT"):  # the charts, without the long table
        with Image.open(shot) as image:
            image.crop((0, 0, image.width, min(image.height, 2300))).save(SCREENSHOT, optimize=True)


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
    from newsarchive.seaweed import SeaweedFS
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
