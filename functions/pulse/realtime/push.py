"""Messages to connected clients through the API Gateway management API (``@connections``).

The same code in AWS and locally: only the endpoint differs (``PULSE_WEBSOCKET_MANAGEMENT_URL``,
``https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`` in AWS, the local WebSocket
gateway's ``http://127.0.0.1:8001/{stage}`` under ``make up``). A call waits at most
``CONNECT_TIMEOUT_S`` to connect and ``READ_TIMEOUT_S`` for the answer, and is not retried: a
push that fails is reported, never repeated (the client can ask for a backfill).

boto3 is imported on first use, so a function that never pushes does not pay for it; the functions
that push call ``warm`` at their init.
"""

from __future__ import annotations

import enum
import threading
from typing import Any

from pulse.observability import logger
from pulse.settings import get_settings

CONNECT_TIMEOUT_S = 0.5
READ_TIMEOUT_S = 1.0

_clients: dict[str, Any] = {}
_lock = threading.Lock()


class PushResult(enum.Enum):
    OK = "ok"
    GONE = "gone"  # 410 GoneException: the client is no longer connected
    FAILED = "failed"  # anything else: throttled, too large, timeout, network


def endpoint_for(domain_name: str | None, stage: str | None) -> str:
    """Where the management API of a connection lives: the setting when given, else derived from
    the WebSocket event (``https://{domainName}/{stage}``, as AWS documents it)."""
    configured = get_settings().websocket_management_url
    if configured:
        return configured.rstrip("/")
    if not domain_name or not stage:
        raise ValueError("no PULSE_WEBSOCKET_MANAGEMENT_URL and no domainName/stage to derive it")
    return f"https://{domain_name}/{stage}"


def client(endpoint: str) -> Any:
    """The process-wide ``apigatewaymanagementapi`` client of ``endpoint`` (thread-safe)."""
    found = _clients.get(endpoint)
    if found is None:
        with _lock:
            found = _clients.get(endpoint)
            if found is None:
                import boto3
                from botocore.config import Config

                found = boto3.client(
                    "apigatewaymanagementapi",
                    endpoint_url=endpoint,
                    config=Config(
                        connect_timeout=CONNECT_TIMEOUT_S,
                        read_timeout=READ_TIMEOUT_S,
                        retries={"total_max_attempts": 1, "mode": "standard"},
                        max_pool_connections=max(10, get_settings().websocket_fanout_workers),
                        tcp_keepalive=True,
                        parameter_validation=False,  # two strings; saves CPU per push
                    ),
                )
                _clients[endpoint] = found
    return found


def warm() -> None:
    """Make the client of the configured endpoint now (a function's init, which Lambda runs at
    full CPU before the first event), so that the first push does not pay for loading boto3."""
    configured = get_settings().websocket_management_url
    if configured:
        client(configured.rstrip("/"))


def reset_clients() -> None:
    with _lock:
        _clients.clear()


def post(endpoint: str, connection_id: str, data: bytes) -> PushResult:
    """Send ``data`` to one connection; never raises."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client(endpoint).post_to_connection(ConnectionId=connection_id, Data=data)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "GoneException":
            return PushResult.GONE
        logger.warning(
            "post_to_connection failed", extra={"connection_id": connection_id, "code": code}
        )
        return PushResult.FAILED
    except BotoCoreError as exc:
        logger.warning(
            "post_to_connection failed",
            extra={"connection_id": connection_id, "error": type(exc).__name__},
        )
        return PushResult.FAILED
    return PushResult.OK
