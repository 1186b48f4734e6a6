"""A local API Gateway HTTP API: each request becomes a payload-format-2.0 event for the
function its route names, invoked in-process; requests run in parallel on a thread pool.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from localcloud.lambdas import ACCOUNT_ID, FunctionTimeout, LocalFunction, PayloadTooLarge
from localcloud.threadnames import name_os_thread
from pulse.wiring import HttpRoute

log = logging.getLogger("localcloud.http")

# API Gateway HTTP APIs accept request bodies up to 10 MB.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
TEXT_TYPES = re.compile(
    r"^(text/|application/(json|javascript|xml|x-www-form-urlencoded))|\+json|\+xml"
)


def give_thread_an_event_loop() -> None:
    """A Lambda worker's main thread has a current event loop (Mangum relies on it)."""
    name_os_thread()
    asyncio.set_event_loop(asyncio.new_event_loop())


@dataclass(frozen=True)
class MatchedRoute:
    route: HttpRoute
    path_parameters: dict[str, str]


class RouteTable:
    """API Gateway's route selection: exact paths first, then the most specific greedy path."""

    def __init__(self, routes: tuple[HttpRoute, ...]) -> None:
        compiled = []
        for route in routes:
            pattern = "^"
            for segment in route.path.strip("/").split("/"):
                if segment.endswith("+}"):
                    pattern += "/(?P<" + segment[1:-2] + ">.+)"
                elif segment.startswith("{"):
                    pattern += "/(?P<" + segment[1:-1] + ">[^/]+)"
                else:
                    pattern += "/" + re.escape(segment)
            greedy = "+}" in route.path
            specificity = (not greedy, route.path.count("/"), route.method != "ANY")
            compiled.append((specificity, re.compile(pattern + "$"), route))
        self._routes = sorted(compiled, key=lambda c: c[0], reverse=True)

    def match(self, method: str, path: str) -> MatchedRoute | None:
        for _, pattern, route in self._routes:
            if route.method not in ("ANY", method):
                continue
            m = pattern.match(path)
            if m:
                return MatchedRoute(route, m.groupdict())
        return None


def _lambda_time(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def build_event(
    *,
    scope: Scope,
    body: bytes,
    matched: MatchedRoute,
    domain_name: str,
) -> dict[str, Any]:
    """The API Gateway HTTP API (2.0) event for one request."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    raw_query = scope.get("query_string", b"").decode("latin-1")
    query: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    content_type = headers.get("content-type", "")
    is_text = not body or bool(TEXT_TYPES.search(content_type))
    now = time.time()
    client = scope.get("client") or ("127.0.0.1", 0)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": matched.route.route_key,
        "rawPath": scope["path"],
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0],
            "http": {
                "method": scope["method"],
                "path": scope["path"],
                "protocol": f"HTTP/{scope.get('http_version', '1.1')}",
                "sourceIp": client[0],
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=")[:14],
            "routeKey": matched.route.route_key,
            "stage": "$default",
            "time": _lambda_time(now),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if matched.path_parameters:
        event["pathParameters"] = matched.path_parameters
    if body:
        event["body"] = (
            body.decode("utf-8", "replace") if is_text else base64.b64encode(body).decode()
        )
    return event


def _response_parts(result: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Interpret a handler's return value the way API Gateway does for format 2.0."""
    if not isinstance(result, dict) or "statusCode" not in result:
        body = json.dumps(result).encode() if not isinstance(result, str) else result.encode()
        return 200, [(b"content-type", b"application/json")], body
    headers = [
        (k.lower().encode("latin-1"), str(v).encode("latin-1"))
        for k, v in (result.get("headers") or {}).items()
    ]
    for k, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((k.lower().encode("latin-1"), str(v).encode("latin-1")) for v in values)
    headers.extend((b"set-cookie", c.encode("latin-1")) for c in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result["statusCode"]), headers, body


class HttpGateway:
    """The ASGI app that uvicorn serves on the local HTTP API port."""

    def __init__(
        self,
        routes: tuple[HttpRoute, ...],
        functions: dict[str, LocalFunction],
        *,
        domain_name: str,
        max_concurrency: int,
    ) -> None:
        self.table = RouteTable(routes)
        self.functions = functions
        self.domain_name = domain_name
        self.pool = ThreadPoolExecutor(
            max_concurrency, thread_name_prefix="lambda", initializer=give_thread_an_event_loop
        )

    async def _send(
        self, send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        headers = [h for h in headers if h[0] != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _message(self, send: Send, status: int, message: str) -> None:
        body = json.dumps({"message": message}).encode()
        await self._send(send, status, [(b"content-type", b"application/json")], body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks, size = [], 0
        while True:
            msg = await receive()
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > MAX_REQUEST_BYTES:
                await self._message(send, 413, "Request Entity Too Large")
                return
            chunks.append(chunk)
            if not msg.get("more_body"):
                break
        matched = self.table.match(scope["method"], scope["path"])
        if matched is None:
            await self._message(send, 404, "Not Found")
            return
        event = build_event(
            scope=scope, body=b"".join(chunks), matched=matched, domain_name=self.domain_name
        )
        function = self.functions[matched.route.function]
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self.pool, function.invoke, event)
        except PayloadTooLarge:
            await self._message(send, 413, "Request Entity Too Large")
            return
        except FunctionTimeout:
            await self._message(send, 503, "Service Unavailable")
            return
        except Exception:
            log.exception("function %s raised", function.spec.name)
            await self._message(send, 500, "Internal Server Error")
            return
        status, headers, body = _response_parts(result)
        await self._send(send, status, headers, body)
