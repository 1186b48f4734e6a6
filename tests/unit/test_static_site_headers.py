"""The local front door on :3000 answers with security headers, on its own pages and on the
API responses it forwards (issue 13: none were there)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from localcloud.static_site import StaticSite


def _get(site: StaticSite, path: str) -> dict[str, str]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
    asyncio.run(site(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return {k.decode(): v.decode() for k, v in start["headers"]}


def test_pages_of_the_local_site_carry_security_headers(tmp_path: Path) -> None:
    site = StaticSite(api_base_url="http://127.0.0.1:9", root=tmp_path)
    for path in ("/", "/no-such-page"):
        headers = _get(site, path)
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
