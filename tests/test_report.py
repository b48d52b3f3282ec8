"""``newsarchive report``: one self-contained HTML page, rendered by a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

CHARTS = ("articles-per-media", "feed-gaps", "quarantine-reasons", "run-durations", "run-requests")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
#: The screenshot the README shows; refreshed with NEWSARCHIVE_UPDATE_SCREENSHOT=1.
SCREENSHOT = ROOT / "docs" / "report.png"


@pytest.fixture(scope="module")
def report(analytics_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    proc = run_cli("report", "--archive", str(analytics_archive), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
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


def test_the_report_shows_what_the_archive_holds(report, analytics_archive):
    html = report.read_text(encoding="utf-8")
    # every source and the partial run are there, with the run's manifest linked
    assert ">finews<" in html and ">thepaper<" in html
    assert ">partial<" in html
    for manifest in analytics_archive.glob("*/runs/*.json"):
        if '"status": "partial"' in manifest.read_text(encoding="utf-8"):
            assert f'href="{manifest.resolve().as_uri()}"' in html
    # the quarantine chart names each reason the archive holds
    import pyarrow.parquet as pq

    reasons = {
        r for p in analytics_archive.glob("*/quarantine/**/*.parquet") for r in pq.read_table(p)["reason"].to_pylist()
    }
    assert reasons and all(f"· {r}:" in html for r in reasons)
    assert not re.search(r"""<(script|link|img|iframe)\b""", html)


def test_an_empty_archive_still_makes_a_report(tmp_path):
    (tmp_path / "archive" / "runs").mkdir(parents=True)
    out = tmp_path / "report.html"
    proc = run_cli("report", "--archive", str(tmp_path / "archive"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    assert html.count('data-empty="true"') == len(CHARTS)
    assert "The archive is empty" in html


def test_report_reads_the_bucket(analytics_archive, seaweed, bucket_uri, tmp_path):
    from tests.conftest import s3_env

    local = analytics_archive / "thepaper"
    assert run_cli("upload", "--archive", str(local), "--to", bucket_uri, env=s3_env(seaweed)).returncode == 0
    out = tmp_path / "report.html"
    proc = run_cli("report", "--archive", bucket_uri, "--out", str(out), "--link-base", "", env=s3_env(seaweed))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    (manifest,) = [p.name for p in (local / "runs").glob("*.json")]
    assert f'href="runs/{manifest}"' in html
    assert 'data-empty="true"' not in html.replace('data-chart="quarantine-reasons" data-empty="true"', "")


def test_feed_gaps_count_the_silent_hours():
    """Articles in hours 0, 1 and 5 of a ten-hour window: 7 silent hours, the longest gap
    the last four, and two stretches with articles."""
    import duckdb
    import pyarrow as pa

    from newsarchive.analytics.report.data import ReportData, Totals, _feeds
    from newsarchive.analytics.report.windows import Window

    start = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    times = [start + timedelta(minutes=10), start + timedelta(hours=1, minutes=5), start + timedelta(hours=5)]
    con = duckdb.connect()
    articles = pa.table(
        {"source": ["s"] * 3, "feed": ["f"] * 3, "published_at": pa.array(times, pa.timestamp("us", tz="UTC"))}
    )
    con.register("articles", articles)
    data = ReportData(Totals(), None, None)
    _feeds(con, data, Window(start, start + timedelta(hours=9, minutes=30)))
    (feed,) = data.feeds
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
