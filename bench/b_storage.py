"""Benchmark 5: ``compact_rows_per_s``, ``upload_mb_per_s`` and ``upload_vs_boto3_ratio``.

* Upload (against an embedded SeaweedFS on 127.0.0.1, :mod:`newsarchive.samples.seaweed`): files of
  the query dataset's size laid out as a run's WARC files, sent with the real
  :func:`~newsarchive.storage.upload.upload_warc` (HEAD, PUT with SHA-256, HEAD to verify),
  against a plain ``boto3`` ``upload_file`` of the same files, one after the other, with the
  same client configuration. Runs interleaved, fresh prefixes each time. Also one large file
  (multipart) through ``S3Store.put_file`` (which hashes it first).
* Compaction: an ``articles`` table of many small files (``runs`` commits x days, a few rows
  each), built through the project's own commit path in an embedded catalog, maintained by
  the real :func:`~newsarchive.tables.maintain.maintain`; rows rewritten per second.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.generator import DEFAULT_SEED
from bench.plan import Plan
from bench.rows import Dataset, rows, write_archive
from bench.stats import Result, median, rounded
from newsarchive.runid import new_run_id
from newsarchive.samples.seaweed import SeaweedFS
from newsarchive.storage.store import S3Store
from newsarchive.storage.upload import upload_warc
from newsarchive.timeparse import utcnow

GOAL = 0.9
BUCKET = "bench"
MiB = 2**20
Log = Callable[[str], None]


def as_warc_files(data: Dataset, work: Path) -> tuple[Path, list[tuple[Path, str]]]:
    """The dataset's files (hard links, no copy) under ``<root>/warc/`` as a run's WARC files
    would lie: what ``upload_warc`` sends; (root, [(path, key)])."""
    root = work / "warc-run"
    run_id = new_run_id(utcnow())
    files = []
    for n, path in enumerate(data.parquet_files):
        key = f"date=2026-01-01/{run_id}-{n}.warc.gz"
        target = root / "warc" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)
        files.append((target, key))
    return root, files


def _boto_upload(client: Any, files: list[tuple[Path, str]], bucket: str) -> None:
    for path, key in files:
        client.upload_file(str(path), bucket, key)


def upload(s3: SeaweedFS, data: Dataset, plan: Plan, work: Path, log: Log) -> list[Result]:
    root, files = as_warc_files(data, work)
    total = sum(p.stat().st_size for p, _ in files)
    client = s3.config.client()
    # Warm up: SeaweedFS grows its volumes on the first writes; neither side should pay for it.
    warm = S3Store(f"s3://{BUCKET}/warm-up", s3.config)
    for path, key in files[:3]:
        warm.put_file(path, key)
        client.upload_file(str(path), BUCKET, f"warm-up-plain/{key}")
    ours: list[float] = []
    plain: list[float] = []
    # Clients are made before the clock starts, on both sides (a boto3 client takes ~0.1 s).
    stores = [S3Store(f"s3://{BUCKET}/upload-{i}", s3.config) for i in range(plan.upload_repeats)]
    for i, store in enumerate(stores):
        for which in ("ours", "plain") if i % 2 == 0 else ("plain", "ours"):
            started = time.perf_counter()
            if which == "ours":
                report = upload_warc(root, store)
                assert report.bytes_uploaded == total, report
                ours.append(total / MiB / (time.perf_counter() - started))
            else:
                _boto_upload(client, [(p, f"plain-{i}/{k}") for p, k in files], BUCKET)
                plain.append(total / MiB / (time.perf_counter() - started))
    # One large file: the multipart path, hashing included.
    big = work / "large.bin"
    size = max(8 * MiB, min(256 * MiB, total))
    with big.open("wb") as fh:
        fh.write(os.urandom(size))
    store = S3Store(f"s3://{BUCKET}/large", s3.config, multipart_threshold=64 * MiB)
    started = time.perf_counter()
    store.put_file(big, "large-ours.bin")
    big_ours = size / MiB / (time.perf_counter() - started)
    started = time.perf_counter()
    client.upload_file(str(big), BUCKET, "large/large-plain.bin")
    big_plain = size / MiB / (time.perf_counter() - started)
    big.unlink()
    ratio = median(ours) / median(plain)
    log(
        f"  upload_warc {median(ours):.1f} MiB/s, boto3 upload_file {median(plain):.1f} MiB/s; "
        f"one {size // MiB} MiB file: put_file {big_ours:.1f}, upload_file {big_plain:.1f} MiB/s"
    )
    details = {
        "files": len(files),
        "bytes": total,
        "mean_file_mib": rounded(total / len(files) / MiB, 2),
        "repeats": plan.upload_repeats,
        "upload_warc_mib_s": [rounded(x, 1) for x in ours],
        "boto3_upload_file_mib_s": [rounded(x, 1) for x in plain],
        "large_file_mib": size // MiB,
        "large_put_file_mib_s": rounded(big_ours, 1),
        "large_boto3_upload_file_mib_s": rounded(big_plain, 1),
        "large_ratio": rounded(big_ours / big_plain),
    }
    return [
        Result(
            name="upload_mb_per_s",
            value=rounded(median(ours), 1),
            unit="MiB/s",
            goal="reported",
            note=f"{len(files)} WARC files of {total / len(files) / MiB:.1f} MiB on average, SHA-256 sent and verified",
            details=details,
        ),
        Result(
            name="upload_vs_boto3_ratio",
            value=rounded(ratio),
            unit="ratio",
            goal=f">= {GOAL}",
            met=ratio >= GOAL,
            note=(
                "upload_warc (HEAD, PUT with SHA-256, HEAD) vs boto3 upload_file (one PUT) of the same "
                "files; the server checks each SHA-256 on the same cores. One large file (multipart, "
                f"hashed first): {big_ours / big_plain:.2f}"
            ),
            details=details,
        ),
    ]


def small_files(plan: Plan, work: Path) -> tuple[Path, int]:
    """A table of many small files: ``compact_runs`` commits, each a few rows per day."""
    root = work / "small-files"
    n = plan.compact_runs * plan.compact_days * plan.compact_rows_per_part
    per_day = max(1, n // plan.compact_days)
    all_rows = list(rows(n, DEFAULT_SEED + 1, per_day=per_day))
    per_run: list[list[dict[str, Any]]] = [[] for _ in range(plan.compact_runs)]
    for i, row in enumerate(all_rows):
        per_run[i % plan.compact_runs].append(row)
    for run_rows in per_run:
        write_archive(root, run_rows, new_run_id(utcnow()), row_group_size=1000)
    return root, n


def compaction(plan: Plan, work: Path, log: Log) -> Result:
    from newsarchive.tables.catalog import resolve
    from newsarchive.tables.maintain import Options, maintain

    root, written = small_files(plan, work)
    spec = resolve(str(root))
    started = time.perf_counter()
    (report,) = maintain(spec.open(), spec.namespace, tables=["articles"], options=Options())
    seconds = time.perf_counter() - started
    rate = report.rows / seconds if seconds else 0.0
    log(
        f"  compacted {report.rows} rows in {report.files_before} files ({report.partitions} partitions) "
        f"to {report.files_after} files in {seconds:.2f}s"
    )
    shutil.rmtree(root, ignore_errors=True)
    return Result(
        name="compact_rows_per_s",
        value=rounded(rate, 1),
        unit="rows/s",
        goal="reported",
        note=(
            f"{report.files_before} files of ~{plan.compact_rows_per_part} rows from {plan.compact_runs} commits "
            f"rewritten as {report.files_after} (zstd 19, sorted); bytes {report.bytes_before} -> "
            f"{report.bytes_after}, gzip JSONL of the same rows {report.gzip_jsonl_bytes}"
        ),
        details={
            "rows_written": written,
            "rows": report.rows,
            "files_before": report.files_before,
            "files_after": report.files_after,
            "partitions": report.partitions,
            "bytes_before": report.bytes_before,
            "bytes_after": report.bytes_after,
            "gzip_jsonl_bytes": report.gzip_jsonl_bytes,
            "archive_vs_gzip_jsonl": rounded(report.bytes_after / report.gzip_jsonl_bytes)
            if report.gzip_jsonl_bytes
            else None,
            "seconds": rounded(seconds, 2),
        },
    )


def run(data: Dataset, plan: Plan, work: Path, log: Log) -> list[Result]:
    log("storage benchmarks: SeaweedFS on 127.0.0.1")
    (work / "seaweedfs").mkdir(parents=True, exist_ok=True)
    with SeaweedFS(work / "seaweedfs", bucket=BUCKET) as s3:
        results = upload(s3, data, plan, work, log)
    results.insert(0, compaction(plan, work, log))
    return results
