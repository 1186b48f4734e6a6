"""The "ws" function's routes: ``$connect`` authorizes and registers, ``$disconnect`` forgets,
and every client message (``$default``) is answered through the management API.

- ``$connect`` needs ``?project_id=…&token=<access JWT>`` of a user who owns the project:
  no or a bad token → 401, a missing or malformed ``project_id`` → 400, a project the user does
  not own (or that does not exist) → 403. API Gateway refuses the handshake with that status.
- Or ``?project_id=…&share_token=<share-session JWT>``: a share link's visitor, for the link's
  project only (another → 403; a revoked link or a bad token → 401). Such a connection gets
  visitors now and nothing else: no events (they carry properties), no counters, no other
  project. Its link is looked up again at every message, and revoking it forgets the connection.
- Messages: ``ping`` → ``pong``; ``subscribe`` / ``unsubscribe`` another project the user owns;
  ``backfill`` → the project's last events, its counters and visitors now (a share link's
  connection: visitors now); ``visitors_now`` → visitors now. Anything else gets an ``error``
  message and the connection stays open.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from pulse import exceptions as exc
from pulse.auth import share_tokens, tokens
from pulse.data import projects, share_links
from pulse.domain import sharing
from pulse.observability import logger
from pulse.realtime import feed, protocol, push, registry
from pulse.realtime.events import WebSocketRequest

Response = dict[str, Any]

STATUS_BY_TYPE: tuple[tuple[type[exc.PulseError], int], ...] = (
    (exc.AuthenticationError, 401),
    (exc.PermissionDeniedError, 403),
    (exc.InvalidInputError, 400),
    (exc.DataLayerError, 503),
    (exc.ServiceUnavailableError, 503),
)


def handle(event: dict[str, Any]) -> Response:
    request = WebSocketRequest.from_event(event)
    if request.event_type == "CONNECT":
        return connect(request)
    if request.event_type == "DISCONNECT":
        return disconnect(request)
    return message(request)


def _status(error: exc.PulseError) -> int:
    for cls, status in STATUS_BY_TYPE:
        if isinstance(error, cls):
            return status
    return 500


def _refusal(status: int, error: exc.PulseError) -> Response:
    body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def owned_project(user_id: UUID | str, project_id: UUID | str | None) -> str:
    """``project_id`` if the user owns it; ``PermissionDeniedError`` otherwise (a project of
    someone else and one that does not exist look the same)."""
    pid = project_id if isinstance(project_id, UUID) else _project_id(project_id)
    owner = user_id if isinstance(user_id, UUID) else UUID(str(user_id))
    if projects.get_project(project_id=pid, owner_id=owner) is None:
        raise exc.PermissionDeniedError("not a project of yours")
    return str(pid)


def _project_id(project_id: str | None) -> UUID:
    if project_id is None or project_id == "":
        raise exc.MalformedRequestError("project_id is required")
    try:
        return UUID(str(project_id))
    except ValueError as error:
        raise exc.MalformedRequestError("project_id is not a UUID") from error


def shared_project(share_token: str, project_id: str | None) -> tuple[str, str]:
    """(project, link) of a share session whose link is live, if ``project_id`` is its
    project; ``PermissionDeniedError`` for another project."""
    pid = _project_id(project_id)
    claims = share_tokens.verify(share_token)
    link = sharing.live_link(claims)
    if link.project_id != pid:
        raise exc.PermissionDeniedError("a share link opens its own project only")
    return str(pid), str(link.id)


def connect(request: WebSocketRequest) -> Response:
    user_id, link_id = "", None
    try:
        token, share_token = request.query.get("token"), request.query.get("share_token")
        if token and share_token:
            raise exc.MalformedRequestError("give token or share_token, not both")
        if share_token:
            project_id, link_id = shared_project(share_token, request.query.get("project_id"))
        else:
            if not token:
                raise exc.AuthenticationError("missing token")
            claims = tokens.verify_access(token)
            user_id = str(claims.user_id)
            project_id = owned_project(claims.user_id, request.query.get("project_id"))
    except exc.PulseError as error:
        status = _status(error)
        logger.info("connection refused", extra={"status": status, "reason": error.message})
        return _refusal(status, error)
    connected_at = request.connected_at_ms / 1000 if request.connected_at_ms else None
    registry.register(
        connection_id=request.connection_id,
        user_id=user_id,
        project_id=project_id,
        connected_at=connected_at,
        link_id=link_id,
    )
    return {"statusCode": 200}


def disconnect(request: WebSocketRequest) -> Response:
    registry.unregister([request.connection_id])
    return {"statusCode": 200}


def replies(request: WebSocketRequest) -> list[bytes]:
    """The messages that answer one client message, in order."""
    try:
        msg = protocol.parse_client_message(request.body)
    except exc.MalformedRequestError as error:
        return [protocol.error("bad_request", error.message)]
    except exc.InvalidInputError as error:
        return [protocol.error("invalid_input", error.message, details=error.details)]
    if msg.action == "ping":
        return [protocol.pong(msg.id)]
    if msg.action not in protocol.ACTIONS:
        return [
            protocol.error(
                "unknown_action",
                f"unknown action; one of {', '.join(protocol.ACTIONS)}",
                request_id=msg.id,
                action=msg.action,
            )
        ]
    connection = registry.get(request.connection_id)
    if connection is None:
        return [
            protocol.error(
                "not_registered",
                "this connection is not registered (any more); reconnect",
                request_id=msg.id,
                action=msg.action,
            )
        ]
    if connection.shared:
        return _shared_replies(connection, msg)
    try:
        if msg.action == "subscribe":
            project_id = owned_project(connection.user_id, msg.project_id)
            registry.subscribe(connection, project_id)
            return [protocol.subscribed(project_id, msg.id)]
        if msg.action == "unsubscribe":
            if msg.project_id is None:
                raise exc.MalformedRequestError("project_id is required")
            registry.unsubscribe(connection, str(msg.project_id))
            return [protocol.unsubscribed(str(msg.project_id), msg.id)]
        project_id = str(msg.project_id) if msg.project_id else connection.project_id
        if project_id not in connection.projects:
            raise exc.PermissionDeniedError("subscribe to the project first")
        if msg.action == "visitors_now":
            return list(feed.visitors_messages([project_id], request_id=msg.id).values())
        # backfill
        out = protocol.events_messages(
            project_id, feed.recent_items(project_id, msg.limit), backfill=True
        )
        out.extend(feed.counters_messages([project_id]).values())
        out.extend(feed.visitors_messages([project_id]).values())
        return out
    except exc.PulseError as error:
        code = "forbidden" if isinstance(error, exc.PermissionDeniedError) else error.code
        return [protocol.error(code, error.message, request_id=msg.id, action=msg.action)]


def _shared_replies(connection: registry.Connection, msg: protocol.ClientMessage) -> list[bytes]:
    """A share link's connection: visitors now of its project (for ``backfill`` and
    ``visitors_now``), while its link lives."""
    try:
        live = share_links.get_link(link_id=UUID(str(connection.link_id))) is not None
    except exc.PulseError as error:  # Postgres unavailable: say so, keep the connection
        return [protocol.error(error.code, error.message, request_id=msg.id, action=msg.action)]
    if not live:
        registry.unregister([connection.connection_id])
        return [
            protocol.error(
                "revoked", "this share link was revoked", request_id=msg.id, action=msg.action
            )
        ]
    if msg.action in ("visitors_now", "backfill"):
        request_id = msg.id if msg.action == "visitors_now" else None
        return list(feed.visitors_messages([connection.project_id], request_id=request_id).values())
    return [
        protocol.error(
            "forbidden",
            "a share link's connection follows visitors now of its own project only",
            request_id=msg.id,
            action=msg.action,
        )
    ]


def message(request: WebSocketRequest) -> Response:
    endpoint = push.endpoint_for(request.domain_name, request.stage)
    for data in replies(request):
        result = push.post(endpoint, request.connection_id, data)
        if result is push.PushResult.GONE:
            registry.unregister([request.connection_id])
            break
        if result is push.PushResult.FAILED:
            break
    return {"statusCode": 200}
