"""``newsarchive import-jekyll``: the original site's posts become archive rows with
provenance, what cannot be read is quarantined, a second import adds nothing, and import
then export gives back every market post byte for byte."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from newsarchive.jekyll.format import TEMPLATES
from tests.helpers import REFERENCE, SEED_POST, last_json, rows, run_cli, run_row, snapshots

POSTS = REFERENCE / "finews-posts"


def newsarchive(*args: object, timeout: float = 180) -> tuple[int, dict, str]:
    proc = run_cli(*map(str, args), timeout=timeout)
    return proc.returncode, last_json(proc.stdout), proc.stderr


def index() -> list[dict[str, str]]:
    with (POSTS / "INDEX.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    archive = tmp_path_factory.mktemp("jekyll") / "archive"
    code, summary, stderr = newsarchive("import-jekyll", POSTS, "--archive", archive, "-L", "INFO")
    assert code == 0, stderr[-3000:]
    return archive, summary


def test_every_post_is_archived_with_provenance(imported):
    archive, summary = imported
    assert summary["status"] == "complete" and summary["quarantined"] == 2
    run = run_row(archive, summary["run_id"])
    assert run["spider"] == run["source"] == "jekyll" and run["status"] == "complete"
    assert run["articles_written"] == summary["articles_written"] and run["quarantined"] == 2
    assert run["quarantined_by_reason"] == {"not_an_article": 1, "missing_time": 1}
    assert all(s["newsarchive.run-id"] == summary["run_id"] for s in snapshots(archive))
    table = rows(archive)
    posts = [r for r in index() if r["template"] != "other" and not r["file"].startswith("-")]
    # one row per (infoCode, body): copies of a post and twins with the same body merge
    bodies = {(r["source_id"], r["content_sha256"]) for r in table}
    assert len(bodies) == len(table) == summary["articles_written"]
    assert {r["info_code"] for r in table} == {
        "NW" + r["file"].rsplit("-", 1)[1].removesuffix(".md").removeprefix("NW") for r in posts
    }
    for row in table:
        assert row["source"] == "jekyll" and row["spider"] == "jekyll"
        assert row["source_id"] == row["info_code"]
        assert row["feed"] in TEMPLATES
        path = Path(unquote(urlsplit(row["source_url"]).path))
        assert path.parent == POSTS and row["list_url"] == POSTS.as_uri()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["raw_sha256"]
        assert row["published_at"] is not None and row["title"]
        assert row["content_sha256"] == hashlib.sha256(row["content_html"].encode()).hexdigest()
        assert row["http_status"] is None and row["fetched_at"] is not None
    seed = next(r for r in table if r["feed"] == "jekyll-market" and r["info_code"] == "NW202201122245299970")
    assert seed["media_name"] == "澎湃新闻" and seed["media_slug"] == "pengpaixinwen"
    assert seed["share_url"].endswith("infoCode=NW202201122245299970")
    assert seed["content_text"].startswith("1月12日，上海市政府新闻办")  # the pipelines ran


def test_the_init_post_and_the_empty_record_are_quarantined(imported):
    archive, _ = imported
    bad = {r["reason"]: r for r in rows(archive, "quarantine")}
    assert set(bad) == {"not_an_article", "missing_time"}
    init = bad["not_an_article"]
    assert init["stage"] == "import" and init["url"] == (POSTS / "2021-12-01-init.md").as_uri()
    assert "2021-12-01-init.md" in init["detail"] and "开站大吉" in init["raw"]
    assert init["raw_sha256"] == hashlib.sha256((POSTS / "2021-12-01-init.md").read_bytes()).hexdigest()
    empty = bad["missing_time"]
    assert empty["info_code_raw"] == "NW202205262391921712" and "-202205262391921712.md" in empty["detail"]


def test_rolling_ids_and_nw_codes_are_one_article(imported):
    archive, _ = imported
    by_code: dict[str, list[dict]] = {}
    for row in rows(archive):
        by_code.setdefault(row["source_id"], []).append(row)
    # same body in the market post and its rolling twin: one row, fields of both
    (twin,) = by_code["NW202204212352230938"]
    assert twin["feed"] == "jekyll-market" and twin["source_url"].endswith("2022-04-21-NW202204212352230938.md")
    assert twin["share_url"].endswith("infoCode=NW202204212352230938")
    assert twin["article_url"] == "http://finance.eastmoney.com/news/1350,202204212352230938.html"
    assert twin["digest"].startswith("长春发布《关于支持市场主体纾困")
    # different bodies (the rolling one has stock links): two versions of one article
    versions = by_code["NW202201122245299970"]
    assert sorted(r["feed"] for r in versions) == ["jekyll-market", "jekyll-rolling"]
    # three copies of one early rolling post with the same text: one row
    assert len(by_code["NW202112082206672930"]) == 1


def test_importing_again_adds_nothing(imported, tmp_path):
    archive, first = imported
    before = {name: snapshots(archive, name) for name in ("articles", "quarantine")}
    code, summary, stderr = newsarchive(
        "import-jekyll", POSTS, POSTS / "2022-01-12-NW202201122245299970.md", "--archive", archive
    )
    assert code == 0, stderr[-2000:]
    assert summary["articles_written"] == 0 and summary["quarantined"] == 0
    # no new snapshot of the data tables: nothing was committed to them
    assert {name: snapshots(archive, name) for name in before} == before
    assert len(rows(archive)) == first["articles_written"]
    run = run_row(archive, summary["run_id"])
    assert run["status"] == "complete" and run["articles_written"] == 0 and run["quarantined"] == 0
    counts = run["counts"]
    assert counts["quarantine_repeats"] == 2
    assert counts["skipped_archived"] == counts["records_seen"] - 2


def test_e2e_round_trip_reproduces_every_market_post(imported, tmp_path):
    archive, _ = imported
    site = tmp_path / "site"
    code, summary, stderr = newsarchive("export-jekyll", "--archive", archive, "--out", site)
    assert code == 0, stderr
    market = [r["file"] for r in index() if r["template"] == "market"]
    assert len(market) == 8
    for name in market:
        assert (site / "_posts" / name).read_bytes() == (POSTS / name).read_bytes(), name
    assert summary["sanitised"] == 0 and summary["yaml_escaped"] == 0


def test_unreadable_posts_are_quarantined_and_the_rest_imported(tmp_path):
    src = tmp_path / "posts"
    (src / "nested").mkdir(parents=True)
    (src / ".git").mkdir()
    shutil.copy(SEED_POST, src / "nested" / "2022-01-12-NW202201122245299970.md")
    shutil.copy(SEED_POST, src / ".git" / "2022-01-12-NW202201122245299970.md")  # hidden: not read
    (src / "2022-01-13-NW202201132245299971.md").write_bytes(b"---\ntitle: \xff\n---\nx")
    (src / "README.md").write_text("# not a post\n", encoding="utf-8")
    (src / "notes.txt").write_text("not a post either\n", encoding="utf-8")
    os.symlink(src / "gone.md", src / "2022-01-14-NW202201142245299972.md")
    (src / "2022-01-15-NW202201152245299973.md").write_bytes(b"x" * 20_000)
    no_date = SEED_POST.read_bytes().replace(b"date: 2022-01-12 15:51:41 +0800", b"date: soon")
    (src / "2022-01-16-NW202201122245299970.md").write_bytes(no_date.replace(b"2022-01-12-", b""))
    archive = tmp_path / "archive"
    code, summary, stderr = newsarchive("import-jekyll", src, "--archive", archive, "-s", "DOWNLOAD_MAXSIZE=16384")
    assert code == 0, stderr[-2000:]
    assert summary["articles_written"] == 1
    reasons = sorted((r["reason"], r["detail"].split(":")[0]) for r in rows(archive, "quarantine"))
    assert reasons == [
        ("bad_post", "2022-01-13-NW202201132245299971.md"),  # not UTF-8
        ("bad_post", "2022-01-14-NW202201142245299972.md"),  # cannot be read
        ("bad_post", "README.md"),  # no front matter
        ("missing_time", "2022-01-16-NW202201122245299970.md"),
        ("too_large", "2022-01-15-NW202201152245299973.md"),
    ]


def test_bad_usage_exits_2(tmp_path):
    code, _, stderr = newsarchive("import-jekyll", tmp_path / "nope", "--archive", tmp_path / "a")
    assert code == 2 and "no such file or folder" in stderr
