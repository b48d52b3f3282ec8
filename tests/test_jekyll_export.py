"""``newsarchive export-jekyll``: the archive as the original site's posts, byte for byte
for crawled articles; one post per infoCode; date ranges; rotation; the site's config.

The ``test_e2e_*`` tests export what a real crawl committed; the others read tables committed
by :mod:`tests.readers_fixture`."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from newsarchive.jekyll.site import merged_config
from newsarchive.samples.feedserver import ORIGINAL_SHARE_URL
from tests.helpers import REFERENCE, SEED_POST, last_json, run_cli, run_crawl
from tests.readers_fixture import article, commit_run, embedded, env_without_pyiceberg, isolated

#: The tables fixtures (tables_archive).
pytest_plugins = ["tests.readers_fixture"]

POSTS = REFERENCE / "finews-posts"
SEED_NAME = "2022-01-12-NW202201122245299970.md"


def newsarchive(*args: object, timeout: float = 180) -> tuple[int, dict, str]:
    proc = run_cli(*map(str, args), timeout=timeout)
    return proc.returncode, last_json(proc.stdout), proc.stderr


def export(archive: Path, site: Path, *extra: object) -> dict:
    code, summary, stderr = newsarchive("export-jekyll", "--archive", archive, "--out", site, *extra)
    assert code == 0, stderr[-3000:]
    return summary


def market_files() -> list[str]:
    with (POSTS / "INDEX.tsv").open(encoding="utf-8") as fh:
        return [r["file"] for r in csv.DictReader(fh, delimiter="\t") if r["template"] == "market"]


def front(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n", 2)[1])


@pytest.fixture(scope="module")
def exported(sample_archive, tmp_path_factory):
    archive, _ = sample_archive
    site = tmp_path_factory.mktemp("site")
    return archive, site, export(archive, site)


def test_e2e_crawled_articles_are_exported_byte_for_byte(exported):
    _, site, summary = exported
    assert summary["status"] == "complete" and summary["posts"] == summary["written"] == 44
    assert summary["sanitised"] == summary["yaml_escaped"] == summary["skipped_no_info_code"] == 0
    assert (site / "_posts" / SEED_NAME).read_bytes() == SEED_POST.read_bytes()
    for name in market_files():  # every market post the original wrote for these feeds
        assert (site / "_posts" / name).read_bytes() == (POSTS / name).read_bytes(), name
    posts = sorted((site / "_posts").iterdir())
    assert len(posts) == 44 and all(not p.read_bytes().endswith(b"\n") for p in posts)


def test_e2e_articles_without_a_media_name_use_the_rolling_category(exported):
    _, site, _ = exported
    rolling = [p for p in (site / "_posts").iterdir() if front(p)["categories"] == "emnews"]
    assert rolling
    for path in rolling:
        text = path.read_text(encoding="utf-8")
        assert front(path)["tags"] == "东财滚动新闻"
        assert text.endswith(
            "[返回东财滚动新闻](//finews.withounder.com/category/emnews.html)｜[返回首页](//finews.withounder.com/)"
        )
        code = path.stem.split("-", 3)[3]
        assert f"<http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}>" in text


def test_e2e_a_new_site_gets_liquid_off_and_a_minimal_layout(exported):
    _, site, summary = exported
    config = yaml.safe_load((site / "_config.yml").read_text(encoding="utf-8"))
    scopes = {(d["scope"].get("type"), d["scope"].get("path")): d["values"] for d in config["defaults"]}
    assert scopes[("posts", "")] == {"render_with_liquid": False}
    assert scopes[(None, "old_post")] == {"render_with_liquid": False}
    assert (site / "_layouts" / "post.html").is_file() and (site / "_layouts" / "default.html").is_file()
    assert summary["liquid_off_in_config"] is True


def test_e2e_exporting_again_rewrites_nothing(exported):
    archive, site, _ = exported
    config = (site / "_config.yml").read_bytes()
    summary = export(archive, site)
    assert summary["written"] == 0 and summary["unchanged"] == 44 and summary["actions"] == []
    assert (site / "_config.yml").read_bytes() == config


def test_e2e_date_range_and_base_url(sample_archive, tmp_path):
    archive, _ = sample_archive
    summary = export(
        archive, tmp_path, "--since", "2022-04-21", "--until", "2022-05-26", "--base-url", "//news.example"
    )
    names = sorted(p.name for p in (tmp_path / "_posts").iterdir())
    assert names and summary["posts"] == len(names)
    assert all("2022-04-21" <= n[:10] <= "2022-05-26" for n in names)
    assert "2022-05-26-NW202205262391921712.md" in names  # 00:19 Beijing time: the 25th in UTC
    text = (tmp_path / "_posts" / "2022-04-21-NW202204212352230938.md").read_text(encoding="utf-8")
    assert text.endswith("[返回财联社新闻](//news.example/category/cailianshe.html)｜[返回首页](//news.example/)")


def test_e2e_rotation_moves_old_article_posts_only(sample_archive, tmp_path):
    archive, _ = sample_archive
    (tmp_path / "_posts").mkdir()
    init = tmp_path / "_posts" / "2021-12-01-init.md"
    init.write_bytes((POSTS / "2021-12-01-init.md").read_bytes())
    stale = tmp_path / "_posts" / "2021-11-30-202111302200000000.md"  # a post of an earlier run
    stale.write_text("---\nlayout: post\n---\nold", encoding="utf-8")
    (tmp_path / "_config.yml").write_text("title: mine\n", encoding="utf-8")
    summary = export(archive, tmp_path, "--keep-days", "3", "--today", "2022-05-31")
    kept = sorted(p.name for p in (tmp_path / "_posts").iterdir())
    old = sorted(p.name for p in (tmp_path / "old_post").iterdir())
    assert kept == [
        "2021-12-01-init.md",
        "2022-05-30-NW202205302396671291.md",
        "2022-05-31-NW202205312398034850.md",
    ]
    assert len(old) == 43 and "2021-11-30-202111302200000000.md" in old
    assert summary["rotated"] == 1  # the stale post; the others were written to old_post/ directly
    assert init.read_bytes() == (POSTS / "2021-12-01-init.md").read_bytes()


def test_e2e_an_existing_config_is_merged_not_replaced(sample_archive, tmp_path):
    archive, _ = sample_archive
    user = 'title: 我的新闻站\ndefaults:\n  - scope:\n      path: ""\n    values:\n      layout: page\nplugins: []\n'
    (tmp_path / "_config.yml").write_text(user, encoding="utf-8")
    summary = export(archive, tmp_path, "--until", "2021-12-31")
    config = yaml.safe_load((tmp_path / "_config.yml").read_text(encoding="utf-8"))
    assert config["title"] == "我的新闻站" and config["plugins"] == []
    assert {"scope": {"path": ""}, "values": {"layout": "page"}} in config["defaults"]
    assert {"scope": {"path": "", "type": "posts"}, "values": {"render_with_liquid": False}} in config["defaults"]
    assert not (tmp_path / "_layouts").exists()  # an existing site keeps its own layouts
    assert summary["liquid_off_in_config"] is True and summary["warnings"] == []


LIQUID_OFF = {"scope": {"path": "", "type": "posts"}, "values": {"render_with_liquid": False}}


@pytest.mark.parametrize(
    "config",
    [
        "",
        "title: x",
        "title: x\ndefaults:\n- scope:\n    path: ''\n  values:\n    layout: page\n",
        "defaults:   # mine\n\n    # comment\n    - scope: {path: ''}\n      values: {layout: page}\nx: 1\n",
        "defaults:\nx: 1\n",
        "title: x\r\ndefaults:\r\n  - scope: {path: ''}\r\n    values: {layout: page}\r\n",
    ],
)
def test_config_merge_keeps_the_users_settings(config):
    merged = merged_config(config)
    assert merged is not None and merged_config(merged) == merged  # once only
    before, after = yaml.safe_load(config) or {}, yaml.safe_load(merged)
    assert LIQUID_OFF in after["defaults"]
    assert [d for d in after["defaults"] if d["values"] != {"render_with_liquid": False}] == (
        before.get("defaults") or []
    )
    assert {k: v for k, v in after.items() if k != "defaults"} == {k: v for k, v in before.items() if k != "defaults"}


@pytest.mark.parametrize("config", ["defaults: []\n", "defaults:\n  scope: x\n", "defaults: [{a: 1}]\n"])
def test_config_merge_refuses_what_it_cannot_edit_safely(config):
    assert merged_config(config) is None


def test_a_config_that_cannot_be_merged_is_left_alone_and_liquid_posts_are_marked(tmp_path):
    archive = tmp_path / "archive"
    day = datetime(2022, 1, 12, 7, 51, 41, tzinfo=UTC)
    rows = [
        article(
            0,
            source_id=f"NW20220112224529997{i}",
            info_code=f"NW20220112224529997{i}",
            title=f"标题{i}",
            media_name="澎湃新闻",
            media_slug="pengpaixinwen",
            published_at=day,
            content_html=body,
            share_url=None,
            article_url=None,
            fetched_at=day,
            pipeline_version="0.1.0",
        )
        for i, body in enumerate(["<p>{{ site.time }}</p>", "<p>没有模板</p>"])
    ] + [article(1, source="thepaper", source_id="1234567", info_code=None, title="无 infoCode", published_at=day)]
    with isolated(tmp_path / "home"):
        commit_run(embedded(archive), "20260101T000000Z-00000000", articles=rows)
    site = tmp_path / "site"
    site.mkdir()
    (site / "_config.yml").write_text("defaults: []\n", encoding="utf-8")
    # no default share page (its host is gone): this export sets the original site's
    proc = run_cli(
        *map(str, ("export-jekyll", "--archive", archive, "--out", site)),
        env=env_without_pyiceberg(tmp_path / "home", NEWSARCHIVE_FINEWS_SHARE_URL=ORIGINAL_SHARE_URL),
    )
    code, summary, stderr = proc.returncode, last_json(proc.stdout), proc.stderr
    assert code == 0 and "render_with_liquid" in stderr
    assert (site / "_config.yml").read_text(encoding="utf-8") == "defaults: []\n"
    assert summary["liquid_off_in_config"] is False and summary["liquid_marked"] == 1
    assert summary["skipped_no_info_code"] == 1 and summary["posts"] == 2
    liquid = site / "_posts" / "2022-01-12-NW202201122245299970.md"
    assert front(liquid)["render_with_liquid"] is False
    assert "render_with_liquid" not in (site / "_posts" / "2022-01-12-NW202201122245299971.md").read_text()
    # no share_url stored: the link comes from FINEWS_SHARE_URL
    assert "<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202201122245299971>" in (
        site / "_posts" / "2022-01-12-NW202201122245299971.md"
    ).read_text(encoding="utf-8")


def test_e2e_the_finews_row_wins_over_an_imported_post(sample_settings, tmp_path):
    archive = tmp_path / "archive"
    posts = tmp_path / "posts"
    posts.mkdir()
    seed = SEED_POST.read_text(encoding="utf-8")
    (posts / SEED_NAME).write_text(seed.replace("上海推进城市数字化转型", "旧站的标题"), encoding="utf-8")
    only_old = seed.replace("NW202201122245299970", "NW202201122245299979")
    (posts / "2022-01-12-NW202201122245299979.md").write_text(only_old, encoding="utf-8")
    code, _, stderr = newsarchive("import-jekyll", posts, "--archive", archive)
    assert code == 0, stderr[-2000:]
    assert run_crawl("finews", {**sample_settings, "ARCHIVE_URI": archive}).returncode == 0
    summary = export(archive, tmp_path / "site")
    assert summary["posts"] == 45 and summary["superseded"] == 1
    assert (tmp_path / "site" / "_posts" / SEED_NAME).read_bytes() == SEED_POST.read_bytes()
    assert (tmp_path / "site" / "_posts" / "2022-01-12-NW202201122245299979.md").read_text(encoding="utf-8") == only_old


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2022-13-01"], "--since"),
        (["--since", "2022-02-01", "--until", "2022-01-01"], "after"),
        (["--keep-days", "0"], "--keep-days"),
        (["--base-url", "//a b"], "--base-url"),
        (["--archive", "/nonexistent/archive"], "no catalog: /nonexistent/archive/catalog.db does not exist"),
        (["--archive", "s3://bucket/archive"], "configure the catalog"),
    ],
)
def test_bad_usage_exits_2(tmp_path, args, message):
    code, _, stderr = newsarchive("export-jekyll", "--archive", tmp_path, "--out", tmp_path / "site", *args)
    assert code == 2 and message in stderr
    assert not (tmp_path / "site").exists()
    assert not (tmp_path / "catalog.db").exists()


def test_the_current_version_of_each_infocode_in_the_date_range(tables_archive, tmp_path):
    """Over committed tables: one post per infoCode (the reparse's rows supersede the first
    run's), rows without an infoCode skipped, and the range filtered by Beijing day."""
    with isolated(tmp_path / "home"):
        code, summary, stderr = newsarchive("export-jekyll", "--archive", tables_archive, "--out", tmp_path / "all")
        assert code == 0, stderr
        assert (summary["rows"], summary["posts"], summary["superseded"], summary["skipped_no_info_code"]) == (
            31,
            14,
            12,
            5,
        )
        # row 14 is published at 00:00 on the 13th, Beijing time (16:00 UTC on the 12th)
        code, summary, stderr = newsarchive(
            "export-jekyll", "--archive", tables_archive, "--out", tmp_path / "12th", "--until", "2022-01-12"
        )
        assert code == 0 and summary["posts"] == 13 and summary["rows"] == 13 + 12 + 5
        names = sorted(p.name for p in (tmp_path / "12th" / "_posts").iterdir())
        assert len(names) == 13 and all(n.startswith("2022-01-12-") for n in names)
        code, summary, _ = newsarchive(
            "export-jekyll", "--archive", tables_archive, "--out", tmp_path / "13th", "--since", "2022-01-13"
        )
        assert code == 0 and summary["posts"] == summary["rows"] == 1
