"""One synthesized template per wiring for the whole session (a synth costs seconds).

``real``: the app exactly as ``cdk synth`` builds it from ``WIRING`` (cdk.json's context, cdk-nag
on), minus bundling. ``local``: the same app as ``make deploy-local`` builds it for LocalStack
(compose Postgres and Redis instead of RDS and ElastiCache). ``sample``: the same app from a
wiring with what ``WIRING`` does not declare yet (schedules, a second trigger with non-default
settings, a function outside the VPC that reads the archive, a WebSocket route selected by a
message's action), so that every generic path is exercised whatever ``WIRING`` holds today.
"""

from __future__ import annotations

import dataclasses

import pytest

import pulse_infra  # noqa: F401  (silences jsii's Node banner before aws_cdk loads)
from pulse.wiring import (
    WIRING,
    Function,
    Schedule,
    Stream,
    StreamTrigger,
    WebSocketRoute,
    Wiring,
)
from pulse_infra import names
from pulse_infra.app import build_app, cdk_json_context
from tests.infrastructure.synthesized import Synthesized, synthesize

OFFLINE = {names.CONTEXT_SKIP_BUNDLING: True}


def sample_wiring() -> Wiring:
    stream = WIRING.streams[0].name if WIRING.streams else "events"
    streams = WIRING.streams or (Stream(stream),)
    return dataclasses.replace(
        WIRING,
        functions=(
            *WIRING.functions,
            Function(
                name="probe-rollup",
                handler="pulse.handlers.probe_rollup.handler",
                description="Sample: scheduled and stream-triggered",
                memory_mb=256,
                timeout_s=120,
                needs_redis=False,
            ),
            Function(
                name="probe-offline",
                handler="pulse.handlers.probe_offline.handler",
                description="Sample: needs neither Postgres nor Redis, reads the archive",
                memory_mb=128,
                timeout_s=5,
                needs_database=False,
                needs_redis=False,
                # outside the VPC: reaches S3 without the gateway endpoint
                archive="read",
            ),
        ),
        streams=streams,
        stream_triggers=(
            *WIRING.stream_triggers,
            StreamTrigger(
                function="probe-rollup",
                stream=stream,
                batch_size=100,
                max_batching_window_s=5,
                starting_position="LATEST",
                maximum_retry_attempts=2,
                bisect_batch_on_function_error=False,
                parallelization_factor=4,
            ),
        ),
        schedules=(
            *WIRING.schedules,
            Schedule("probe-rollup", "rate(1 hour)", "Sample: hourly"),
            Schedule("probe-offline", "cron(15 3 * * ? *)", "Sample: nightly"),
        ),
        # A message route of its own (selected by the message's "action") on another function
        websocket_routes=(*WIRING.websocket_routes, WebSocketRoute("probe", "probe-offline")),
    )


@pytest.fixture(scope="session")
def real() -> Synthesized:
    app, stack = build_app({**cdk_json_context(), **OFFLINE})
    return synthesize(app, stack)


@pytest.fixture(scope="session")
def proxied() -> Synthesized:
    """The real app with RDS Proxy (``-c pulse:databaseProxy=true``) and the interface endpoints
    in both AZs (``-c pulse:endpointAzs=2``): the production switches of docs/deploy.md."""
    context = {
        **cdk_json_context(),
        **OFFLINE,
        names.CONTEXT_DATABASE_PROXY: "true",
        names.CONTEXT_ENDPOINT_AZS: "2",
    }
    app, stack = build_app(context)
    return synthesize(app, stack)


@pytest.fixture(scope="session")
def sample() -> Synthesized:
    app, stack = build_app({**cdk_json_context(), **OFFLINE}, wiring=sample_wiring())
    return synthesize(app, stack)


@pytest.fixture(scope="session")
def local() -> Synthesized:
    """The LocalStack variant (``-c pulse:local=true``) of the real app."""
    app, stack = build_app({**cdk_json_context(), **OFFLINE, names.CONTEXT_LOCAL: True})
    return synthesize(app, stack)


@pytest.fixture(scope="session", params=["real", "sample"])
def synth(request: pytest.FixtureRequest) -> Synthesized:
    """Both templates: tests taking this run once per wiring."""
    result: Synthesized = request.getfixturevalue(request.param)
    return result
