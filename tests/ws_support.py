"""The local WebSocket gateway on a free port, for the real-time tests, and API Gateway
WebSocket events built from the JSON fixtures."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from websockets.sync.client import ClientConnection, connect

from localcloud.lambdas import LocalFunction
from localcloud.servers import ThreadedServer, listen
from localcloud.ws_gateway import WebSocketGateway
from pulse.wiring import WebSocketRoute
from tests.apigw import load_fixture

STAGE = "live"


@dataclass
class RunningGateway:
    gateway: WebSocketGateway
    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def management_url(self) -> str:
        return self.gateway.management_url

    def connect(self, query: str = "", **kwargs: Any) -> ClientConnection:
        """A client connected to the gateway (``query`` without the ``?``)."""
        url = self.url + (f"/?{query}" if query else "/")
        return connect(url, open_timeout=5, legacy=True, **kwargs)

    def connect_with_id(self, query: str = "", **kwargs: Any) -> tuple[ClientConnection, str]:
        """A client and the connection id the gateway gave it."""
        before = set(self.gateway.connections)
        client = self.connect(query, **kwargs)
        deadline = time.monotonic() + 2
        while True:
            new = set(self.gateway.connections) - before
            if new:
                return client, new.pop()
            assert time.monotonic() < deadline, "the gateway did not register the connection"
            time.sleep(0.005)


@contextmanager
def running_gateway(
    routes: tuple[WebSocketRoute, ...] = (),
    functions: dict[str, LocalFunction] | None = None,
    **options: Any,
) -> Iterator[RunningGateway]:
    """A ``WebSocketGateway`` served by uvicorn as the local runtime serves it."""
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    gateway = WebSocketGateway(
        routes,
        functions or {},
        domain_name=f"127.0.0.1:{port}",
        stage=STAGE,
        max_concurrency=8,
        **options,
    )
    server = ThreadedServer(
        uvicorn.Config(
            gateway,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            **WebSocketGateway.server_options(),
        )
    )
    thread = server.start_in_thread("ws-gateway-test", sock)
    try:
        yield RunningGateway(gateway, port)
    finally:
        server.should_exit = True
        thread.join(10)
        gateway.pool.shutdown(wait=True)


def ws_event(kind: str, *, connection_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """A real API Gateway WebSocket event from ``tests/fixtures/apigw/websocket_{kind}.json``
    (connect, message, disconnect), with a connection id and top-level fields replaced."""
    event = copy.deepcopy(load_fixture(f"websocket_{kind}.json"))
    if connection_id is not None:
        event["requestContext"]["connectionId"] = connection_id
    event["requestContext"]["connectedAt"] = int(time.time() * 1000)
    event.update(changes)
    return event


def wait_until(predicate: Any, timeout: float = 2.0, interval: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(interval)
