"""Every name the infrastructure uses, in one place: stack, resources, outputs, context keys."""

from __future__ import annotations

import re

# The stack and the prefix of every physical name. The local runtime names its resources and
# functions the same way (``localcloud.aws.resource_name``, ``LocalFunction.context``).
STACK_NAME = "Pulse"
RESOURCE_PREFIX = "pulse"

# The Lambda runtime. arm64 (Graviton): ~20 % cheaper per GB-second than x86_64 and every
# runtime dependency ships manylinux aarch64 wheels. The bundler derives its pip platform tags
# from this, so the two cannot disagree.
PYTHON_VERSION = "3.12"
ARCHITECTURE = "arm64"  # "arm64" or "x86_64"
PIP_PLATFORMS = {
    # Newest first; pip takes the first wheel whose tag matches. Lambda's python3.12 runtime
    # runs on Amazon Linux 2023 (glibc 2.34), which accepts both.
    "arm64": ("manylinux_2_28_aarch64", "manylinux2014_aarch64"),
    "x86_64": ("manylinux_2_28_x86_64", "manylinux2014_x86_64"),
}
# The image a Docker-capable machine would bundle in when local bundling is unavailable.
BUNDLING_IMAGE = f"public.ecr.aws/sam/build-python{PYTHON_VERSION}"

# The function the deploy runs after the database is up (a ``triggers.Trigger``).
MIGRATE_FUNCTION = "migrate"
INGEST_FUNCTION = "ingest"
EDGE_SECRET = "edge-secret"  # the wiring's secret CloudFront sends to the API (pulse.edge)

# Postgres (RDS) and Redis (ElastiCache).
DATABASE_NAME = "pulse"
DATABASE_USER = "pulse"
DATABASE_PORT = 5432
DATABASE_INSTANCE_TYPE = "t4g.micro"
# Storage autoscaling's ceiling: events are never deleted, and each occupies ~3,660 bytes with
# its indexes and what the rollup derives from it (measured: scripts/bench/storage.py,
# docs/cost.md; ~1,850 before the breakdowns' presence rows per dimension), so 100M events a month
# fill ~370 GB a month, ~4.4 TB a year. Only allocated storage is billed; the ceiling only stops a
# runaway. (It was 1 TB, from an assumed 350 bytes an event, then 3 TB.)
DATABASE_MAX_STORAGE_GB = 5000
REDIS_NODE_TYPE = "cache.t4g.micro"
REDIS_ENGINE_VERSION = "7.1"
REDIS_PORT = 6379

# The columnar archive of whole days of events (``constructs.archive``): one private S3 bucket,
# Parquet files keyed ``<project_id>/<YYYY-MM-DD>-<version>.parquet``, written by the functions
# whose wiring says ``archive="write"`` (the rollup) and read by ``"read"`` (the api). A reader
# copies the day files it reads into a cache in /tmp (``PULSE_ARCHIVE_CACHE_DIR``, by default
# /tmp/pulse-archive), so these functions get more ephemeral storage than Lambda's 512 MB, and a
# cache ceiling under it. The rest, 512 MB (what /tmp was), is for the temporary files next to
# the cache: a report's CSV of the events of its days not archived yet (pulse.archive.reads),
# the writer's CSV and Parquet of the day it archives (pulse.archive.writer).
ARCHIVE_BUCKET_SETTING = "PULSE_ARCHIVE_BUCKET"
ARCHIVE_CACHE_MB_SETTING = "PULSE_ARCHIVE_CACHE_MB"
ARCHIVE_EPHEMERAL_STORAGE_MB = 2048
ARCHIVE_CACHE_MB = 1536
# Multipart uploads a writer started and never completed (a timeout mid-upload) are billed
# storage until aborted; the bucket's lifecycle aborts them after this many days.
ARCHIVE_ABORT_INCOMPLETE_UPLOAD_DAYS = 1

# Retention of the functions', the API's and the flow logs (an ``aws_logs.RetentionDays`` name).
LOG_RETENTION = "ONE_MONTH"
LOG_RETENTION_DAYS = 30
# Lambda's advanced logging controls (JSON format): WARN drops the platform's START/END/REPORT
# lines, three of every invocation; INFO keeps the application's own lines and its EMF metrics.
SYSTEM_LOG_LEVEL = "WARN"
APPLICATION_LOG_LEVEL = "INFO"

# HTTP API stage throttling (requests per second, burst).
HTTP_API_RATE_LIMIT = 1000
HTTP_API_BURST_LIMIT = 2000

# WebSocket API stage throttling (messages and connects per second, burst).
WEBSOCKET_RATE_LIMIT = 500
WEBSOCKET_BURST_LIMIT = 1000

# Hosting: the dashboard's static export and the SDK behind CloudFront (``constructs.hosting``).
SDK_PATH = "/sdk/tracker.min.js"
SDK_PREFIX = "sdk/"
CONFIG_FILE = "config.json"
# Next.js puts every content-hashed file under _next/static/: a changed file gets a new name.
HASHED_ASSETS_PATTERN = "_next/static/*"
# What each kind of object says to browsers and to CloudFront (``Cache-Control`` on the object).
CACHE_HASHED = "public, max-age=31536000, immutable"  # a year: the name changes with the bytes
# HTML and config.json: revalidated on every load, so a deploy shows at once (the deploy also
# invalidates CloudFront's copies).
CACHE_HTML = "public, max-age=0, must-revalidate"
# The SDK is loaded on every page view of every tracked site: five minutes of browser and edge
# cache absorb most loads, and a new SDK reaches every page within five minutes.
CACHE_SDK = "public, max-age=300"

# How functions in the VPC reach the WebSocket API's @connections (``constructs.network``):
# "ipv6" (egress-only internet gateway, no NAT) or "nat" (one NAT gateway).
PUSH_EGRESS = "ipv6"

# Alarm thresholds (``constructs.operations``; each alarm's description gives the reason).
ALARM_ITERATOR_AGE_MS = 120_000  # 2 minutes behind the stream's newest record, for 5 minutes
ALARM_ERROR_RATE_PERCENT = 1  # of a function's invocations, for 15 minutes
ALARM_HTTP_5XX_PERCENT = 1  # of the HTTP API's answers, for 15 minutes
ALARM_STREAM_THROTTLED_RECORDS = 10  # records a provisioned stream refused, per 5 minutes
ALARM_DATABASE_CPU_PERCENT = 80  # average, for 15 minutes
ALARM_DATABASE_CONNECTIONS = 80  # ~80 % of db.t4g.micro's max_connections (~100)

# The Powertools metrics the functions emit (namespace and service as set in their environment).
METRICS_NAMESPACE = "Pulse"
METRICS_SERVICE = "pulse"
METRIC_EVENTS_ACCEPTED = "EventsAccepted"  # ingest: events put on the stream
METRIC_EVENTS_REJECTED = "EventsRejected"  # ingest: events refused (invalid, over limits)
METRIC_EVENTS_WRITTEN = "EventsWritten"  # processor: rows written to Postgres
METRIC_BATCH_DURATION = "BatchDuration"  # processor: milliseconds per stream batch

# The LocalStack variant (``-c pulse:local=true``): the compose file's Postgres and Redis, by
# their service names on the compose network (``localstack/compose.yaml``).
LOCAL_DATABASE_URL = "postgresql://pulse:pulse@postgres:5432/pulse"
LOCAL_REDIS_URL = "redis://redis:6379/0"

# Context keys.
CONTEXT_LOCAL = "pulse:local"
CONTEXT_ALARM_EMAIL = "pulse:alarmEmail"
CONTEXT_PUSH_EGRESS = "pulse:pushEgress"
CONTEXT_SKIP_BUNDLING = "pulse:skipBundling"
# "provisioned" (default: the wiring's shard count) or "on-demand" (docs/cost.md, Kinesis).
CONTEXT_STREAM_MODE = "pulse:streamMode"
STREAM_MODE = "provisioned"
# "true" puts RDS Proxy between the functions and the instance (docs/deploy.md, "RDS Proxy"); by
# default the functions connect to the instance directly: at up to a few hundred million events a
# month they hold a few dozen connections (docs/cost.md, "Connections").
CONTEXT_DATABASE_PROXY = "pulse:databaseProxy"
DATABASE_PROXY = False
# The AZs the interface endpoints (Kinesis, Secrets Manager) have a network interface in: 1 (the
# database's and Redis's AZ, which a single-AZ install already depends on) or 2 (with a Multi-AZ
# database and a Redis replica). Each endpoint costs ~$7.30 a month per AZ (docs/deploy.md).
CONTEXT_ENDPOINT_AZS = "pulse:endpointAzs"
ENDPOINT_AZS = 1
# Which of the VPC's two AZs is the "data" AZ (0 or 1), or "none": the database and Redis are
# then not pinned (RDS and ElastiCache pick). Pinning an instance deployed before the pin may make
# CloudFormation replace it: such an install deploys with "none", or with the index of the AZ its
# instance is in (docs/deploy.md, "Interface endpoints").
CONTEXT_DATA_AZ = "pulse:dataAz"
DATA_AZ = "0"
CONTEXT_BUNDLING_STACKS = "aws:cdk:bundling-stacks"

# Output names (logical ids of the CfnOutputs). Tests, scripts and docs read these.
OUTPUT_HTTP_API_URL = "HttpApiUrl"
OUTPUT_WEBSOCKET_URL = "WebSocketUrl"
OUTPUT_DATABASE_ENDPOINT = "DatabaseProxyEndpoint"
OUTPUT_DATABASE_SECRET_ARN = "DatabaseSecretArn"
OUTPUT_REDIS_ENDPOINT = "RedisEndpoint"
OUTPUT_DASHBOARD_URL = "DashboardUrl"
OUTPUT_SDK_SNIPPET = "SdkSnippet"
OUTPUT_INGEST_URL = "IngestUrl"
OUTPUT_SITE_BUCKET = "SiteBucketName"
OUTPUT_ALARM_TOPIC = "AlarmTopicArn"
OUTPUT_ARCHIVE_BUCKET = "ArchiveBucketName"


def resource_name(name: str) -> str:
    """The physical name of a declared resource: ``pulse-events``, ``pulse-api``."""
    return f"{RESOURCE_PREFIX}-{name}"


def function_name(name: str) -> str:
    return resource_name(name)


def pascal(name: str) -> str:
    """``jwt-secret`` → ``JwtSecret``: a construct id / output name from a declared name."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))


def stream_output(stream: str) -> str:
    """``events`` → ``EventsStreamName``."""
    return f"{pascal(stream)}StreamName"


def secret_output(secret: str) -> str:
    """``jwt-secret`` → ``JwtSecretArn``."""
    return f"{pascal(secret)}Arn"


def function_output(function: str) -> str:
    """``migrate`` → ``MigrateFunctionName``."""
    return f"{pascal(function)}FunctionName"


def stream_setting(stream: str) -> str:
    """The environment variable holding a stream's name, as the local runtime sets it."""
    return f"PULSE_{stream.upper().replace('-', '_')}_STREAM"
