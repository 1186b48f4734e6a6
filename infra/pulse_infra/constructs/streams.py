"""Kinesis data streams from ``WIRING.streams``: on-demand capacity, encrypted at rest."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from pulse.wiring import Wiring
from pulse_infra import names


class Streams(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, wiring: Wiring) -> None:
        super().__init__(scope, construct_id)
        # On-demand mode scales shards by itself, so ``Stream.shard_count`` (what the local
        # emulator creates) does not apply in AWS. A stream is a 24-hour buffer in front of
        # Postgres, and its name is fixed: it goes with the stack, so that a later deploy of
        # the same stack can create it again.
        self.streams: dict[str, kinesis.Stream] = {
            stream.name: kinesis.Stream(
                self,
                names.pascal(stream.name),
                stream_name=names.resource_name(stream.name),
                stream_mode=kinesis.StreamMode.ON_DEMAND,
                encryption=kinesis.StreamEncryption.MANAGED,
                retention_period=Duration.hours(24),
                removal_policy=RemovalPolicy.DESTROY,
            )
            for stream in wiring.streams
        }
