"""Benchmark 5: ``compact_rows_per_s``, ``upload_mb_per_s`` and ``upload_vs_boto3_ratio``,
against an embedded SeaweedFS on 127.0.0.1 (:mod:`newsarchive.seaweed`).

* Upload: the query dataset's archive (one run, its manifest) with the real
  :func:`~newsarchive.storage.sync.upload_archive` (HEAD, PUT with SHA-256, HEAD to verify,
  manifest last), against a plain ``boto3`` ``upload_file`` of the same files, one after
  the other, with the same client configuration. Runs interleaved, fresh prefixes each time.
  Also one large file (multipart) through ``S3Store.put_file`` (which hashes it first).
* Compaction: a bucket holding many small parts (``runs`` runs x days, a few rows each,
  some versions fetched twice) compacted by the real
  :func:`~newsarchive.archive.compact.compact`; rows read per second.
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
from newsarchive.archive.compact import compact
from newsarchive.archive.files import WrittenFile, sha256_file
from newsarchive.archive.index import write_index_part
from newsarchive.archive.layout import Layout
from newsarchive.archive.manifest import write_manifest
from newsarchive.runid import new_run_id
from newsarchive.seaweed import SeaweedFS
from newsarchive.storage.store import S3Store
from newsarchive.storage.sync import upload_archive
from newsarchive.timeparse import utcnow

GOAL = 0.9
BUCKET = "bench"
MiB = 2**20
Log = Callable[[str], None]


def manifest_for(layout: Layout, run_id: str, files: list[Path], kind: str = "articles") -> None:
    """A run manifest naming ``files``, so that ``upload_archive`` takes them as a run."""
    written = [
        WrittenFile(p.relative_to(layout.root).as_posix(), kind, sha256_file(p), p.stat().st_size) for p in files
    ]
    now = utcnow().isoformat()
    write_manifest(
        layout,
        {
            "run_id": run_id,
            "spider": "bench",
            "source": "finews",
            "status": "complete",
            "started_at": now,
            "finished_at": now,
            "files": [f.to_json() for f in written],
        },
    )


def _boto_upload(client: Any, files: list[tuple[Path, str]], bucket: str) -> None:
    for path, key in files:
        client.upload_file(str(path), bucket, key)


def upload(s3: SeaweedFS, data: Dataset, plan: Plan, work: Path, log: Log) -> list[Result]:
    layout = Layout.from_uri(str(data.archive))
    run_id = new_run_id(utcnow())
    manifest_for(layout, run_id, data.parquet_files)
    files = [(p, p.relative_to(layout.root).as_posix()) for p in data.parquet_files]
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
                report = upload_archive(layout, store)
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
        f"  upload_archive {median(ours):.1f} MiB/s, boto3 upload_file {median(plain):.1f} MiB/s; "
        f"one {size // MiB} MiB file: put_file {big_ours:.1f}, upload_file {big_plain:.1f} MiB/s"
    )
    details = {
        "files": len(files),
        "bytes": total,
        "mean_file_mib": rounded(total / len(files) / MiB, 2),
        "repeats": plan.upload_repeats,
        "upload_archive_mib_s": [rounded(x, 1) for x in ours],
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
            note=f"{len(files)} archive files of {total / len(files) / MiB:.1f} MiB on average, SHA-256 sent "
            "and verified, manifest last",
            details=details,
        ),
        Result(
            name="upload_vs_boto3_ratio",
            value=rounded(ratio),
            unit="ratio",
            goal=f">= {GOAL}",
            met=ratio >= GOAL,
            note=(
                "upload_archive (HEAD, PUT with SHA-256, HEAD) vs boto3 upload_file (one PUT) of the same "
                "files; the server checks each SHA-256 on the same cores. One large file (multipart, "
                f"hashed first): {big_ours / big_plain:.2f}"
            ),
            details=details,
        ),
    ]


def small_parts(plan: Plan, work: Path) -> tuple[Path, int]:
    """An archive of many small parts: ``compact_runs`` runs, each a few rows per day,
    every 20th row fetched again by the next run (a version compaction must collapse)."""
    root = work / "small-parts"
    layout = Layout.from_uri(str(root))
    n = plan.compact_runs * plan.compact_days * plan.compact_rows_per_part
    per_day = max(1, n // plan.compact_days)
    all_rows = list(rows(n, DEFAULT_SEED + 1, per_day=per_day))
    per_run: list[list[dict[str, Any]]] = [[] for _ in range(plan.compact_runs)]
    for i, row in enumerate(all_rows):
        per_run[i % plan.compact_runs].append(row)
        if i % 20 == 0:
            per_run[(i + 1) % plan.compact_runs].append(dict(row))
    written = 0
    for run_rows in per_run:
        run_id = new_run_id(utcnow())
        files = write_archive(root, run_rows, run_id, row_group_size=1000)
        index = write_index_part(
            layout,
            "finews",
            run_id,
            [{k: r[k] for k in ("source", "source_id", "content_sha256", "published_at")} for r in run_rows],
        )
        manifest_for(layout, run_id, files)
        written += len(run_rows)
        del index
    return root, written


def compaction(s3: SeaweedFS, plan: Plan, work: Path, log: Log) -> Result:
    root, written = small_parts(plan, work)
    layout = Layout.from_uri(str(root))
    store = S3Store(f"s3://{BUCKET}/compact", s3.config)
    upload_archive(layout, store)
    # the index parts are not named by these manifests: put them there too
    for path in sorted((root / "index").rglob("*.parquet")):
        store.put_file(path, path.relative_to(root).as_posix())
    parts = sum(1 for o in store.objects("articles/") if o.key.endswith(".parquet"))
    started = time.perf_counter()
    report = compact(store, workdir=work)
    seconds = time.perf_counter() - started
    rate = report.rows_before / seconds
    log(
        f"  compacted {report.rows_before} rows in {parts} parts ({report.partitions} partitions) "
        f"to {report.rows_after} rows in {seconds:.2f}s"
    )
    shutil.rmtree(root, ignore_errors=True)
    return Result(
        name="compact_rows_per_s",
        value=rounded(rate, 1),
        unit="rows/s",
        goal="reported",
        note=f"{parts} article parts of ~{plan.compact_rows_per_part} rows and their index parts, in the bucket",
        details={
            "rows_written": written,
            "rows_before": report.rows_before,
            "rows_after": report.rows_after,
            "article_parts": parts,
            "partitions": report.partitions,
            "files_replaced": len(report.replaces),
            "seconds": rounded(seconds, 2),
        },
    )


def run(data: Dataset, plan: Plan, work: Path, log: Log) -> list[Result]:
    log("storage benchmarks: SeaweedFS on 127.0.0.1")
    (work / "seaweedfs").mkdir(parents=True, exist_ok=True)
    with SeaweedFS(work / "seaweedfs", bucket=BUCKET) as s3:
        results = upload(s3, data, plan, work, log)
        results.insert(0, compaction(s3, plan, work, log))
    return results
