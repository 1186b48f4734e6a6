"""The Pulse stack: composes one construct per capability from the wiring, and its outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from pulse.wiring import WIRING, Wiring
from pulse_infra import access, names
from pulse_infra.bundling import function_code
from pulse_infra.constructs.archive import Archive
from pulse_infra.constructs.cache import Cache
from pulse_infra.constructs.compose_stores import ComposeStores, is_local
from pulse_infra.constructs.database import Database
from pulse_infra.constructs.functions import Functions
from pulse_infra.constructs.hosting import Hosting, ingest_endpoint
from pulse_infra.constructs.http_api import HttpApi
from pulse_infra.constructs.migration import Migration
from pulse_infra.constructs.network import Network
from pulse_infra.constructs.operations import Operations
from pulse_infra.constructs.schedules import Schedules
from pulse_infra.constructs.secrets import Secrets
from pulse_infra.constructs.stream_triggers import StreamTriggers
from pulse_infra.constructs.streams import Streams
from pulse_infra.constructs.websocket_api import WebSocketApi


class PulseStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str = names.STACK_NAME,
        *,
        wiring: Wiring = WIRING,
        code: lambda_.Code | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.wiring = wiring

        network = Network(self, "Network", wiring=wiring)
        # RDS and ElastiCache, or (LocalStack variant) the compose file's Postgres and Redis.
        self.local = is_local(self)
        database: Database | None = None
        cache: Cache | None = None
        if self.local:
            compose = ComposeStores(self, "ComposeStores")
            database_url, database_secret, redis_url = (
                compose.database_url,
                compose.database_secret,
                compose.redis_url,
            )
        else:
            database = Database(self, "Database", network=network)
            cache = Cache(self, "Cache", network=network)
            database_url, database_secret, redis_url = database.url, database.secret, cache.url
        streams = Streams(self, "Streams", wiring=wiring)
        secrets = Secrets(self, "Secrets", wiring=wiring)
        # The columnar archive's bucket, when a function reads or writes it.
        archive = Archive(self, "Archive", network=network) if access.uses_archive(wiring) else None
        functions = Functions(
            self,
            "Functions",
            wiring=wiring,
            code=code or function_code(),
            network=network,
            database_url=database_url,
            database_secret=database_secret,
            redis_url=redis_url,
            secrets=secrets.secrets,
            streams=streams.streams,
            archive=archive,
        )
        http_api = HttpApi(self, "HttpApi", wiring=wiring, functions=functions.functions)
        websocket_api = (
            WebSocketApi(self, "WebSocketApi", wiring=wiring, functions=functions.functions)
            if wiring.websocket_routes
            else None
        )
        stream_triggers = StreamTriggers(
            self,
            "StreamTriggers",
            wiring=wiring,
            functions=functions.functions,
            streams=streams.streams,
        )
        Schedules(self, "Schedules", wiring=wiring, functions=functions.functions)
        if any(fn.name == names.MIGRATE_FUNCTION for fn in wiring.functions):
            Migration(
                self,
                "Migration",
                spec=wiring.function(names.MIGRATE_FUNCTION),
                function=functions.functions[names.MIGRATE_FUNCTION],
                after=[network, *([database] if database is not None else [])],
            )

        # The SDK posts to the ingest function's own URL where it has one: no API Gateway or
        # CloudFront request charge on the hottest path (docs/cost.md).
        ingest_urls = {name: ingest_endpoint(url.url) for name, url in functions.urls.items()}
        ingest_url = ingest_urls.get(names.INGEST_FUNCTION)
        hosting = Hosting(
            self,
            "Hosting",
            http_api=http_api,
            websocket_api=websocket_api,
            edge_secret=secrets.secrets.get(names.EDGE_SECRET),
            ingest_url=ingest_url,
        )
        operations = Operations(
            self,
            "Operations",
            wiring=wiring,
            functions=functions.functions,
            streams=streams.streams,
            failure_queues=stream_triggers.failure_queues,
            http_api=http_api,
            database=database,
        )

        self.functions = functions
        self.archive = archive
        self.hosting = hosting
        self.operations = operations
        self.http_api = http_api
        self.websocket_api = websocket_api

        CfnOutput(self, names.OUTPUT_HTTP_API_URL, value=http_api.url)
        if websocket_api is not None:
            CfnOutput(self, names.OUTPUT_WEBSOCKET_URL, value=websocket_api.url)
        if database is not None and cache is not None:
            CfnOutput(self, names.OUTPUT_DATABASE_ENDPOINT, value=database.endpoint)
            CfnOutput(self, names.OUTPUT_DATABASE_SECRET_ARN, value=database.secret.secret_arn)
            CfnOutput(self, names.OUTPUT_REDIS_ENDPOINT, value=cache.endpoint)
        CfnOutput(self, names.OUTPUT_DASHBOARD_URL, value=hosting.url)
        CfnOutput(self, names.OUTPUT_SDK_SNIPPET, value=hosting.sdk_snippet)
        if ingest_url is not None:
            CfnOutput(self, names.OUTPUT_INGEST_URL, value=ingest_url)
        CfnOutput(self, names.OUTPUT_SITE_BUCKET, value=hosting.bucket.bucket_name)
        CfnOutput(self, names.OUTPUT_ALARM_TOPIC, value=operations.topic.topic_arn)
        if archive is not None:
            CfnOutput(self, names.OUTPUT_ARCHIVE_BUCKET, value=archive.bucket.bucket_name)
        for name, stream in streams.streams.items():
            CfnOutput(self, names.stream_output(name), value=stream.stream_name)
        for name, secret in secrets.secrets.items():
            CfnOutput(self, names.secret_output(name), value=secret.secret_arn)
        for name, function in functions.functions.items():
            CfnOutput(self, names.function_output(name), value=function.function_name)
