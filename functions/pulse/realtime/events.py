"""API Gateway WebSocket events (Lambda proxy integration), read into one model."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

EventType = Literal["CONNECT", "MESSAGE", "DISCONNECT"]


class WebSocketRequest(BaseModel):
    """What the ``ws`` function reads of an event: ``requestContext`` and, by route, the query
    string (``$connect``) or the body (messages)."""

    model_config = ConfigDict(frozen=True)

    route_key: str
    event_type: EventType
    connection_id: str
    domain_name: str | None = None
    stage: str | None = None
    request_id: str | None = None
    connected_at_ms: int | None = None
    source_ip: str | None = None
    query: dict[str, str] = {}
    body: str | None = None
    disconnect_status_code: int | None = None

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> WebSocketRequest:
        context: dict[str, Any] = event.get("requestContext") or {}
        body = event.get("body")
        if body is not None and event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(body).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                body = ""  # not text: no JSON message can be in it
        return cls(
            route_key=context.get("routeKey", ""),
            event_type=context.get("eventType", "MESSAGE"),
            connection_id=context["connectionId"],
            domain_name=context.get("domainName"),
            stage=context.get("stage"),
            request_id=context.get("requestId"),
            connected_at_ms=context.get("connectedAt"),
            source_ip=(context.get("identity") or {}).get("sourceIp"),
            query=dict(event.get("queryStringParameters") or {}),
            body=body,
            disconnect_status_code=context.get("disconnectStatusCode"),
        )
