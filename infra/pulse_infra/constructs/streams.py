"""Kinesis data streams from ``WIRING.streams``, encrypted at rest.

Provisioned with the wiring's ``shard_count`` by default: one shard takes 1,000 records or 1 MB
a second, and costs $0.015 an hour against on-demand's $0.04 a stream-hour plus its per-GB
charges (docs/cost.md). Ingest retries a throttled PutRecords and then answers 503, which the
SDK retries, and the operations construct alarms on write throttling; raise ``shard_count`` or
deploy with ``-c pulse:streamMode=on-demand`` to let AWS scale the shards instead.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from pulse.wiring import Wiring
from pulse_infra import names

MODES = ("provisioned", "on-demand")


def stream_mode(scope: Construct) -> str:
    mode = str(scope.node.try_get_context(names.CONTEXT_STREAM_MODE) or names.STREAM_MODE)
    if mode not in MODES:
        raise ValueError(f"{names.CONTEXT_STREAM_MODE} must be one of {MODES}, not {mode!r}")
    return mode


class Streams(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, wiring: Wiring) -> None:
        super().__init__(scope, construct_id)
        self.mode = stream_mode(self)
        # A stream is a 24-hour buffer in front of Postgres, and its name is fixed: it goes with
        # the stack, so that a later deploy of the same stack can create it again.
        self.streams: dict[str, kinesis.Stream] = {}
        for stream in wiring.streams:
            capacity: dict[str, object] = (
                {"stream_mode": kinesis.StreamMode.ON_DEMAND}
                if self.mode == "on-demand"
                else {
                    "stream_mode": kinesis.StreamMode.PROVISIONED,
                    "shard_count": stream.shard_count,
                }
            )
            self.streams[stream.name] = kinesis.Stream(
                self,
                names.pascal(stream.name),
                stream_name=names.resource_name(stream.name),
                encryption=kinesis.StreamEncryption.MANAGED,
                retention_period=Duration.hours(24),
                removal_policy=RemovalPolicy.DESTROY,
                **capacity,  # type: ignore[arg-type]
            )
