"""One post of the original site: the templates are rendered byte for byte and read back,
every post in the reference corpus is recognised, front-matter values are valid YAML."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.jekyll import yamltext
from newsarchive.jekyll.format import (
    PostError,
    info_code_of_link,
    info_code_of_name,
    market_post,
    original_market_post,
    parse_post,
)
from tests.helpers import REFERENCE, SEED_POST

POSTS = REFERENCE / "finews-posts"


def corpus() -> list[dict[str, str]]:
    with (POSTS / "INDEX.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_the_market_template_reproduces_the_seed_post():
    data = SEED_POST.read_bytes()
    post = parse_post(data, "2022-01-12-NW202201122245299970.md")
    assert post.template == "jekyll-market"
    rendered = original_market_post(
        post.title,
        "2022-01-12 15:51:41",
        post.media_slug,
        post.media_name,
        post.content_html,
        post.share_url,
        "//finews.withounder.com",
    )
    assert rendered.encode("utf-8") == data
    assert not data.endswith(b"\n")


@pytest.mark.parametrize("row", corpus(), ids=lambda r: r["file"])
def test_every_reference_post_is_recognised(row):
    data = (POSTS / row["file"]).read_bytes()
    if row["template"] == "other":  # the site's own init post
        with pytest.raises(PostError) as err:
            parse_post(data, row["file"])
        assert err.value.reason == "not_an_article" and "sitenews" in err.value.detail
        return
    post = parse_post(data, row["file"])
    digits = row["file"].rsplit("-", 1)[1].removesuffix(".md").removeprefix("NW")
    assert post.info_code == "NW" + digits  # rolling ids and NW infoCodes are one article
    if row["template"] == "market":
        assert post.template == "jekyll-market"
        assert post.media_slug == row["category"] and post.share_url.endswith(post.info_code)
        assert post.media_name and f"tags: {post.media_name}新闻\n" in data.decode()
        # the body is kept byte for byte, CR included
        assert data.decode().split("\n---\n", 1)[1].startswith(post.content_html)
    else:
        assert post.template in {"jekyll-rolling", "jekyll-rolling-early"}
        assert post.digest and post.media_name is None
    if row["file"].startswith("-"):  # the empty record: link `<>`, no title, no date
        assert post.title == "" and post.published_at is None and post.article_url is None
    else:
        assert post.title and post.published_at is not None
        if row["template"] != "market":
            assert post.article_url and post.article_url.endswith(f"{digits}.html")


def test_rolling_templates_are_told_apart():
    late = parse_post((POSTS / "2022-01-21-202201212257099936.md").read_bytes(), "2022-01-21-202201212257099936.md")
    assert late.template == "jekyll-rolling"
    assert late.digest.startswith("昇兴股份(002752)1月21日晚间公告") and late.content_html.startswith("<p style=")
    name = "_posts__cfbae48__2021-12-08-202112082206672930.md"  # starts with a newline, no +0800
    data = (POSTS / name).read_bytes()
    assert data.startswith(b"\n---\n")
    early = parse_post(data, name)
    assert early.template == "jekyll-rolling-early"
    assert early.published_at == datetime(2021, 12, 8, 2, 46, 18, tzinfo=UTC)  # Beijing without +0800
    assert early.content_html == early.digest == "离岸人民币兑美元升至6.3512，为2018年以来最高水平。"


def test_a_cr_inside_the_body_is_kept():
    name = "2022-04-21-NW202204212352227421.md"
    post = parse_post((POSTS / name).read_bytes(), name)
    assert "</p>\r\n <p>" in post.content_html and post.template == "jekyll-market"


def test_unreadable_posts_say_why():
    with pytest.raises(PostError) as err:
        parse_post(b"---\ntitle: \xff\xfe\n---\nbody", "2022-01-12-NW202201122245299970.md")
    assert err.value.reason == "bad_post" and "UTF-8" in err.value.detail
    with pytest.raises(PostError) as err:
        parse_post(b"# README\n\nnot a post", "README.md")
    assert err.value.reason == "bad_post" and "front matter" in err.value.detail
    seed = SEED_POST.read_bytes()
    with pytest.raises(PostError) as err:  # the link and the file name disagree
        parse_post(seed, "2022-01-12-NW202201122245299971.md")
    assert err.value.reason == "invalid_info_code"


def test_info_codes_from_links_and_names():
    assert info_code_of_link("http://x/NewsShare.html?infoCode=NW202201122245299970") == "NW202201122245299970"
    assert info_code_of_link("http://finance.eastmoney.com/news/1350,202201122245299970.html") == (
        "NW202201122245299970"
    )
    assert info_code_of_link("http://finance.eastmoney.com/a/202201122245299970.html") == "NW202201122245299970"
    assert info_code_of_link("http://x/NewsShare.html?infoCode=../../etc/passwd") is None
    assert info_code_of_name("2022-01-12-AN202201122245299970.md") == "AN202201122245299970"
    assert info_code_of_name("old_post__2021-12-08-202112082206672930.md") == "NW202112082206672930"
    assert info_code_of_name("2021-12-01-init.md") is None
    assert info_code_of_name("2022-01-12-NW2022011222452999.md") is None  # 16 digits


def test_broken_yaml_of_the_original_is_read_as_it_was_meant():
    text = (
        '---\nlayout: post\ntitle: "他说"涨停"了 C:\\d"\ndate: 2022-01-12 15:51:41 +0800\n'
        "categories: pengpaixinwen\ntags: 澎湃新闻新闻\n---\n<p>x</p>\n\n"
        "<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202201122245299970>\n\n"
        "[返回澎湃新闻新闻](//finews.withounder.com/category/pengpaixinwen.html)｜[返回首页](//finews.withounder.com/)"
    )
    post = parse_post(text.encode(), "2022-01-12-NW202201122245299970.md")
    assert post.title == '他说"涨停"了 C:\\d' and post.template == "jekyll-market"
    with pytest.raises(yaml.YAMLError):
        front_matter(text)


def test_plain_values_stay_as_the_original_wrote_them():
    for value in ("pengpaixinwen", "澎湃新闻新闻", "21shijijingjibaodao", "东财滚动新闻", "caijing Wang"):
        assert yamltext.scalar(value) == value
    for value in ("true", "null", "2022-01-12", "123", "a: b", "#x", "- x", "[x]", "x #y", "", " x", "~"):
        quoted = yamltext.scalar(value)
        assert quoted.startswith('"') and yaml.safe_load(f"k: {quoted}")["k"] == value


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_any_title_becomes_valid_yaml_that_means_it(title):
    scalar = f'"{title}"' if yamltext.fits_double_quotes(title) else yamltext.double_quoted(title)
    assert "\n" not in scalar and "\r" not in scalar
    assert yaml.safe_load(f"title: {scalar}\n")["title"] == title
    assert yamltext.read_scalar(scalar) == title


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30))
def test_any_category_becomes_valid_yaml_that_means_it(value):
    scalar = yamltext.scalar(value)
    assert yaml.safe_load(f"categories: {scalar}\n")["categories"] == value


def test_market_post_with_escaped_pieces_is_valid_yaml():
    text = market_post(
        title=yamltext.double_quoted('a "b" \\ c\u2028d'),
        date="2022-01-12 15:51:41",
        categories=yamltext.scalar("true"),
        tags=yamltext.scalar("x: y新闻"),
        body="<p>x</p>",
        link="http://example.com/x",
        label="x",
        slug_path="true",
        base_url="//site",
    )
    front = front_matter(text)
    assert front["title"] == 'a "b" \\ c\u2028d' and front["categories"] == "true"
    assert front["tags"] == "x: y新闻" and front["layout"] == "post"
