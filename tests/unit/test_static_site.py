"""The local front door serves the dashboard's export and its /config.json (static_site.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from localcloud.static_site import StaticSite


def _site(root: Path) -> StaticSite:
    out = root / "frontend" / "out"
    (out / "projects" / "view").mkdir(parents=True)
    (out / "_next" / "static" / "chunks").mkdir(parents=True)
    (out / "index.html").write_text("<html>home</html>")
    (out / "projects" / "view" / "index.html").write_text("<html>dashboard</html>")
    (out / "_next" / "static" / "chunks" / "app.js").write_text("console.log(1)")
    return StaticSite(
        api_base_url="http://127.0.0.1:1",
        root=root,
        websocket_url="ws://127.0.0.1:8001/live",
    )


Get = Callable[[str], httpx.Response]


@pytest.fixture
def get(tmp_path: Path) -> Get:
    site = _site(tmp_path)

    async def fetch(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=site)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as c:
            return await c.get(path)

    return lambda path: asyncio.run(fetch(path))


def test_config_json_points_the_dashboard_at_this_deployment(
    get: Get,
) -> None:
    # Given the front door of a local platform, When the dashboard asks for its settings
    response = get("/config.json")
    # Then the API is first-party (this site's /api/*) and the WebSocket API is the local gateway
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache"
    assert json.loads(response.content) == {
        "apiUrl": "",
        "wsUrl": "ws://127.0.0.1:8001/live",
        "sdkUrl": "/sdk/tracker.min.js",
    }


def test_project_pages_are_served_whatever_the_query_string(
    get: Get,
) -> None:
    response = get("/projects/view/?id=5d2c0b8e-0000-4000-8000-000000000000")
    assert response.status_code == 200
    assert response.text == "<html>dashboard</html>"
    assert response.headers["cache-control"] == "no-cache"
    assert (get("/projects/view")).text == "<html>dashboard</html>"
    assert (get("/")).text == "<html>home</html>"


def test_hashed_assets_are_cached_for_good_pages_are_not(get: Get) -> None:
    asset = get("/_next/static/chunks/app.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-type"].startswith("text/javascript")
    assert (get("/nope/")).status_code == 404
    assert (get("/../pyproject.toml")).status_code == 404
