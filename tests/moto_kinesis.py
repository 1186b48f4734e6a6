"""An in-process Kinesis stream (moto) for tests, safe to call from several threads.

moto gives a new record ``max(sequence number) + 1`` and stores it in a dict, with no lock: two
threads putting at once can take the same number, and one record silently replaces the other
(../shared/FINDINGS.md). Real Kinesis and the local runtime's emulator do not do this, so the
publisher's client here takes one call at a time, and a test of concurrent requests counts what
the product did rather than what moto lost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto import mock_aws

from pulse.ingest import publisher


class OneCallAtATime:
    """A client whose methods run under one lock."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return call


@contextmanager
def mocked_stream(name: str, *, shards: int = 2) -> Iterator[Any]:
    """A fresh moto stream; the publisher writes to it one call at a time. Yields a client."""
    with mock_aws():
        client = boto3.client("kinesis")
        client.create_stream(StreamName=name, ShardCount=shards)
        publisher._client = OneCallAtATime(boto3.client("kinesis"))
        try:
            yield client
        finally:
            publisher._client = None
