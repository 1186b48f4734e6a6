"""The in-process AWS emulator (moto server) and the resources the wiring declares."""

from __future__ import annotations

import logging
import secrets as pysecrets
import socket
from pathlib import Path
from typing import Any

import boto3
from a2wsgi import WSGIMiddleware
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from localcloud.servers import ThreadedServer, listen, serve_in_thread
from pulse.wiring import Wiring

log = logging.getLogger("localcloud.aws")

RESOURCE_PREFIX = "pulse"


def resource_name(name: str) -> str:
    return f"{RESOURCE_PREFIX}-{name}"


class AwsEmulator:
    """moto's AWS APIs served in this process on one port, in a background thread, plus the
    services that run elsewhere (``endpoints``: Kinesis is kinesalite, ``localcloud.kinesis``).

    Served by uvicorn rather than moto's own (werkzeug) server, which closes every connection:
    the SDKs keep connections alive against the real endpoints, and a TCP handshake per call
    would make every handler look slower here than it is in AWS. moto's backends are not safe
    under concurrent calls (its Kinesis lost records that way), so one worker thread runs every
    request, one at a time; what is left on moto (Secrets Manager) is read at cold starts only.
    """

    def __init__(
        self,
        host: str,
        port: int,
        region: str,
        endpoints: dict[str, str] | None = None,
        *,
        sock: socket.socket | None = None,
    ) -> None:
        """Listens on ``sock`` if given, else binds host:port now (0: a free port, in
        ``self.port`` from then on)."""
        self._sock = sock if sock is not None else listen(host, port, "LOCAL_AWS_PORT")
        self.host, self.port, self.region = host, int(self._sock.getsockname()[1]), region
        self.endpoint = f"http://{host}:{self.port}"
        self.endpoints = dict(endpoints or {})
        self._server: ThreadedServer | None = None

    def start(self) -> None:
        app = WSGIMiddleware(DomainDispatcherApplication(create_backend_app), workers=1)  # type: ignore[arg-type]
        self._server = serve_in_thread(app, host=self.host, name="aws-emulator", sock=self._sock)

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
        else:
            self._sock.close()

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.endpoints.get(service, self.endpoint),
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


def provision(aws: AwsEmulator, wiring: Wiring, data_dir: Path) -> dict[str, str]:
    """Create what the wiring declares; returns the environment the functions need.

    Streams outlive the runtime (they are on disk), so one that exists is kept as it is, with
    the records it still holds for the consumers."""
    env: dict[str, str] = {}
    kinesis = aws.client("kinesis")
    for stream in wiring.streams:
        name = resource_name(stream.name)
        try:
            kinesis.create_stream(StreamName=name, ShardCount=stream.shard_count)
        except kinesis.exceptions.ResourceInUseException:
            log.info("stream %s kept from the last run", name)
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
