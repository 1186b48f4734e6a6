"""The WebSocket protocol: client actions, server messages, and the API Gateway size limits.

Server messages are JSON text. An ``events`` message carries at most one 32 KB frame's worth of
events; a larger batch becomes several messages. An event too large for a frame of its own goes
alone in a message (API Gateway splits it into frames); one that would push a message past
128 KB keeps its fields but loses its properties (``"properties": {}, "truncated": true``), and
if even that does not fit it is dropped (never the case for events ingest accepts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pulse.exceptions import InvalidInputError, MalformedRequestError
from pulse.observability import logger

# API Gateway WebSocket limits (hard quotas): a frame of 32 KB, a message of 128 KB.
FRAME_BYTES = 32 * 1024
MESSAGE_BYTES = 128 * 1024
# The connection lasts at most 2 hours; API Gateway closes it then (and after 10 idle minutes).
CONNECTION_TTL_S = 2 * 3600
IDLE_TIMEOUT_S = 10 * 60

DEFAULT_BACKFILL = 50
MAX_BACKFILL = 100  # the processor keeps the last 100 events per project (live.RECENT_EVENTS)

Action = Literal["ping", "subscribe", "unsubscribe", "backfill", "visitors_now"]
ACTIONS: tuple[str, ...] = ("ping", "subscribe", "unsubscribe", "backfill", "visitors_now")


class ClientMessage(BaseModel):
    """A message a client sends on ``$default``: ``{"action": ..., ...}``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    action: str = Field(min_length=1, max_length=64)
    # Echoed in the reply, so that a client can match replies to requests.
    id: str | None = Field(default=None, max_length=64)
    project_id: UUID | None = None
    limit: int = Field(default=DEFAULT_BACKFILL, ge=1, le=MAX_BACKFILL)


def parse_client_message(body: str | None) -> ClientMessage:
    """The client's message; ``MalformedRequestError`` when it is not a JSON object,
    ``InvalidInputError`` when its fields are wrong."""
    try:
        raw = orjson.loads(body or "")
    except orjson.JSONDecodeError as exc:
        raise MalformedRequestError("a message is a JSON object with an action") from exc
    if not isinstance(raw, dict):
        raise MalformedRequestError("a message is a JSON object with an action")
    try:
        return ClientMessage.model_validate(raw)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]) or "message", "message": err["msg"]}
            for err in exc.errors(include_url=False)
        ]
        raise InvalidInputError("invalid message", details=details) from exc


def _dumps(message: Mapping[str, Any]) -> bytes:
    return orjson.dumps(message)


def _with_id(message: dict[str, Any], request_id: str | None) -> dict[str, Any]:
    if request_id is not None:
        message["id"] = request_id
    return message


def pong(request_id: str | None = None) -> bytes:
    return _dumps(_with_id({"type": "pong"}, request_id))


def subscribed(project_id: str, request_id: str | None = None) -> bytes:
    return _dumps(_with_id({"type": "subscribed", "project_id": project_id}, request_id))


def unsubscribed(project_id: str, request_id: str | None = None) -> bytes:
    return _dumps(_with_id({"type": "unsubscribed", "project_id": project_id}, request_id))


def error(
    code: str,
    message: str,
    *,
    request_id: str | None = None,
    action: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> bytes:
    body: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if action is not None:
        body["action"] = action
    if details:
        body["details"] = details
    return _dumps(_with_id(body, request_id))


def counters(
    project_id: str, *, hour: str, events: int, sessions: int, by_event: Mapping[str, int]
) -> bytes:
    """The live metric cards of one project for one UTC hour."""
    return _dumps(
        {
            "type": "counters",
            "project_id": project_id,
            "hour": hour,
            "events": events,
            "sessions": sessions,
            "by_event": dict(by_event),
        }
    )


def visitors_now(
    project_id: str,
    *,
    visitors: int,
    window_s: int,
    at: str,
    next_change_at: str | None,
    request_id: str | None = None,
) -> bytes:
    """Visitors now of one project (``pulse.realtime.visitors``): pushed when the count changes,
    and sent in answer to ``backfill`` and ``visitors_now``. ``next_change_at`` is when the count
    drops if no event comes: a client asks again (``visitors_now``) then."""
    return _dumps(
        _with_id(
            {
                "type": "visitors_now",
                "project_id": project_id,
                "visitors": visitors,
                "window_s": window_s,
                "at": at,
                "next_change_at": next_change_at,
            },
            request_id,
        )
    )


def fit_event(item: bytes, budget: int) -> bytes | None:
    """``item`` (one feed object as JSON) if it fits in ``budget`` bytes; else the same event
    without its properties and marked ``"truncated": true``; ``None`` if even that is too big."""
    if len(item) <= budget:
        return item
    event = orjson.loads(item)
    event["properties"] = {}
    event["truncated"] = True
    smaller = orjson.dumps(event)
    if len(smaller) <= budget:
        return smaller
    return None


def events_messages(
    project_id: str,
    items: Sequence[str | bytes],
    *,
    backfill: bool = False,
    frame_bytes: int = FRAME_BYTES,
    message_bytes: int = MESSAGE_BYTES,
) -> list[bytes]:
    """``{"type": "events", "project_id", "events": [...]}`` messages holding ``items`` (feed
    objects as JSON text, in order), each at most ``frame_bytes`` long unless it holds a single
    event that is larger on its own (at most ``message_bytes``)."""
    flag = b'"backfill":true,' if backfill else b""
    head = b'{"type":"events","project_id":' + orjson.dumps(project_id) + b"," + flag
    head += b'"events":['
    tail = b"]}"
    frame_budget = frame_bytes - len(head) - len(tail)
    message_budget = message_bytes - len(head) - len(tail)
    messages: list[bytes] = []
    batch: list[bytes] = []
    size = 0

    def flush() -> None:
        nonlocal batch, size
        if batch:
            messages.append(head + b",".join(batch) + tail)
            batch, size = [], 0

    for raw in items:
        item = raw.encode() if isinstance(raw, str) else raw
        if len(item) > frame_budget:
            fitted = fit_event(item, message_budget)
            if fitted is None:
                logger.warning("event dropped from the live feed: over the message limit")
                continue
            if len(fitted) > frame_budget:
                flush()
                messages.append(head + fitted + tail)
                continue
            item = fitted
        extra = len(item) + (1 if batch else 0)
        if size + extra > frame_budget:
            flush()
            extra = len(item)
        batch.append(item)
        size += extra
    flush()
    return messages
