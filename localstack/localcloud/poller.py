"""A local Lambda event source mapping for Kinesis.

Per shard, in order: read up to ``batch_size`` records, waiting at most the batching window once
the first record is in; invoke the function with a real Kinesis event (base64 data, sequence
numbers, approximate arrival time); checkpoint only past success. With ReportBatchItemFailures
the batch is retried from the lowest failed sequence number; a function error bisects the batch
(when configured); past ``maximum_retry_attempts`` the batch's description goes to the on-failure
destination (a JSON-lines file under the data folder) and the shard moves on.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from localcloud.aws import AwsEmulator
from localcloud.lambdas import ACCOUNT_ID, LocalFunction
from pulse.wiring import StreamTrigger

log = logging.getLogger("localcloud.poller")

IDLE_POLL_S = 0.05
RETRY_BACKOFF_S = 0.2


def kinesis_event(
    records: list[dict[str, Any]], *, shard_id: str, stream_arn: str, region: str
) -> dict[str, Any]:
    """The event a Lambda function receives from a Kinesis event source mapping."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r["PartitionKey"],
                    "sequenceNumber": r["SequenceNumber"],
                    "data": base64.b64encode(r["Data"]).decode(),
                    "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{r['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT_ID}:role/pulse-processor",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for r in records
        ]
    }


class ShardConsumer:
    def __init__(self, mapping: StreamPoller, shard_id: str) -> None:
        self.mapping = mapping
        self.shard_id = shard_id
        self.checkpoint: str | None = None  # last sequence number processed for good
        self.invocations = 0
        self._thread = threading.Thread(target=self._run, name=f"poller-{shard_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _iterator(self) -> str:
        kinesis, stream = self.mapping.kinesis, self.mapping.stream_name
        if self.checkpoint:
            kwargs = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": self.checkpoint,
            }
        else:
            kwargs = {"ShardIteratorType": self.mapping.trigger.starting_position}
        return str(
            kinesis.get_shard_iterator(StreamName=stream, ShardId=self.shard_id, **kwargs)[
                "ShardIterator"
            ]
        )

    def _run(self) -> None:
        stop = self.mapping.stopping
        iterator: str | None = None
        while not stop.is_set():
            try:
                if iterator is None:
                    iterator = self._iterator()
                batch, iterator = self._read_batch(iterator)
                if batch:
                    self._deliver(batch)
                    self.checkpoint = batch[-1]["SequenceNumber"]
            except Exception:
                if stop.is_set():
                    return
                log.exception(
                    "shard %s: polling failed; resuming from the checkpoint", self.shard_id
                )
                iterator = None
                stop.wait(1.0)

    def _read_batch(self, iterator: str) -> tuple[list[dict[str, Any]], str]:
        trigger, stop = self.mapping.trigger, self.mapping.stopping
        batch: list[dict[str, Any]] = []
        first_at = 0.0
        while not stop.is_set():
            resp = self.mapping.kinesis.get_records(
                ShardIterator=iterator, Limit=trigger.batch_size - len(batch)
            )
            iterator = resp["NextShardIterator"]
            if resp["Records"] and not batch:
                first_at = time.monotonic()
            batch.extend(resp["Records"])
            if len(batch) >= trigger.batch_size:
                break
            if batch and time.monotonic() - first_at >= trigger.max_batching_window_s:
                break
            if not resp["Records"]:
                stop.wait(IDLE_POLL_S)
        return batch, iterator

    def _invoke(self, batch: list[dict[str, Any]]) -> list[str]:
        """Invoke once; the failed sequence numbers (all of them when the function raised)."""
        event = kinesis_event(
            batch,
            shard_id=self.shard_id,
            stream_arn=self.mapping.stream_arn,
            region=self.mapping.region,
        )
        self.invocations += 1
        result = self.mapping.function.invoke(event, check_size=False)
        failures = (result or {}).get("batchItemFailures") or []
        return [str(f["itemIdentifier"]) for f in failures]

    def _deliver(self, batch: list[dict[str, Any]], attempts_left: int | None = None) -> None:
        trigger, stop = self.mapping.trigger, self.mapping.stopping
        attempts_left = trigger.maximum_retry_attempts if attempts_left is None else attempts_left
        while batch and not stop.is_set():
            try:
                failed = self._invoke(batch)
            except Exception:
                log.exception("shard %s: function error on %d records", self.shard_id, len(batch))
                if trigger.bisect_batch_on_function_error and len(batch) > 1:
                    middle = len(batch) // 2
                    self._deliver(batch[:middle], attempts_left)
                    self._deliver(batch[middle:], attempts_left)
                    return
                failed = [r["SequenceNumber"] for r in batch]
            if not failed:
                return
            lowest = min(int(s) for s in failed)
            batch = [r for r in batch if int(r["SequenceNumber"]) >= lowest]
            if attempts_left <= 0:
                # Only what the last invocation reported failed (an identifier that is not in
                # the batch fails all of it, as in Lambda).
                reported = set(failed)
                self.mapping.send_to_failure_destination(
                    self.shard_id, [r for r in batch if r["SequenceNumber"] in reported] or batch
                )
                return
            attempts_left -= 1
            stop.wait(RETRY_BACKOFF_S)


class StreamPoller:
    """One event source mapping: a consumer per shard of the stream."""

    def __init__(
        self,
        *,
        aws: AwsEmulator,
        trigger: StreamTrigger,
        stream_name: str,
        function: LocalFunction,
        failure_log: Path,
    ) -> None:
        self.trigger = trigger
        self.stream_name = stream_name
        self.function = function
        self.region = aws.region
        self.failure_log = failure_log
        self.kinesis = aws.client("kinesis")
        self.stream_arn = self.kinesis.describe_stream_summary(StreamName=stream_name)[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        self.stopping = threading.Event()
        self.consumers: list[ShardConsumer] = []
        self.failed_batches = 0

    def start(self) -> None:
        shards = self.kinesis.list_shards(StreamName=self.stream_name)["Shards"]
        self.consumers = [ShardConsumer(self, s["ShardId"]) for s in shards]
        for consumer in self.consumers:
            consumer.start()

    def stop(self) -> None:
        self.stopping.set()
        for consumer in self.consumers:
            consumer.join(10)

    def send_to_failure_destination(self, shard_id: str, failed: list[dict[str, Any]]) -> None:
        """What Lambda sends an on-failure destination (where the records were, not their data),
        for the records the last invocation reported failed; locally, ``failedRecords`` adds
        each one's sequence number, partition key and data (base64), so that none is lost."""
        self.failed_batches += 1
        info: dict[str, Any] = {
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "functionArn": self.function.context().invoked_function_arn,
            },
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": failed[0]["SequenceNumber"],
                "endSequenceNumber": failed[-1]["SequenceNumber"],
                "batchSize": len(failed),
                "streamArn": self.stream_arn,
            },
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        log.error("shard %s: records sent to the on-failure destination: %s", shard_id, info)
        info["failedRecords"] = [
            {
                "sequenceNumber": r["SequenceNumber"],
                "partitionKey": r["PartitionKey"],
                "data": base64.b64encode(r["Data"]).decode(),
            }
            for r in failed
        ]
        self.failure_log.parent.mkdir(parents=True, exist_ok=True)
        with self.failure_log.open("a") as fh:
            fh.write(json.dumps(info) + "\n")
