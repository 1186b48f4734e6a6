"""A poison record on the running platform: a record no processor can read, put straight onto
the stream between good batches (ingest never writes one; another producer or a bug could). It
is retried, the batch bisected, the record parked at the on-failure destination with its data,
and the shard moves on: every good event is stored once and the live feed goes on.

The parts are proven one by one in tests/integration/test_stream_poller.py (retry from the
lowest failed record, bisection on a function error, exhausted retries to the on-failure
destination, the shard moving on) and tests/integration/test_poison_records.py (the processor
isolating a record the database refuses by halving, other projects keeping their events).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import boto3
import pytest

from localcloud.aws import resource_name
from pulse.wiring import WIRING
from tests.e2e.conftest import LocalStack
from tests.e2e.test_realtime_flow import ingest
from tests.faults.conftest import assert_exactly_once, assert_live_feed_resumes, wait_until

pytestmark = pytest.mark.e2e

POISON = b"\xffnot a record of this platform"


def _kinesis(stack: LocalStack) -> tuple[object, str]:
    printed = "".join(stack.output)
    endpoint = re.search(r"\(Kinesis: (http://[^,]+), on disk\)", printed)
    assert endpoint, "the runtime did not print its Kinesis endpoint"
    client = boto3.client(
        "kinesis",
        endpoint_url=endpoint.group(1),
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return client, resource_name(WIRING.streams[0].name)


def _parked(data_dir: Path) -> list[bytes]:
    path = data_dir / "failed-batches.jsonl"
    if not path.exists():
        return []
    return [
        base64.b64decode(record["data"])
        for line in path.read_text().splitlines()
        for record in json.loads(line).get("failedRecords", [])
    ]


def test_a_poison_record_is_parked_and_the_shard_moves_on(
    stack_on_throwaway: LocalStack,
) -> None:
    stack = stack_on_throwaway
    project = stack.new_project("Poison")
    kinesis, stream = _kinesis(stack)
    # Given good batches before and after a poison record on the same shard
    accepted = ingest(stack, project["api_key"], n=20, name="before")
    kinesis.put_record(StreamName=stream, Data=POISON, PartitionKey=f"{project['id']}:s")  # type: ignore[attr-defined]
    for _ in range(3):
        accepted += ingest(stack, project["api_key"], n=20, name="after")
    # Then the poison record is parked with its data, and the events behind it are stored once
    assert wait_until(lambda: POISON in _parked(stack.data_dir), 30)  # type: ignore[attr-defined]
    assert_exactly_once(stack.database_url, project["id"], set(accepted), set(accepted), 30)
    assert_live_feed_resumes(stack, project)
