"""The one declaration of how the platform is wired: functions, routes, triggers, schedules.

Both the CDK app (``infra/``) and the local runtime (``localstack/localcloud``) read this module,
and a test proves that the synthesized template and the local runtime agree. Pure data: importing
it costs nothing and pulls in no handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Function:
    name: str
    handler: str  # "module.path.attribute"
    description: str
    memory_mb: int = 512
    timeout_s: int = 29
    needs_database: bool = True
    needs_redis: bool = True
    secrets: tuple[str, ...] = ()  # names of declared secrets it reads
    writes_streams: tuple[str, ...] = ()  # names of declared streams it puts records on
    # Posts to WebSocket clients through the @connections management API
    # (execute-api:ManageConnections and PULSE_WEBSOCKET_MANAGEMENT_URL).
    pushes_to_connections: bool = False
    # At most this many invocations at once: reserved concurrency in AWS, and the number of
    # execution environments locally (None: unreserved; the local runtime's default).
    reserved_concurrency: int | None = None
    # Also reachable at a Lambda function URL of its own (auth NONE; in AWS only): the SDK's
    # cheapest way in, with no API Gateway or CloudFront request charge (docs/cost.md).
    function_url: bool = False
    # The columnar archive of whole days of events (pulse.archive): "read" lists and reads its
    # files, "write" also writes and deletes them; in AWS an S3 bucket (PULSE_ARCHIVE_BUCKET),
    # locally a directory (PULSE_ARCHIVE_DIR).
    archive: Literal["none", "read", "write"] = "none"


@dataclass(frozen=True)
class HttpRoute:
    """An API Gateway HTTP API route: ``"{method} {path}"`` → function."""

    method: str  # GET, POST, ..., or ANY
    path: str  # may end with a greedy "{proxy+}"
    function: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class WebSocketRoute:
    """An API Gateway WebSocket API route: ``$connect``, ``$disconnect``, ``$default`` or the
    value of a message's ``action`` (the route selection expression) → function."""

    route_key: str
    function: str


# API Gateway picks a message's route by this expression, ``$default`` when nothing matches.
WEBSOCKET_ROUTE_SELECTION = "$request.body.action"


@dataclass(frozen=True)
class Stream:
    name: str
    shard_count: int = 1


@dataclass(frozen=True)
class StreamTrigger:
    """A Lambda event source mapping from a Kinesis stream."""

    function: str
    stream: str
    batch_size: int = 500
    # Lambda takes whole seconds (0-300); 0 invokes as soon as a poll returns records.
    max_batching_window_s: int = 0
    starting_position: str = "TRIM_HORIZON"
    maximum_retry_attempts: int = 5
    bisect_batch_on_function_error: bool = True
    parallelization_factor: int = 1


@dataclass(frozen=True)
class Schedule:
    function: str
    expression: str  # an EventBridge "rate(...)" or "cron(...)" expression
    description: str


@dataclass(frozen=True)
class Secret:
    name: str
    description: str
    setting: str  # the environment variable that receives its ARN


@dataclass(frozen=True)
class Wiring:
    functions: tuple[Function, ...]
    http_routes: tuple[HttpRoute, ...]
    streams: tuple[Stream, ...] = ()
    stream_triggers: tuple[StreamTrigger, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    secrets: tuple[Secret, ...] = field(default=())
    websocket_routes: tuple[WebSocketRoute, ...] = ()
    websocket_stage: str = "live"  # wss://{api}/{stage}; the management API is under it too

    def function(self, name: str) -> Function:
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise KeyError(name)


API_PREFIX = "/api/v1"

WIRING = Wiring(
    functions=(
        Function(
            name="api",
            handler="pulse.handlers.api.handler",
            description="HTTP API: accounts, projects, analytics (FastAPI behind Mangum)",
            secrets=("jwt-secret", "edge-secret"),
            archive="read",
        ),
        Function(
            name="ingest",
            handler="pulse.handlers.ingest.handler",
            description="Event ingest: API key, validation, enrichment, PutRecords to Kinesis",
            # Its time is spent waiting on Redis and Kinesis, not computing (docs/cost.md).
            memory_mb=512,
            timeout_s=10,
            needs_database=True,
            secrets=("edge-secret",),
            writes_streams=("events",),
            function_url=True,
        ),
        Function(
            name="processor",
            handler="pulse.handlers.processor.handler",
            description="Kinesis consumer: bulk idempotent write to Postgres, then Redis",
            memory_mb=1024,
            timeout_s=60,
            pushes_to_connections=True,
        ),
        Function(
            name="ws",
            handler="pulse.handlers.ws.handler",
            description="WebSocket API: connect (access token, project owner), disconnect, "
            "client messages (ping, subscribe, backfill)",
            memory_mb=512,
            timeout_s=10,
            secrets=("jwt-secret",),
            pushes_to_connections=True,
        ),
        Function(
            name="rollup",
            handler="pulse.handlers.rollup.handler",
            description="Adds new events to the hourly rollups, presence sets and session parts",
            memory_mb=1024,
            timeout_s=900,
            needs_redis=True,
            archive="write",
            # One run at a time (overlapping runs would also be safe: a project is locked while
            # a run works on it).
            reserved_concurrency=1,
        ),
        Function(
            name="migrate",
            handler="pulse.handlers.migrate.handler",
            description="Applies the database migrations",
            timeout_s=300,
            needs_redis=False,
            reserved_concurrency=1,
        ),
    ),
    http_routes=(
        HttpRoute("ANY", f"{API_PREFIX}/{{proxy+}}", "api"),
        HttpRoute("POST", f"{API_PREFIX}/events/ingest", "ingest"),
        HttpRoute("OPTIONS", f"{API_PREFIX}/events/ingest", "ingest"),
    ),
    streams=(Stream("events"),),
    stream_triggers=(
        StreamTrigger(
            function="processor",
            stream="events",
            batch_size=500,
            max_batching_window_s=0,
            maximum_retry_attempts=5,
            bisect_batch_on_function_error=True,
        ),
    ),
    schedules=(
        Schedule(
            function="rollup",
            # A run costs what the new events cost, so it runs often: the reports then read few
            # raw events, and a run cut short by its timeout is continued within minutes.
            expression="rate(5 minutes)",
            description="Roll up the events written since the last run",
        ),
    ),
    secrets=(
        Secret(
            name="jwt-secret",
            description="Signing key of the dashboard's access and refresh tokens",
            setting="PULSE_JWT_SECRET_ARN",
        ),
        Secret(
            name="edge-secret",
            description="Sent by CloudFront to the HTTP API on /api/*: proves that a request's "
            "true-client-ip was written by this stack's distribution (pulse.edge)",
            setting="PULSE_EDGE_SECRET_ARN",
        ),
    ),
    websocket_routes=(
        WebSocketRoute("$connect", "ws"),
        WebSocketRoute("$disconnect", "ws"),
        WebSocketRoute("$default", "ws"),
    ),
)
