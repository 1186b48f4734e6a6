"""Kinesis event source mappings from ``WIRING.stream_triggers``.

Each reports batch item failures (the handler returns the failed sequence numbers), retries a
bounded number of times, bisects a failing batch, and sends what still fails to its own SQS
on-failure destination. The mapping also grants the function's role read access to the stream,
which makes the triggered functions the only Kinesis readers.
"""

from __future__ import annotations

import math

from aws_cdk import Duration
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from pulse.wiring import StreamTrigger, Wiring
from pulse_infra import names
from pulse_infra.nag import acknowledge

STARTING_POSITIONS = {
    "TRIM_HORIZON": lambda_.StartingPosition.TRIM_HORIZON,
    "LATEST": lambda_.StartingPosition.LATEST,
}


def batching_window_seconds(trigger: StreamTrigger) -> int:
    """Lambda takes the batching window in whole seconds (0–300). A fraction is rounded down, so
    that AWS never waits longer than declared: Lambda reads each shard about once a second
    anyway, so a window under a second behaves as 0 (invoke as soon as a read returns records).
    """
    window = trigger.max_batching_window_s
    if not 0 <= window <= 300:
        raise ValueError(
            f"stream trigger {trigger.function!r} <- {trigger.stream!r}: max_batching_window_s="
            f"{window} is outside 0-300 s, the range Lambda accepts"
        )
    return int(math.floor(window))


class StreamTriggers(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        wiring: Wiring,
        functions: dict[str, lambda_.Function],
        streams: dict[str, kinesis.Stream],
    ) -> None:
        super().__init__(scope, construct_id)
        self.failure_queues: dict[tuple[str, str], sqs.Queue] = {}
        for trigger in wiring.stream_triggers:
            label = f"{names.pascal(trigger.function)}From{names.pascal(trigger.stream)}"
            queue = sqs.Queue(
                self,
                f"{label}Failures",
                queue_name=names.resource_name(f"{trigger.function}-{trigger.stream}-failures"),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            acknowledge(
                queue,
                "AwsSolutions-SQS3",
                "This queue is itself the on-failure destination of an event "
                "source mapping: it holds the metadata of batches that failed for good.",
            )
            functions[trigger.function].add_event_source(
                sources.KinesisEventSource(
                    streams[trigger.stream],
                    starting_position=STARTING_POSITIONS[trigger.starting_position],
                    batch_size=trigger.batch_size,
                    max_batching_window=Duration.seconds(batching_window_seconds(trigger)),
                    retry_attempts=trigger.maximum_retry_attempts,
                    bisect_batch_on_error=trigger.bisect_batch_on_function_error,
                    parallelization_factor=trigger.parallelization_factor,
                    report_batch_item_failures=True,
                    on_failure=sources.SqsDlq(queue),
                )
            )
            self.failure_queues[(trigger.function, trigger.stream)] = queue
