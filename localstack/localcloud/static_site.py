"""The local front door on :3000, standing in for S3 + CloudFront: the dashboard's static export
(frontend/out) with its /config.json, the SDK at /sdk/, the demo shop at /demo/ (with the demo
project's key filled in), and /api/* forwarded unchanged to the local API Gateway, so that ingest
and the dashboard's API calls are first-party as in AWS."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

import httpx
from starlette.types import Message, Receive, Scope, Send

from localcloud.config import REPO_ROOT

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "proxy-connection",
    "te",
    "trailer",
}
KEY_PLACEHOLDER = "__PROJECT_KEY__"


# Added to every answer that does not set them itself (the API's own answers do): no MIME
# sniffing, never inside a frame. The policy leaves scripts alone (the static dashboard has
# inline bootstrap scripts) and shuts off plugins and <base> hijacking.
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"content-security-policy", b"frame-ancestors 'none'; object-src 'none'; base-uri 'self'"),
)


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
            message = {**message, "headers": headers}
        await send(message)

    return sending


class StaticSite:
    def __init__(
        self,
        *,
        api_base_url: str,
        demo_key: str | None = None,
        root: Path = REPO_ROOT,
        websocket_url: str | None = None,
    ) -> None:
        self.api = httpx.AsyncClient(base_url=api_base_url, timeout=30)
        self.demo_key = demo_key or ""
        # The dashboard's runtime settings (frontend/src/lib/config.ts): the API is this site's
        # own /api/* (first-party, no CORS), the WebSocket API is the local gateway's stage.
        self.dashboard_config = json.dumps(
            {
                "apiUrl": "",
                "wsUrl": websocket_url or "",
                "sdkUrl": "/sdk/tracker.min.js",
            }
        ).encode()
        self.sdk_dir = root / "sdk" / "dist"
        self.demo_dir = root / "demo"
        self.dashboard_dir = root / "frontend" / "out"

    async def _send(
        self,
        send: Send,
        status: int,
        body: bytes,
        content_type: str,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ] + (extra or [])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _file(base: Path, relative: str) -> Path | None:
        candidate = (base / relative).resolve()
        if base.resolve() not in candidate.parents and candidate != base.resolve():
            return None  # no escaping the folder with ../
        return candidate if candidate.is_file() else None

    async def _serve_file(self, send: Send, path: Path, cache: str) -> None:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        await self._send(
            send, 200, path.read_bytes(), content_type, [(b"cache-control", cache.encode())]
        )

    async def _not_found(self, send: Send) -> None:
        await self._send(send, 404, b"Not Found", "text/plain; charset=utf-8")

    async def _proxy(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in HOP_BY_HOP
        ]
        url = scope["path"] + (
            f"?{scope['query_string'].decode()}" if scope.get("query_string") else ""
        )
        try:
            upstream = await self.api.request(scope["method"], url, content=body, headers=headers)
        except httpx.HTTPError:
            await self._send(send, 502, b'{"message":"Bad Gateway"}', "application/json")
            return
        out = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in upstream.headers.multi_items()
            if k.lower() not in HOP_BY_HOP
        ]
        out.append((b"content-length", str(len(upstream.content)).encode()))
        await send({"type": "http.response.start", "status": upstream.status_code, "headers": out})
        await send({"type": "http.response.body", "body": upstream.content})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            send = _with_security_headers(send)
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.api.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith("/api/"):
            await self._proxy(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await self._send(send, 405, b"Method Not Allowed", "text/plain; charset=utf-8")
            return
        if path.startswith("/sdk/"):
            found = self._file(self.sdk_dir, path.removeprefix("/sdk/"))
            if found:
                await self._serve_file(send, found, "public, max-age=300")
            else:
                await self._not_found(send)
            return
        if path == "/demo":
            await self._send(send, 308, b"", "text/plain", [(b"location", b"/demo/")])
            return
        if path.startswith("/demo/"):
            found = self._file(self.demo_dir, path.removeprefix("/demo/"))
            if found and found.suffix != ".html" and found.name != "dev-server.mjs":
                await self._serve_file(send, found, "no-cache")
                return
            # Every other path under /demo/ is one of the demo's in-page routes.
            html = (
                (self.demo_dir / "index.html").read_text().replace(KEY_PLACEHOLDER, self.demo_key)
            )
            await self._send(
                send,
                200,
                html.encode(),
                "text/html; charset=utf-8",
                [(b"cache-control", b"no-cache")],
            )
            return
        if path == "/config.json":
            await self._send(
                send,
                200,
                self.dashboard_config,
                "application/json",
                [(b"cache-control", b"no-cache")],
            )
            return
        relative = path.lstrip("/") or "index.html"
        if self.dashboard_dir.is_dir():
            found = (
                self._file(self.dashboard_dir, relative)
                or self._file(self.dashboard_dir, relative.rstrip("/") + "/index.html")
                or self._file(self.dashboard_dir, relative + ".html")
            )
            if found:
                # hashed assets never change; pages and everything else are revalidated
                immutable = relative.startswith("_next/static/")
                await self._serve_file(
                    send, found, "public, max-age=31536000, immutable" if immutable else "no-cache"
                )
                return
        if path == "/":
            page = (
                b"<!doctype html><meta charset=utf-8><title>Pulse</title>"
                b"<h1>Pulse is running locally</h1><ul>"
                b'<li><a href="/demo/">Demo shop</a> (tracked by the SDK)</li>'
                b'<li><a href="/sdk/tracker.min.js">/sdk/tracker.min.js</a></li>'
                b'<li><a href="/api/v1/docs">API docs</a></li></ul>'
            )
            await self._send(send, 200, page, "text/html; charset=utf-8")
            return
        await self._not_found(send)
