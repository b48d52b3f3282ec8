"""Fast, in-process checks of the rules that keep planted files harmless: keys become paths in
one place that refuses links, listings never follow one, unreadable parts are skipped by
name, and S3 URIs are validated before any request."""

from __future__ import annotations

import json
import os

import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarchive.archive.index import ArchiveIndex, load_fingerprints
from newsarchive.archive.layout import Layout, UnsafePathError, move_links_aside
from newsarchive.archive.recovery import recover
from newsarchive.archive.sink import PartitionedSink
from newsarchive.schema import ARTICLE_SCHEMA
from newsarchive.storage.s3 import InvalidS3URIError, format_s3_uri, parse_s3_uri
from newsarchive.storage.store import LocalStore, StoreError
from newsarchive.storage.verify import verify_store
from tests.test_archive_files import row

RUN = "20261127T000000Z-0000abcd"
ORPHAN = "20261127T000000Z-0rphan00"


@pytest.mark.parametrize("key", ["", "a//b", "a/./b", "../x", "a/../../x", "a\\b", "a/\x00", "/abs"])
def test_a_key_that_is_not_a_plain_relative_path_is_refused(tmp_path, key):
    with pytest.raises(UnsafePathError):
        Layout(tmp_path).path(key)


def test_a_path_through_a_link_is_refused_and_listings_do_not_follow_it(tmp_path):
    root, outside = tmp_path / "archive", tmp_path / "outside"
    (outside / "date=2022-01-01").mkdir(parents=True)
    (outside / "date=2022-01-01/part-x-0.parquet").write_bytes(b"outside")
    (root / "articles").mkdir(parents=True)
    (root / "articles/source=finews").symlink_to(outside, target_is_directory=True)
    layout = Layout(root.resolve())
    with pytest.raises(UnsafePathError, match="articles/source=finews is a symbolic link"):
        layout.path("articles/source=finews/date=2022-01-01/part-x-0.parquet")
    assert layout.data_files() == [] and layout.files("articles") == []
    assert layout.links() == ["articles/source=finews"]
    with pytest.raises(StoreError):
        LocalStore(str(root)).get_bytes("articles/source=finews/date=2022-01-01/part-x-0.parquet")
    assert list(LocalStore(str(root)).objects("articles/")) == []


def test_links_are_moved_aside_not_followed_and_verify_keeps_naming_them(tmp_path):
    root, outside = tmp_path / "archive", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("not archive data")
    root.mkdir()
    (root / "warc").symlink_to(outside, target_is_directory=True)
    (root / "runs").mkdir()
    (root / "runs/x.json").symlink_to(outside / "secret")
    layout = Layout(root.resolve())
    moved = move_links_aside(layout, RUN)
    assert len(moved) == 2 and any("warc ->" in m for m in moved) and any("runs/x.json ->" in m for m in moved)
    assert not (root / "warc").exists() and (root / f".warc.link-{RUN}").is_symlink()
    assert move_links_aside(layout, "20261127T000000Z-00000002") == []  # each link reported once
    layout.path("warc/date=2022-01-01")  # a real directory can now take its place
    problems = verify_store(LocalStore(str(root))).problems
    assert sorted(p.split(" ->")[0] for p in problems) == [f"link: .warc.link-{RUN}", f"link: runs/.x.json.link-{RUN}"]
    assert all("moved aside" in p for p in problems)
    assert os.listdir(outside) == ["secret"]


def test_recovery_skips_an_unreadable_orphan_and_adopts_its_siblings(tmp_path):
    layout = Layout(tmp_path)
    sink = PartitionedSink(layout, ARTICLE_SCHEMA, ORPHAN, kind="articles")
    sink.write("articles/source=finews/date=2022-01-01", row(1))
    sink.write("articles/source=finews/date=2022-01-02", row(2, day=2))
    good, cut = sorted(f.key for f in sink.publish())
    layout.path(cut).write_bytes(layout.path(cut).read_bytes()[:100])
    planted = f"articles/source=finews/date=2022-01-03/part-{RUN}-0.parquet"
    layout.path(planted).parent.mkdir(parents=True)
    layout.path(planted).write_bytes(b"PAR1 garbage PAR1")
    report = recover(layout, current_run_id="20261127T000000Z-22222222")
    assert report.runs_recovered == [ORPHAN]
    assert sorted(line.split(":")[0] for line in report.unreadable) == [cut, planted]
    manifest = json.loads(layout.path(f"runs/{ORPHAN}.json").read_text())
    assert {f["key"] for f in manifest["files"] if f["kind"] == "articles"} == {good}
    assert ArchiveIndex.load(layout, "finews").ids == {row(1)["source_id"]}
    assert not layout.path(f"runs/{RUN}.json").exists()  # nothing readable: no manifest


def test_the_index_skips_an_unreadable_part_by_name(tmp_path):
    layout = Layout(tmp_path)
    sink = PartitionedSink(layout, ARTICLE_SCHEMA, RUN, kind="articles")
    sink.write("articles/source=finews/date=2022-01-01", row(1))
    sink.publish()
    from newsarchive.archive.index import write_index_part

    write_index_part(layout, "finews", RUN, [{"source": "finews", "source_id": row(1)["source_id"]}])
    for table in ("articles", "quarantine"):
        bad = layout.path(f"index/{table}/source=finews/part-{ORPHAN}-0.parquet")
        bad.parent.mkdir(parents=True, exist_ok=True)
        bad.write_bytes(b"garbage")
    index = ArchiveIndex.load(layout, "finews")
    assert index.ids == {row(1)["source_id"]}
    assert len(index.skipped) == 1 and f"index/articles/source=finews/part-{ORPHAN}-0.parquet" in index.skipped[0]
    skipped: list[str] = []
    assert load_fingerprints(layout, "finews", skipped) == set()
    assert len(skipped) == 1 and f"index/quarantine/source=finews/part-{ORPHAN}-0.parquet" in skipped[0]
    assert pq.read_metadata(layout.path(f"index/articles/source=finews/part-{RUN}-0.parquet")).num_rows == 1


def test_verify_reports_unlisted_and_unreadable_files_and_bad_manifests(tmp_path):
    layout = Layout(tmp_path)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs/garbage.json").write_bytes(b"{not json")
    (tmp_path / "compactions").mkdir()
    (tmp_path / "compactions/c.json").write_bytes(b"[1, 2")
    sink = PartitionedSink(layout, ARTICLE_SCHEMA, RUN, kind="articles")
    sink.write("articles/source=finews/date=2022-01-01", row(1))
    unlisted = sink.publish()[0].key  # a readable part no manifest names
    bad_index = f"index/articles/source=finews/part-{ORPHAN}-0.parquet"
    layout.path(bad_index).parent.mkdir(parents=True)
    layout.path(bad_index).write_bytes(b"garbage")
    from newsarchive.archive.index import write_index_part

    write_index_part(layout, "finews", RUN, [])  # a pulled index part: expected, not reported
    problems = verify_store(LocalStore(str(tmp_path)), deep=True).problems
    expected = [
        "unreadable manifest compactions/c.json: ",
        "unreadable manifest runs/garbage.json: ",
        f"unlisted: {unlisted} ",
        f"unlisted: {bad_index} ",
    ]
    assert len(problems) == len(expected), problems
    assert all(any(p.startswith(e) for p in problems) for e in expected), problems
    assert any("unreadable Parquet" in p and bad_index in p for p in problems)


# --- S3 URIs ----------------------------------------------------------------------------------

SEGMENT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs"), blacklist_characters="/\\"),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in {".", ".."})
BUCKET = st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}[a-z0-9]", fullmatch=True)
PREFIX = st.lists(SEGMENT, max_size=5).map("/".join)


@given(BUCKET, PREFIX)
def test_accepted_s3_uris_round_trip(bucket, prefix):
    assert parse_s3_uri(format_s3_uri(bucket, prefix)) == (bucket, prefix)
    assert parse_s3_uri(format_s3_uri(bucket, prefix) + "/") == (bucket, prefix)


@given(BUCKET, st.lists(SEGMENT, max_size=3), st.lists(SEGMENT, max_size=3), st.sampled_from([".", ".."]))
def test_dot_segments_are_always_refused(bucket, before, after, dots):
    uri = format_s3_uri(bucket, "/".join([*before, dots, *after]))
    for candidate in (uri, uri + "/"):
        with pytest.raises(InvalidS3URIError, match="invalid S3 URI"):
            parse_s3_uri(candidate)


@given(BUCKET, st.lists(SEGMENT, max_size=3), st.lists(SEGMENT, min_size=1, max_size=3))
def test_empty_segments_are_always_refused(bucket, before, after):
    with pytest.raises(InvalidS3URIError, match="empty"):
        parse_s3_uri(format_s3_uri(bucket, "/".join(before) + "//" + "/".join(after)))


@given(BUCKET, PREFIX, st.sampled_from(["\\", "\x00", "\n", "\x1b", "\x7f", "\u200b", "\u202e"]), PREFIX)
def test_backslashes_and_control_characters_are_refused(bucket, before, ch, after):
    with pytest.raises(InvalidS3URIError):
        parse_s3_uri(format_s3_uri(bucket, f"{before}{ch}{after}"))


@pytest.mark.parametrize(
    "uri",
    [
        "s3://",
        "s3:///x",
        "s3://a/x",
        "s3://UPPER/x",
        "s3://under_score",
        "s3://-x-/y",
        "s3://a..b/x",
        "s3://192.168.1.1/x",
        f"s3://{'b' * 64}/x",
        "http://bucket/x",
        f"s3://bucket/{'k' * 800}",
    ],
)
def test_bad_buckets_and_schemes_are_refused(uri):
    with pytest.raises(InvalidS3URIError) as info:
        parse_s3_uri(uri)
    assert repr(uri) in str(info.value)
