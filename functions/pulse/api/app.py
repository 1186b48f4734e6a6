"""Build the FastAPI app: routers under /api/v1, one error shape, slash-agnostic paths."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from pulse.api import errors
from pulse.api.routes import analytics, auth, health, projects

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
    for router in (health.router, auth.router, projects.router, analytics.router):
        app.include_router(router, prefix=API_PREFIX)
    app.add_middleware(TrailingSlashMiddleware)
    return app
