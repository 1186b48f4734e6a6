"""The in-process AWS emulator (moto server) and the resources the wiring declares."""

from __future__ import annotations

import logging
import secrets as pysecrets
import threading
from pathlib import Path
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from pulse.wiring import Wiring

log = logging.getLogger("localcloud.aws")

RESOURCE_PREFIX = "pulse"


def resource_name(name: str) -> str:
    return f"{RESOURCE_PREFIX}-{name}"


class _KeepAliveHandler(MotoRequestHandler):
    """HTTP/1.1 with keep-alive, as the AWS endpoints speak it (moto's own server closes each
    connection, which would make every SDK call pay a TCP handshake)."""

    protocol_version = "HTTP/1.1"


class AwsEmulator:
    """moto's AWS APIs served in this process on one port, in a background thread."""

    def __init__(self, host: str, port: int, region: str) -> None:
        self.host, self.port, self.region = host, port, region
        self.endpoint = f"http://{host}:{port}"
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=_KeepAliveHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="aws-emulator", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(10)

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


def provision(aws: AwsEmulator, wiring: Wiring, data_dir: Path) -> dict[str, str]:
    """Create what the wiring declares; returns the environment the functions need."""
    env: dict[str, str] = {}
    kinesis = aws.client("kinesis")
    for stream in wiring.streams:
        name = resource_name(stream.name)
        kinesis.create_stream(StreamName=name, ShardCount=stream.shard_count)
        kinesis.get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50}
        )
        env[f"PULSE_{stream.name.upper()}_STREAM"] = name
    sm = aws.client("secretsmanager")
    for secret in wiring.secrets:
        # Kept under the data folder so that tokens survive a restart of the local runtime.
        path = data_dir / f"{secret.name}.txt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(pysecrets.token_urlsafe(48))
            path.chmod(0o600)
        arn = sm.create_secret(
            Name=f"{RESOURCE_PREFIX}/{secret.name}",
            Description=secret.description,
            SecretString=path.read_text().strip(),
        )["ARN"]
        env[secret.setting] = arn
    return env
