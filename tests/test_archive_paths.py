"""The crawl's working directory (newsarchive/workdir.py): keys are checked, links are never
followed and are moved aside, finished files are never replaced; S3 URIs are checked too."""

from __future__ import annotations

import os
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarchive.storage.s3 import InvalidS3URIError, format_s3_uri, parse_s3_uri
from newsarchive.workdir import FinalExistsError, UnsafePathError, WorkDir, publish, sweep_links, warc_key

RUN = "20261127T000000Z-0000abcd"


@pytest.mark.parametrize("key", ["", "a//b", "a/./b", "../x", "a/../../x", "a\\b", "a/\x00", "/abs"])
def test_a_key_that_is_not_a_plain_relative_path_is_refused(tmp_path, key):
    with pytest.raises(UnsafePathError):
        WorkDir(tmp_path).path(key)


def test_a_path_through_a_link_is_refused_and_listings_do_not_follow_it(tmp_path):
    root, outside = tmp_path / "archive", tmp_path / "outside"
    (outside / "date=2022-01-01").mkdir(parents=True)
    (outside / "date=2022-01-01" / f"{RUN}-0.warc.gz").write_bytes(b"outside")
    root.mkdir()
    (root / "warc").symlink_to(outside, target_is_directory=True)
    (root / "warehouse").mkdir()
    (root / "warehouse" / "articles").symlink_to(outside, target_is_directory=True)
    workdir = WorkDir(root.resolve())
    with pytest.raises(UnsafePathError, match="warc is a symbolic link"):
        workdir.path(f"warc/date=2022-01-01/{RUN}-0.warc.gz")
    with pytest.raises(UnsafePathError, match="warehouse/articles is a symbolic link"):
        workdir.path("warehouse/articles/data/x.parquet")
    assert workdir.warc_files() == [] and workdir.files("warc") == [] and workdir.files("warehouse") == []
    assert workdir.links() == ["warc", "warehouse/articles"]


def test_links_are_moved_aside_not_followed_and_named_once(tmp_path):
    root, outside = tmp_path / "archive", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("not archive data")
    (root / "warehouse").mkdir(parents=True)
    (root / "warc").symlink_to(outside, target_is_directory=True)
    (root / "catalog.db").symlink_to(outside / "secret")
    (root / "warehouse" / "x.parquet").symlink_to(outside / "secret")
    workdir = WorkDir(root.resolve())
    moved = sweep_links(workdir, RUN)
    assert sorted(m.split(" ->")[0] for m in moved) == [
        "symbolic link catalog.db",
        "symbolic link warc",
        "symbolic link warehouse/x.parquet",
    ]
    assert all("moved aside" in m and str(outside) in m for m in moved)
    assert not (root / "warc").exists() and (root / f".warc.link-{RUN}").is_symlink()
    assert (root / "warehouse" / f".x.parquet.link-{RUN}").is_symlink()
    assert sweep_links(workdir, "20261127T000000Z-00000002") == []  # each link reported once
    assert workdir.links() == sorted(
        [f".catalog.db.link-{RUN}", f".warc.link-{RUN}", f"warehouse/.x.parquet.link-{RUN}"]
    )
    workdir.path("warc/date=2022-01-01").mkdir(parents=True)  # a real directory now takes its place
    assert (root / "warc").is_dir() and not (root / "warc").is_symlink()
    assert os.listdir(outside) == ["secret"] and (outside / "secret").read_text() == "not archive data"


def test_finished_warc_files_are_listed_not_temporary_or_hidden_ones(tmp_path):
    workdir = WorkDir(tmp_path)
    final = workdir.path(warc_key(date(2026, 11, 27), RUN, 0))
    final.parent.mkdir(parents=True)
    final.write_bytes(b"w")
    (final.parent / f".{RUN}-1.warc.gz.tmp").write_bytes(b"t")
    assert workdir.warc_files() == [f"warc/date=2026-11-27/{RUN}-0.warc.gz"]
    with pytest.raises(ValueError, match="invalid run id"):
        warc_key(date(2026, 11, 27), "../x", 0)


def test_no_writer_replaces_a_finished_file(tmp_path):
    final = tmp_path / f"{RUN}-0.warc.gz"
    final.write_bytes(b"archived")
    tmp = tmp_path / f".{RUN}-0.warc.gz.tmp"
    tmp.write_bytes(b"new")
    with pytest.raises(FinalExistsError):
        publish(tmp, final)
    assert final.read_bytes() == b"archived"
    other = tmp_path / f"{RUN}-1.warc.gz"
    publish(tmp, other)
    assert other.read_bytes() == b"new" and not tmp.exists()


@pytest.mark.parametrize("uri", ["s3://bucket/archive", "gs://bucket/x", "https://host/x"])
def test_the_working_directory_is_local(uri):
    with pytest.raises(ValueError, match="local directory"):
        WorkDir.from_uri(uri)
    assert WorkDir.from_uri("file:///tmp/a").root.as_posix() == "/tmp/a"


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
