"""A local Lambda event source mapping for Kinesis.

Per shard, in order: read up to ``batch_size`` records, waiting at most the batching window once
the first record is in; invoke the function with a real Kinesis event (base64 data, sequence
numbers, approximate arrival time); checkpoint only past success. With ReportBatchItemFailures
the batch is retried from the lowest failed sequence number; a function error bisects the batch
(when configured); past ``maximum_retry_attempts`` the batch's description goes to the on-failure
destination (a JSON-lines file under the data folder) and the shard moves on.

Checkpoints are kept in files (``CheckpointStore``), as Lambda keeps them for a mapping: after a
crash or a restart each shard resumes after the last batch the function finished, so a record is
delivered at least once, and the processor's idempotent writes make that exactly once in Postgres.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.aws import AwsEmulator
from localcloud.lambdas import ACCOUNT_ID, LocalFunction
from localcloud.threadnames import name_os_thread
from pulse.wiring import StreamTrigger

log = logging.getLogger("localcloud.poller")

IDLE_POLL_S = 0.05
# At most this often a shard is read while it is near its tip (a read that filled a batch is
# followed at once). Lambda polls a shard about once a second, and Kinesis allows 5 GetRecords a
# second a shard; the local Kinesis spends ~1.4 ms of CPU on each, so reading as fast as records
# arrive cost more than it saved (docs/benchmarks.md).
POLL_INTERVAL_S = 0.2
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


@dataclass(frozen=True)
class CheckpointStore:
    """Each shard's last sequence number processed for good, one small file per shard.

    A file is replaced whole (written aside, then renamed), so a crash leaves the old checkpoint
    or the new one, never a torn one. It is not fsynced: losing the newest checkpoint (the
    machine's power, not a crash of the runtime) only delivers a batch again. A checkpoint names
    the stream's creation time, so a stream made anew does not resume at an old position.
    """

    folder: Path

    def _path(self, stream_name: str, shard_id: str) -> Path:
        return self.folder / f"{stream_name}.{shard_id}.json"

    def load(self, stream_name: str, shard_id: str, stream_created: str) -> str | None:
        try:
            saved = json.loads(self._path(stream_name, shard_id).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("stream_created") != stream_created:
            return None
        sequence_number = saved.get("sequence_number")
        return sequence_number if isinstance(sequence_number, str) else None

    def save(
        self, stream_name: str, shard_id: str, stream_created: str, sequence_number: str
    ) -> None:
        path = self._path(stream_name, shard_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_suffix(".tmp")
        aside.write_text(
            json.dumps({"stream_created": stream_created, "sequence_number": sequence_number})
        )
        os.replace(aside, path)


class ShardConsumer:
    def __init__(self, mapping: StreamPoller, shard_id: str) -> None:
        self.mapping = mapping
        self.shard_id = shard_id
        # The last sequence number processed for good (read and written by this consumer's
        # thread only).
        self.checkpoint: str | None = mapping.load_checkpoint(shard_id)
        self.invocations = 0
        # When the last read that found the shard empty (at its tip, nothing in hand) was asked
        # for (monotonic clock); a drain waits for one asked after it began.
        self.caught_up_at = 0.0
        # When the next read may be asked for (monotonic clock; see POLL_INTERVAL_S).
        self.next_read_at = 0.0
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
        name_os_thread()
        stop = self.mapping.stopping
        iterator: str | None = None
        while not stop.is_set():
            try:
                if iterator is None:
                    iterator = self._iterator()
                batch, iterator = self._read_batch(iterator)
                if batch:
                    self._deliver(batch)
                    if stop.is_set():
                        return  # the batch may not be done: it is delivered again next start
                    self.checkpoint = batch[-1]["SequenceNumber"]
                    self.mapping.save_checkpoint(self.shard_id, self.checkpoint)
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
            wait = self.next_read_at - time.monotonic()
            if wait > 0 and stop.wait(wait):
                break
            asked_at = time.monotonic()
            resp = self.mapping.kinesis.get_records(
                ShardIterator=iterator, Limit=trigger.batch_size - len(batch)
            )
            iterator = resp["NextShardIterator"]
            full = len(resp["Records"]) >= trigger.batch_size - len(batch)
            self.next_read_at = asked_at + (0.0 if full else self.mapping.poll_interval_s)
            if not resp["Records"] and not batch and not resp.get("MillisBehindLatest"):
                self.caught_up_at = asked_at
            if resp["Records"] and not batch:
                first_at = time.monotonic()
            batch.extend(resp["Records"])
            if len(batch) >= trigger.batch_size:
                break
            if batch and time.monotonic() - first_at >= trigger.max_batching_window_s:
                break
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
        in_batch = {r["SequenceNumber"] for r in batch}
        failed = [str(f.get("itemIdentifier")) if isinstance(f, dict) else "" for f in failures]
        if any(seq not in in_batch for seq in failed):
            # Lambda reads an identifier that is not one of the batch's (missing, empty,
            # unknown) as the whole batch failed.
            log.error("shard %s: unusable batchItemFailures %r", self.shard_id, failures[:5])
            return [r["SequenceNumber"] for r in batch]
        return failed

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
        checkpoints: CheckpointStore | None = None,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self.trigger = trigger
        self.poll_interval_s = poll_interval_s
        self.stream_name = stream_name
        self.function = function
        self.region = aws.region
        self.failure_log = failure_log
        self.kinesis = aws.client("kinesis")
        self.checkpoints = checkpoints
        summary = self.kinesis.describe_stream_summary(StreamName=stream_name)[
            "StreamDescriptionSummary"
        ]
        self.stream_arn = summary["StreamARN"]
        self.stream_created = summary["StreamCreationTimestamp"].isoformat()
        self.stopping = threading.Event()
        self.consumers: list[ShardConsumer] = []
        self.failed_batches = 0
        self._failure_lock = threading.Lock()

    def start(self) -> None:
        shards = self.kinesis.list_shards(StreamName=self.stream_name)["Shards"]
        self.consumers = [ShardConsumer(self, s["ShardId"]) for s in shards]
        for consumer in self.consumers:
            consumer.start()

    def drain(self, timeout_s: float) -> bool:
        """Wait until every shard has been read to its tip after this call began (everything
        written to the stream before it is processed, or parked at the on-failure destination);
        False if ``timeout_s`` passed first."""
        began = time.monotonic()
        deadline = began + timeout_s
        while any(c.caught_up_at <= began for c in self.consumers):
            if time.monotonic() > deadline:
                return False
            time.sleep(IDLE_POLL_S)
        return True

    def stop(self) -> None:
        self.stopping.set()
        for consumer in self.consumers:
            consumer.join(10)

    def load_checkpoint(self, shard_id: str) -> str | None:
        if self.checkpoints is None:
            return None
        return self.checkpoints.load(self.stream_name, shard_id, self.stream_created)

    def save_checkpoint(self, shard_id: str, sequence_number: str) -> None:
        if self.checkpoints is not None:
            self.checkpoints.save(self.stream_name, shard_id, self.stream_created, sequence_number)

    def send_to_failure_destination(self, shard_id: str, failed: list[dict[str, Any]]) -> None:
        """What Lambda sends an on-failure destination (where the records were, not their data),
        for the records the last invocation reported failed; locally, ``failedRecords`` adds
        each one's sequence number, partition key and data (base64), so that none is lost."""
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
        line = json.dumps(info) + "\n"
        # Every shard's consumer appends here: one line at a time, whole.
        with self._failure_lock:
            self.failed_batches += 1
            self.failure_log.parent.mkdir(parents=True, exist_ok=True)
            with self.failure_log.open("a") as fh:
                fh.write(line)
