"""Where the archive's files live: a directory (the local runtime, tests) or an S3 bucket (AWS),
whose objects a reader copies into a local cache of bounded size. A file is never changed once
written (a day written again gets a new key), so a cached copy is always good."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pulse.settings import get_settings


class Store(Protocol):
    def put(self, key: str, source: Path) -> None:
        """Store the file ``source`` under ``key``."""

    def local_path(self, key: str) -> Path:
        """A local file holding ``key``'s bytes, for DuckDB to read."""

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens when it is not there."""

    def missing(self, keys: Callable[[], list[str]]) -> list[str]:
        """Those of the keys ``keys()`` lists known to be gone (a directory removed by hand); a
        store that cannot tell cheaply says none, without asking for the keys."""


class DirectoryStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
        shutil.copyfile(source, partial)
        os.replace(partial, target)  # readers never see half a file

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def missing(self, keys: Callable[[], list[str]]) -> list[str]:
        return [k for k in keys() if not self._path(k).is_file()]


class S3Store:
    """Objects in ``bucket``; ``local_path`` downloads into ``cache`` once, then evicts the
    least recently used copies when the cache is over ``cache_bytes``."""

    def __init__(self, bucket: str, cache: Path, cache_bytes: int, client: Any = None) -> None:
        self.bucket = bucket
        self.cache = cache
        self.cache_bytes = cache_bytes
        self._client = client
        self._lock = threading.Lock()
        cache.mkdir(parents=True, exist_ok=True)

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def put(self, key: str, source: Path) -> None:
        self.client.upload_file(str(source), self.bucket, key)

    def local_path(self, key: str) -> Path:
        target = self.cache / key
        if target.exists():
            os.utime(target)  # recently used
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
        self.client.download_file(self.bucket, key, str(partial))
        os.replace(partial, target)
        self._evict(keep=target)
        return target

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)
        (self.cache / key).unlink(missing_ok=True)

    def missing(self, keys: Callable[[], list[str]]) -> list[str]:
        return []  # a request per key: the bucket's objects are deleted by the writer alone

    def _evict(self, keep: Path) -> None:
        with self._lock:
            files = [p for p in self.cache.rglob("*.parquet") if p.is_file()]
            total = sum(p.stat().st_size for p in files)
            for p in sorted(files, key=lambda p: p.stat().st_mtime):
                if total <= self.cache_bytes:
                    break
                if p != keep:
                    total -= p.stat().st_size
                    p.unlink(missing_ok=True)


_stores: dict[tuple[str, str, str, int], Store] = {}


def get_store() -> Store | None:
    """The archive's store as the settings say, or None when there is no archive."""
    s = get_settings()
    spec = (s.archive_dir, s.archive_bucket, s.archive_cache_dir, s.archive_cache_mb)
    if not s.archive_dir and not s.archive_bucket:
        return None
    if spec not in _stores:
        _stores[spec] = (
            S3Store(s.archive_bucket, Path(s.archive_cache_dir), s.archive_cache_mb << 20)
            if s.archive_bucket
            else DirectoryStore(Path(s.archive_dir))
        )
    return _stores[spec]
