"""The local Kinesis on its own: safe under concurrent writers, and durable across crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from localcloud.kinesis import KinesisServer
from tests.e2e.conftest import running

ROOT = Path(__file__).resolve().parents[2]
BATCH_SIZES = (1, 2, 3, 7, 10, 25, 50, 100)


def _client(server: KinesisServer) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        "kinesis",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _read_all(kinesis: Any, stream: str) -> list[bytes]:
    """Every record of every shard, from the start."""
    out: list[bytes] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            resp = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            out.extend(r["Data"] for r in resp["Records"])
            iterator = resp["NextShardIterator"]
            if not resp["Records"]:
                break
    return out


@pytest.fixture
def server(tmp_path: Path) -> Any:
    srv = KinesisServer("127.0.0.1", 0, tmp_path / "kinesis")
    srv.start()
    yield srv
    srv.stop()


def test_concurrent_put_records_keep_every_record_under_its_own_sequence_number(server) -> None:
    # Given a stream with two shards and 16 writers, each with a client of its own
    kinesis = _client(server)
    kinesis.create_stream(StreamName="s", ShardCount=2)
    clients, calls = 16, 40
    sequence_numbers: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def writer(w: int) -> None:
        own = _client(server)
        start.wait()
        for c in range(calls):
            size = BATCH_SIZES[(w + c) % len(BATCH_SIZES)]
            records = [
                {"Data": f"{w}-{c}-{i}".encode(), "PartitionKey": f"p{w}-{i}"} for i in range(size)
            ]
            resp = own.put_records(StreamName="s", Records=records)
            assert resp["FailedRecordCount"] == 0
            with lock:
                sequence_numbers.extend(r["SequenceNumber"] for r in resp["Records"])

    # When they all put records at once
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then each record got a sequence number of its own, and every one can be read back once
    expected = {
        f"{w}-{c}-{i}".encode()
        for w in range(clients)
        for c in range(calls)
        for i in range(BATCH_SIZES[(w + c) % len(BATCH_SIZES)])
    }
    assert len(sequence_numbers) == len(expected)
    assert len(set(sequence_numbers)) == len(sequence_numbers)
    read = Counter(_read_all(kinesis, "s"))
    assert set(read) == expected
    assert set(read.values()) == {1}


def test_acknowledged_records_survive_a_kill_of_the_server(tmp_path: Path) -> None:
    # Given records the server acknowledged
    first = KinesisServer("127.0.0.1", 0, tmp_path / "kinesis")
    first.start()
    kinesis = _client(first)
    kinesis.create_stream(StreamName="s", ShardCount=1)
    payloads = [f"r{i}".encode() for i in range(300)]
    for start in range(0, len(payloads), 100):
        kinesis.put_records(
            StreamName="s",
            Records=[{"Data": p, "PartitionKey": "k"} for p in payloads[start : start + 100]],
        )
    # When the server is killed outright and another starts on the same folder
    assert first._process is not None
    os.kill(first._process.pid, signal.SIGKILL)
    first._process.wait(5)
    second = KinesisServer("127.0.0.1", 0, tmp_path / "kinesis")
    second.start()
    try:
        # Then the stream and every record are there
        assert _read_all(_client(second), "s") == payloads
    finally:
        second.stop()


STARTER = """
import sys, time
sys.path.insert(0, {localstack!r})
from pathlib import Path
from localcloud.kinesis import KinesisServer
server = KinesisServer("127.0.0.1", 0, Path({folder!r}))
server.start()
print(server._process.pid, flush=True)
time.sleep(60)
"""


def test_the_server_stops_by_itself_when_the_runtime_is_killed(tmp_path: Path) -> None:
    # Given a runtime (here a small Python process) that started the local Kinesis
    runtime = subprocess.Popen(
        [
            sys.executable,
            "-c",
            STARTER.format(localstack=str(ROOT / "localstack"), folder=str(tmp_path / "k")),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert runtime.stdout is not None
    server_pid = int(runtime.stdout.readline())
    # When the runtime is killed with SIGKILL (no chance to stop its children)
    runtime.kill()
    runtime.wait(5)
    # Then the server notices and exits, releasing its store for the next start
    deadline = time.monotonic() + 5
    while running(server_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(server_pid), "the local Kinesis outlived its runtime"
    again = KinesisServer("127.0.0.1", 0, tmp_path / "k")
    again.start()
    again.stop()


def test_data_written_by_the_stream_is_base64_free_bytes(server) -> None:
    """PutRecords takes bytes and GetRecords gives the same bytes back (no double encoding)."""
    kinesis = _client(server)
    kinesis.create_stream(StreamName="b", ShardCount=1)
    blob = bytes(range(256))
    kinesis.put_records(StreamName="b", Records=[{"Data": blob, "PartitionKey": "k"}])
    assert _read_all(kinesis, "b") == [blob]
