"""Build the FastAPI app: routers under /api/v1, one error shape, slash-agnostic paths."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pulse.api import errors
from pulse.api.routes import analytics, auth, funnels, health, projects, retention, sharing

API_PREFIX = "/api/v1"


class TrailingSlashMiddleware:
    """Serve ``/x/`` exactly as ``/x``, with no redirect (API Gateway clients don't follow them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope, path=path.rstrip("/") or "/")
                if scope.get("raw_path"):
                    scope["raw_path"] = scope["raw_path"].rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


# Every answer of the API: no MIME sniffing, never inside a frame, no content of its own to run.
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# The interactive docs page loads Swagger UI's script and style from a CDN.
DOCS_CSP = b"frame-ancestors 'none'"


class SecurityHeadersMiddleware:
    """Add ``SECURITY_HEADERS`` and a Content-Security-Policy to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"].startswith(f"{API_PREFIX}/docs") else API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", csp))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app() -> FastAPI:
    app = FastAPI(
        title="Pulse analytics API",
        version="1.0.0",
        description="Accounts, projects and analytics of the Pulse event-analytics platform.",
        docs_url=f"{API_PREFIX}/docs",
        openapi_url=f"{API_PREFIX}/openapi.json",
        redoc_url=None,
        redirect_slashes=False,
    )
    errors.install(app)
    for router in (
        health.router,
        auth.router,
        projects.router,
        sharing.router,
        sharing.public,
        analytics.router,
        funnels.saved,
        funnels.computed,
        retention.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.add_middleware(TrailingSlashMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
