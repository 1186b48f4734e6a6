"""The archive's stores: a directory, and an S3 bucket (moto) read through a bounded cache."""

from __future__ import annotations

import os
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from pulse.archive.store import DirectoryStore, S3Store


def _file(tmp_path: Path, name: str, size: int) -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


def test_a_directory_store_keeps_whole_files_under_their_keys(tmp_path) -> None:
    store = DirectoryStore(tmp_path / "archive")
    source = _file(tmp_path, "a.parquet", 1000)
    store.put("p1/2026-02-01-1.parquet", source)
    kept = store.local_path("p1/2026-02-01-1.parquet")
    assert kept.read_bytes() == source.read_bytes()
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no partial file left
    store.delete("p1/2026-02-01-1.parquet")
    store.delete("p1/2026-02-01-1.parquet")  # gone already: nothing happens
    assert not kept.exists()


@pytest.fixture
def bucket():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="archive")
        yield client


def test_an_s3_store_downloads_once_and_keeps_its_cache_under_its_size(tmp_path, bucket) -> None:
    store = S3Store("archive", tmp_path / "cache", cache_bytes=2500, client=bucket)
    files = {f"p/{i}.parquet": _file(tmp_path, f"{i}.parquet", 1000) for i in range(4)}
    for key, path in files.items():
        store.put(key, path)
    assert sorted(o["Key"] for o in bucket.list_objects_v2(Bucket="archive")["Contents"]) == sorted(
        files
    )
    first = store.local_path("p/0.parquet")
    assert first.read_bytes() == files["p/0.parquet"].read_bytes()
    bucket.delete_object(Bucket="archive", Key="p/0.parquet")
    assert store.local_path("p/0.parquet") == first  # read from the cache, not the bucket
    for i in (1, 2, 3):
        time.sleep(0.01)  # distinct times of last use
        store.local_path(f"p/{i}.parquet")
    cached = sorted(p.name for p in (tmp_path / "cache" / "p").glob("*.parquet"))
    assert cached == ["2.parquet", "3.parquet"]  # the least recently used went first
    store.delete("p/3.parquet")
    assert not (tmp_path / "cache" / "p" / "3.parquet").exists()
    assert "Contents" in bucket.list_objects_v2(Bucket="archive")
    assert {o["Key"] for o in bucket.list_objects_v2(Bucket="archive")["Contents"]} == {
        "p/1.parquet",
        "p/2.parquet",
    }
