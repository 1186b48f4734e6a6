"""The local event source mapping against the local Kinesis (kinesalite, as `make up` runs it)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from localcloud.aws import AwsEmulator
from localcloud.kinesis import KinesisServer
from localcloud.lambdas import LocalFunction
from localcloud.poller import CheckpointStore, StreamPoller
from pulse.wiring import Function, StreamTrigger


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    kinesis = KinesisServer("127.0.0.1", 0, tmp_path_factory.mktemp("kinesis"))
    kinesis.start()
    emulator = AwsEmulator("127.0.0.1", 0, "us-east-1", endpoints={"kinesis": kinesis.endpoint})
    emulator.start()
    yield emulator
    emulator.stop()
    kinesis.stop()


class Recorder:
    """A function that records what it was given and fails on demand."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.fail_item: dict[str, int] = {}  # payload -> times left to report it failed
        self.raise_times = 0
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        import base64

        with self.lock:
            self.batches.append(event["Records"])
            if self.raise_times > 0:
                self.raise_times -= 1
                raise RuntimeError("function error")
            failures = []
            for rec in event["Records"]:
                payload = base64.b64decode(rec["kinesis"]["data"]).decode()
                if self.fail_item.get(payload, 0) > 0:
                    self.fail_item[payload] -= 1
                    failures.append({"itemIdentifier": rec["kinesis"]["sequenceNumber"]})
            return {"batchItemFailures": failures}


def _start(
    aws: AwsEmulator,
    tmp_path: Path,
    name: str,
    recorder: Recorder,
    checkpoints: CheckpointStore | None = None,
    poll_interval_s: float = 0.05,
    **trigger_kwargs: Any,
) -> tuple[StreamPoller, Any]:
    kinesis = aws.client("kinesis")
    try:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    except kinesis.exceptions.ResourceInUseException:
        pass  # a restart of the mapping on the same stream
    fn = LocalFunction(Function(name="rec", handler="x.y", description=""), "us-east-1")
    fn._handler = recorder
    trigger = StreamTrigger(function="rec", stream=name, **trigger_kwargs)
    poller = StreamPoller(
        aws=aws,
        trigger=trigger,
        stream_name=name,
        function=fn,
        failure_log=tmp_path / "failed.jsonl",
        checkpoints=checkpoints,
        poll_interval_s=poll_interval_s,
    )
    poller.start()
    return poller, kinesis


def _put(kinesis: Any, stream: str, payloads: list[str]) -> None:
    kinesis.put_records(
        StreamName=stream, Records=[{"Data": p.encode(), "PartitionKey": "k"} for p in payloads]
    )


def _wait(predicate: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _payloads(batch: list[dict[str, Any]]) -> list[str]:
    import base64

    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in batch]


def test_records_arrive_in_order_in_real_event_shape(aws, tmp_path) -> None:
    rec = Recorder()
    poller, kinesis = _start(
        aws, tmp_path, "s-order", rec, batch_size=10, max_batching_window_s=0.3
    )
    try:
        _put(kinesis, "s-order", [f"r{i}" for i in range(25)])
        _wait(lambda: sum(len(b) for b in rec.batches) >= 25)
        assert all(len(b) <= 10 for b in rec.batches)
        assert [p for b in rec.batches for p in _payloads(b)] == [f"r{i}" for i in range(25)]
        first = rec.batches[0][0]
        assert first["eventSource"] == "aws:kinesis"
        assert first["eventSourceARN"].endswith(":stream/s-order")
        assert first["eventID"].endswith(first["kinesis"]["sequenceNumber"])
        assert isinstance(first["kinesis"]["approximateArrivalTimestamp"], float)
    finally:
        poller.stop()


def test_partial_failure_retries_from_the_lowest_failed_record(aws, tmp_path) -> None:
    rec = Recorder()
    rec.fail_item = {"b": 1}
    poller, kinesis = _start(
        aws, tmp_path, "s-partial", rec, batch_size=10, max_batching_window_s=0.3
    )
    try:
        _put(kinesis, "s-partial", ["a", "b", "c"])
        _wait(lambda: len(rec.batches) >= 2)
        assert _payloads(rec.batches[0]) == ["a", "b", "c"]
        assert _payloads(rec.batches[1]) == ["b", "c"]
        time.sleep(0.5)
        assert len(rec.batches) == 2  # checkpointed past success: nothing more
    finally:
        poller.stop()


def test_exhausted_retries_go_to_the_failure_destination_and_the_shard_moves_on(
    aws, tmp_path
) -> None:
    rec = Recorder()
    rec.fail_item = {"poison": 99}
    poller, kinesis = _start(
        aws,
        tmp_path,
        "s-poison",
        rec,
        batch_size=10,
        max_batching_window_s=0.2,
        maximum_retry_attempts=2,
    )
    try:
        _put(kinesis, "s-poison", ["ok1", "poison", "ok2"])
        _wait(lambda: poller.failed_batches == 1)
        _put(kinesis, "s-poison", ["later"])
        _wait(lambda: any("later" in _payloads(b) for b in rec.batches))
        assert len(rec.batches) == 1 + 2 + 1  # first try, two retries, then the next batch
        [info] = [json.loads(line) for line in (tmp_path / "failed.jsonl").read_text().splitlines()]
        assert info["KinesisBatchInfo"]["batchSize"] == 1  # "ok2" was processed fine
        assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    finally:
        poller.stop()


def test_only_the_records_reported_failed_reach_the_failure_file_with_their_data(
    aws, tmp_path
) -> None:
    import base64

    # Given a batch where the function keeps reporting two records failed, the others fine
    rec = Recorder()
    rec.fail_item = {"poison-1": 99, "poison-2": 99}
    poller, kinesis = _start(
        aws,
        tmp_path,
        "s-failed-records",
        rec,
        batch_size=10,
        max_batching_window_s=0.2,
        maximum_retry_attempts=1,
    )
    try:
        kinesis.put_records(
            StreamName="s-failed-records",
            Records=[
                {"Data": payload.encode(), "PartitionKey": f"pk-{payload}"}
                for payload in ["ok1", "poison-1", "ok2", "poison-2", "ok3"]
            ],
        )
        # When the retries are exhausted
        _wait(lambda: poller.failed_batches == 1)
        _put(kinesis, "s-failed-records", ["later"])
        _wait(lambda: any("later" in _payloads(b) for b in rec.batches))
    finally:
        poller.stop()

    # Then the failure file lists those two, each with what it takes to replay it
    [info] = [json.loads(line) for line in (tmp_path / "failed.jsonl").read_text().splitlines()]
    sequence = {p: r["kinesis"]["sequenceNumber"] for r in rec.batches[0] for p in _payloads([r])}
    assert info["failedRecords"] == [
        {
            "sequenceNumber": sequence[payload],
            "partitionKey": f"pk-{payload}",
            "data": base64.b64encode(payload.encode()).decode(),
        }
        for payload in ["poison-1", "poison-2"]
    ]
    assert info["KinesisBatchInfo"]["batchSize"] == 2
    assert info["KinesisBatchInfo"]["startSequenceNumber"] == sequence["poison-1"]
    assert info["KinesisBatchInfo"]["endSequenceNumber"] == sequence["poison-2"]
    # and the shard went on past the batch: the records after it came once, the retried ones
    # only as long as the retries lasted
    delivered = [p for b in rec.batches for p in _payloads(b)]
    assert delivered.count("later") == 1 and delivered.count("ok3") == 2


def test_a_function_error_bisects_the_batch(aws, tmp_path) -> None:
    rec = Recorder()
    rec.raise_times = 1
    poller, kinesis = _start(
        aws, tmp_path, "s-bisect", rec, batch_size=10, max_batching_window_s=0.3
    )
    try:
        _put(kinesis, "s-bisect", ["a", "b", "c", "d"])
        _wait(lambda: len(rec.batches) >= 3)
        assert [_payloads(b) for b in rec.batches[:3]] == [
            ["a", "b", "c", "d"],
            ["a", "b"],
            ["c", "d"],
        ]
    finally:
        poller.stop()


def test_a_restarted_mapping_resumes_after_its_checkpoint(aws, tmp_path) -> None:
    # Given a mapping that processed two batches and kept its checkpoints in files
    store = CheckpointStore(tmp_path / "checkpoints")
    first = Recorder()
    poller, kinesis = _start(
        aws, tmp_path, "s-resume", first, store, batch_size=10, max_batching_window_s=0.2
    )
    try:
        _put(kinesis, "s-resume", ["a", "b"])
        _wait(lambda: sum(len(b) for b in first.batches) == 2)
        _put(kinesis, "s-resume", ["c"])
        _wait(lambda: sum(len(b) for b in first.batches) == 3)
    finally:
        poller.stop()
    # When records arrive while it is down, and a new mapping starts on the same checkpoints
    _put(kinesis, "s-resume", ["d", "e"])
    second = Recorder()
    poller, _ = _start(
        aws, tmp_path, "s-resume", second, store, batch_size=10, max_batching_window_s=0.2
    )
    try:
        # Then it gets only what came after the last finished batch, once
        _wait(lambda: sum(len(b) for b in second.batches) >= 2)
        time.sleep(0.5)
        assert [p for b in second.batches for p in _payloads(b)] == ["d", "e"]
    finally:
        poller.stop()


def test_a_checkpoint_of_a_stream_made_anew_is_not_used(tmp_path) -> None:
    store = CheckpointStore(tmp_path)
    store.save("s", "shardId-000000000000", "2026-11-30T10:00:00+00:00", "4960")
    assert store.load("s", "shardId-000000000000", "2026-11-30T10:00:00+00:00") == "4960"
    assert store.load("s", "shardId-000000000000", "2026-11-30T11:00:00+00:00") is None
    assert store.load("s", "shardId-000000000001", "2026-11-30T10:00:00+00:00") is None
    (tmp_path / "s.shardId-000000000000.json").write_text("{torn")
    assert store.load("s", "shardId-000000000000", "2026-11-30T10:00:00+00:00") is None


def test_an_item_identifier_not_in_the_batch_fails_the_whole_batch(aws, tmp_path) -> None:
    # Given a function that names, for one batch, an identifier that is no sequence number
    calls: list[list[str]] = []

    def bad_for_ab(event: dict[str, Any], context: Any) -> dict[str, Any]:
        payloads = _payloads(event["Records"])
        calls.append(payloads)
        if "a" in payloads:
            return {"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}
        return {"batchItemFailures": []}

    poller, kinesis = _start(
        aws,
        tmp_path,
        "s-badid",
        bad_for_ab,  # type: ignore[arg-type]
        batch_size=10,
        max_batching_window_s=0.2,
        maximum_retry_attempts=2,
    )
    try:
        # When the batch arrives
        _put(kinesis, "s-badid", ["a", "b"])
        _wait(lambda: poller.failed_batches == 1)
        # Then it was retried whole, as Lambda does, and went whole to the destination
        assert calls == [["a", "b"]] * 3
        [info] = [json.loads(x) for x in (tmp_path / "failed.jsonl").read_text().splitlines()]
        assert info["KinesisBatchInfo"]["batchSize"] == 2
        # and the shard goes on
        _put(kinesis, "s-badid", ["c"])
        _wait(lambda: ["c"] in calls)
    finally:
        poller.stop()


class CountingReads:
    """Wraps a Kinesis client: counts GetRecords calls."""

    def __init__(self, client: Any) -> None:
        self.client, self.reads = client, 0

    def get_records(self, **kwargs: Any) -> Any:
        self.reads += 1
        return self.client.get_records(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_a_shard_at_its_tip_is_read_at_most_once_a_poll_interval(aws, tmp_path) -> None:
    rec = Recorder()
    poller, kinesis = _start(aws, tmp_path, "s-pace", rec, poll_interval_s=0.25, batch_size=10)
    try:
        counting = CountingReads(poller.kinesis)
        poller.kinesis = counting
        time.sleep(1.6)  # empty: about 1.6 / 0.25 reads, not 1.6 / 0.05
        assert 4 <= counting.reads <= 8, counting.reads
        # A backlog is read without waiting between full batches: 60 records in batches of 10
        # take six reads in well under six intervals.
        _put(kinesis, "s-pace", [f"p{i}" for i in range(60)])
        started = time.monotonic()
        _wait(lambda: sum(len(b) for b in rec.batches) >= 60)
        assert time.monotonic() - started < 6 * 0.25 + 0.25
        assert _payloads([r for b in rec.batches for r in b]) == [f"p{i}" for i in range(60)]
    finally:
        poller.stop()
