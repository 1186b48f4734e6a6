"""A local API Gateway WebSocket API: a real WebSocket server that calls the routes' functions
in-process with API Gateway WebSocket events, and serves the ``@connections`` management API
that boto3's ``apigatewaymanagementapi`` client calls.

What it emulates (docs/realtime.md, docs/local.md):

- Clients connect to ``ws://host:port/`` or ``ws://host:port/{stage}``. ``$connect`` gets a
  CONNECT event (headers, ``queryStringParameters``); a non-2xx ``statusCode`` refuses the
  handshake with that status and body, as API Gateway does.
- Each message goes to the route its JSON ``action`` names (the route selection expression
  ``$request.body.action``), else to ``$default``; with no route the client gets
  ``{"message": "Forbidden", ...}``, and a function error ``{"message": "Internal server
  error", ...}``, the connection staying open. The function's return value is not sent back
  (no route responses): replies go through the management API.
- ``$disconnect`` gets a DISCONNECT event with ``disconnectStatusCode`` when the client closes,
  is closed, or vanishes.
- Limits: a frame over 32 KB or a message over 128 KB closes the connection with 1009; a
  connection is closed with 1001 ("Going away") after 2 hours, or after 10 minutes without a
  message from the client.
- Management API, under the stage as in AWS (``{endpoint}/{stage}/@connections/{id}``):
  ``POST`` sends the body to the client (text when it is UTF-8), ``GET`` describes the
  connection, ``DELETE`` closes it; an unknown or closed connection answers 410
  ``GoneException``, a body over 128 KB 413 ``PayloadTooLargeException``. Requests are not
  signature-checked.

Messages from the server go out as one frame each (API Gateway splits those over 32 KB into
frames; clients see the same message either way).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import secrets
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.types import Receive, Scope, Send

from localcloud.http_gateway import give_thread_an_event_loop
from localcloud.lambdas import LocalFunction
from pulse.wiring import WebSocketRoute

log = logging.getLogger("localcloud.ws")

# API Gateway WebSocket quotas.
MAX_FRAME_BYTES = 32 * 1024
MAX_MESSAGE_BYTES = 128 * 1024
MAX_CONNECTION_S = 2 * 3600
IDLE_TIMEOUT_S = 10 * 60

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
API_ID = "local"
# ``disconnectReason`` when the close frame gave none.
DISCONNECT_REASONS = {
    1005: "Client-side close frame status not set",
    1006: "Connection closed abnormally",
    1009: "Message too big",
    1001: "Going away",
}

_MANAGEMENT_PATH = re.compile(r"^(?:/(?P<stage>[^/@%]+))?/(?:@|%40)connections/(?P<id>[^/]+)/?$")


def _short_id(n: int = 11) -> str:
    """An id shaped like API Gateway's: 16 URL-safe base64 characters (``BFaT_fALIAMCKug=``)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(n)).decode()


def new_connection_id() -> str:
    return _short_id()


def _request_time(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Connection:
    """One open client connection."""

    connection_id: str
    send: Send
    connected_at: float
    source_ip: str
    user_agent: str
    last_active_at: float = 0.0
    closing: bool = False
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    idle_timer: asyncio.TimerHandle | None = None

    async def send_data(self, data: bytes) -> None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            await self.send({"type": "websocket.send", "bytes": data})
        else:
            await self.send({"type": "websocket.send", "text": text})


class RouteSelector:
    """API Gateway's WebSocket route selection with ``$request.body.action``."""

    EXPRESSION = "$request.body.action"

    def __init__(self, routes: tuple[WebSocketRoute, ...]) -> None:
        self.by_key = {route.route_key: route for route in routes}

    def special(self, route_key: str) -> WebSocketRoute | None:
        return self.by_key.get(route_key)

    def select(self, body: str | None) -> WebSocketRoute | None:
        if body:
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):  # not JSON, or nested too deep to read
                parsed = None
            if isinstance(parsed, dict):
                action = parsed.get("action")
                if isinstance(action, str) and not action.startswith("$"):
                    route = self.by_key.get(action)
                    if route is not None:
                        return route
        return self.by_key.get("$default")


class WebSocketGateway:
    """The ASGI app uvicorn serves on the local WebSocket port (see ``server_options``)."""

    def __init__(
        self,
        routes: tuple[WebSocketRoute, ...],
        functions: dict[str, LocalFunction],
        *,
        domain_name: str,
        stage: str,
        max_concurrency: int,
        max_connection_s: float = MAX_CONNECTION_S,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.routes = RouteSelector(routes)
        self.functions = functions
        self.domain_name = domain_name
        self.stage = stage
        self.max_connection_s = max_connection_s
        self.idle_timeout_s = idle_timeout_s
        self.connections: dict[str, Connection] = {}
        self.pool = ThreadPoolExecutor(
            max_concurrency, thread_name_prefix="lambda-ws", initializer=give_thread_an_event_loop
        )

    @property
    def management_url(self) -> str:
        """What ``PULSE_WEBSOCKET_MANAGEMENT_URL`` is locally (boto3's ``endpoint_url``)."""
        return f"http://{self.domain_name}/{self.stage}"

    @staticmethod
    def server_options() -> dict[str, Any]:
        """uvicorn options: the websockets (Sans-I/O) protocol, which takes a message limit and a
        frame limit, and no server pings (API Gateway sends none)."""
        return {
            "ws": "websockets-sansio",
            "ws_max_size": (MAX_MESSAGE_BYTES, MAX_FRAME_BYTES),
            "ws_ping_interval": None,
            "ws_per_message_deflate": False,
        }

    # Events -------------------------------------------------------------------------------

    def _context(
        self, connection: Connection, route_key: str, event_type: str, now: float
    ) -> dict[str, Any]:
        request_id = _short_id()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": int(connection.connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": connection.source_ip},
            "requestId": request_id,
            "domainName": self.domain_name,
            "connectionId": connection.connection_id,
            "apiId": API_ID,
        }

    def connect_event(
        self, connection: Connection, headers: list[tuple[str, str]], query_string: str
    ) -> dict[str, Any]:
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for name, value in headers:
            single[name] = value
            multi.setdefault(name, []).append(value)
        for name, value in (
            ("X-Forwarded-For", connection.source_ip),
            ("X-Forwarded-Port", self.domain_name.rpartition(":")[2] or "80"),
            ("X-Forwarded-Proto", "http"),
        ):
            single.setdefault(name, value)
            multi.setdefault(name, [value])
        event: dict[str, Any] = {
            "headers": single,
            "multiValueHeaders": multi,
            "requestContext": self._context(connection, "$connect", "CONNECT", time.time()),
            "isBase64Encoded": False,
        }
        pairs = parse_qsl(query_string, keep_blank_values=True)
        if pairs:
            query: dict[str, str] = {}
            multi_query: dict[str, list[str]] = {}
            for key, value in pairs:
                query[key] = value
                multi_query.setdefault(key, []).append(value)
            event["queryStringParameters"] = query
            event["multiValueQueryStringParameters"] = multi_query
        return event

    def message_event(
        self, connection: Connection, route_key: str, message: Mapping[str, Any]
    ) -> dict[str, Any]:
        context = self._context(connection, route_key, "MESSAGE", time.time())
        context["messageId"] = _short_id()
        text = message.get("text")
        if text is not None:
            return {"requestContext": context, "body": text, "isBase64Encoded": False}
        raw: bytes = message.get("bytes") or b""
        return {
            "requestContext": context,
            "body": base64.b64encode(raw).decode(),
            "isBase64Encoded": True,
        }

    def disconnect_event(self, connection: Connection, code: int, reason: str) -> dict[str, Any]:
        context = self._context(connection, "$disconnect", "DISCONNECT", time.time())
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = reason or DISCONNECT_REASONS.get(code, "")
        headers = {
            "Host": self.domain_name,
            "x-api-key": "",
            "X-Forwarded-For": "",
            "x-restapi": "",
        }
        return {
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }

    async def _invoke(self, route: WebSocketRoute, event: dict[str, Any]) -> Any:
        function = self.functions[route.function]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, function.invoke, event)

    # ASGI -----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "http":
            await self._management(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)

    async def _deny(self, send: Send, status: int, body: bytes, content_type: str) -> None:
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type.encode("latin-1"))],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        if scope["path"].rstrip("/") not in ("", f"/{self.stage}"):
            await self._deny(send, 403, b'{"message":"Forbidden"}', "application/json")
            return
        headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers") or []
        ]
        client = scope.get("client") or ("127.0.0.1", 0)
        now = time.time()
        connection = Connection(
            connection_id=new_connection_id(),
            send=send,
            connected_at=now,
            last_active_at=now,
            source_ip=client[0],
            user_agent=next((v for k, v in headers if k.lower() == "user-agent"), ""),
        )
        if not await self._connect(connection, scope, headers, send):
            return
        self._start_timers(connection)
        code, reason = CLOSE_NORMAL, ""
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    code = int(message.get("code") or 1005)
                    reason = str(message.get("reason") or "")
                    break
                if message["type"] == "websocket.receive":
                    connection.last_active_at = time.time()
                    self._reset_idle_timer(connection)
                    await self._on_message(connection, message)
        finally:
            await self._forget(connection, code, reason)

    async def _connect(
        self, connection: Connection, scope: Scope, headers: list[tuple[str, str]], send: Send
    ) -> bool:
        route = self.routes.special("$connect")
        subprotocol = None
        if route is not None:
            query = scope.get("query_string", b"").decode("latin-1")
            event = self.connect_event(connection, headers, query)
            try:
                result = await self._invoke(route, event)
            except Exception:
                log.exception("$connect of %s raised", connection.connection_id)
                await self._deny(
                    send, 500, b'{"message": "Internal server error"}', "application/json"
                )
                return False
            status, response_headers, body = _connect_response(result)
            if not 200 <= status < 300:
                await self._deny(
                    send,
                    status,
                    body,
                    response_headers.get("content-type", "text/plain; charset=utf-8"),
                )
                return False
            subprotocol = response_headers.get("sec-websocket-protocol")
        accept: dict[str, Any] = {"type": "websocket.accept"}
        if subprotocol:
            accept["subprotocol"] = subprotocol
        await send(accept)
        self.connections[connection.connection_id] = connection
        return True

    def _start_timers(self, connection: Connection) -> None:
        loop = asyncio.get_running_loop()
        connection.timers.append(
            loop.call_later(
                self.max_connection_s,
                lambda: loop.create_task(self.close(connection.connection_id, CLOSE_GOING_AWAY)),
            )
        )
        self._reset_idle_timer(connection)

    def _reset_idle_timer(self, connection: Connection) -> None:
        loop = asyncio.get_running_loop()
        if connection.idle_timer is not None:
            connection.idle_timer.cancel()
        connection.idle_timer = loop.call_later(
            self.idle_timeout_s,
            lambda: loop.create_task(self.close(connection.connection_id, CLOSE_GOING_AWAY)),
        )

    async def _on_message(self, connection: Connection, message: Mapping[str, Any]) -> None:
        text = message.get("text")
        route = self.routes.select(text)
        request_id = _short_id()
        if route is None:
            await self._error_frame(connection, "Forbidden", request_id)
            return
        event = self.message_event(connection, route.route_key, message)
        try:
            await self._invoke(route, event)
        except Exception:
            log.exception("%s of %s raised", route.route_key, connection.connection_id)
            await self._error_frame(connection, "Internal server error", request_id)

    async def _error_frame(self, connection: Connection, text: str, request_id: str) -> None:
        body = {"message": text, "connectionId": connection.connection_id, "requestId": request_id}
        try:
            await connection.send_data(json.dumps(body).encode())
        except Exception:  # the client is gone already
            log.debug("could not send an error frame to %s", connection.connection_id)

    async def _forget(self, connection: Connection, code: int, reason: str) -> None:
        self.connections.pop(connection.connection_id, None)
        connection.closing = True
        for timer in connection.timers:
            timer.cancel()
        if connection.idle_timer is not None:
            connection.idle_timer.cancel()
        route = self.routes.special("$disconnect")
        if route is None:
            return
        try:
            await self._invoke(route, self.disconnect_event(connection, code, reason))
        except Exception as exc:  # best effort, as in AWS (also: the pool is shutting down)
            log.warning("$disconnect of %s failed: %s", connection.connection_id, exc)

    async def close(self, connection_id: str, code: int = CLOSE_NORMAL, reason: str = "") -> bool:
        """Close a connection from the server side; ``False`` if it is not open."""
        connection = self.connections.pop(connection_id, None)
        if connection is None or connection.closing:
            return False
        connection.closing = True
        if not reason:
            reason = "Going away" if code == CLOSE_GOING_AWAY else ""
        try:
            await connection.send({"type": "websocket.close", "code": code, "reason": reason})
        except Exception:
            log.debug("closing %s: already closed", connection_id)
        return True

    # Management API -------------------------------------------------------------------------

    async def _respond(
        self,
        send: Send,
        status: int,
        body: bytes = b"",
        *,
        error_type: str | None = None,
        content_type: str = "application/json",
    ) -> None:
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"x-amzn-requestid", _short_id().encode()),
        ]
        if error_type:
            headers.append((b"x-amzn-errortype", error_type.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _error(self, send: Send, status: int, error_type: str, message: str) -> None:
        body = json.dumps({"message": message}).encode()
        await self._respond(send, status, body, error_type=error_type)

    async def _management(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        matched = _MANAGEMENT_PATH.match(raw_path.decode("latin-1").split("?", 1)[0])
        if matched is None:
            await self._respond(send, 404, b'{"message":"Not Found"}')
            return
        if matched["stage"] is not None and unquote(matched["stage"]) != self.stage:
            await self._error(send, 403, "ForbiddenException", "Forbidden")
            return
        connection_id = unquote(matched["id"])
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size <= MAX_MESSAGE_BYTES:
                chunks.append(chunk)
            if not msg.get("more_body"):
                break
        method = scope["method"]
        connection = self.connections.get(connection_id)
        if method not in ("POST", "GET", "DELETE"):
            await self._respond(send, 404, b'{"message":"Not Found"}')
            return
        if connection is None or connection.closing:
            await self._error(send, 410, "GoneException", f"{connection_id} is not connected")
            return
        if method == "GET":
            info = {
                "connectedAt": _iso(connection.connected_at),
                "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                "lastActiveAt": _iso(connection.last_active_at),
            }
            await self._respond(send, 200, json.dumps(info).encode())
        elif method == "DELETE":
            await self.close(connection_id, CLOSE_NORMAL)
            await self._respond(send, 204)
        elif size > MAX_MESSAGE_BYTES:
            await self._error(
                send, 413, "PayloadTooLargeException", f"data over {MAX_MESSAGE_BYTES} bytes"
            )
        else:
            try:
                await connection.send_data(b"".join(chunks))
            except Exception:
                await self._error(send, 410, "GoneException", f"{connection_id} is not connected")
                return
            await self._respond(send, 200)


def _connect_response(result: Any) -> tuple[int, dict[str, str], bytes]:
    """A ``$connect`` function's answer as API Gateway reads it (Lambda proxy integration)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, {}, b""
    headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result["statusCode"]), headers, body
