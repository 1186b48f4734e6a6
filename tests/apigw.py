"""Build API Gateway HTTP API (2.0) events from the JSON fixture and call the real handler."""

from __future__ import annotations

import copy
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "apigw"
# What a person's browser sends. Test clients that stand in for visitors send it: ingest drops
# the events of HTTP libraries (python-httpx, python-requests) and headless browsers as bots'.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    token: str | None = None,
    source_ip: str = "198.51.100.7",
    query: str = "",
) -> dict[str, Any]:
    event = copy.deepcopy(load_fixture("http_api_request.json"))
    event["rawPath"] = path
    event["rawQueryString"] = query
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["sourceIp"] = source_ip
    event["requestContext"]["requestId"] = uuid.uuid4().hex[:16]
    event["requestContext"]["timeEpoch"] = int(time.time() * 1000)
    event["pathParameters"] = {"proxy": path.removeprefix("/api/v1/")}
    if query:
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    hdrs = event["headers"]
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    if token:
        hdrs["authorization"] = f"Bearer {token}"
    if body is not None:
        raw = body if isinstance(body, str) else json.dumps(body)
        event["body"] = raw
        hdrs.setdefault("content-type", "application/json")
        hdrs["content-length"] = str(len(raw.encode()))
    return event


@dataclass
class LambdaContextStub:
    """The attributes of the Lambda runtime's context object that Powertools reads."""

    function_name: str = "pulse-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:pulse-api"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def call(handler: Any, event: dict[str, Any]) -> Response:
    _main_thread_has_an_event_loop()
    result = handler(event, LambdaContextStub())
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    return Response(result["statusCode"], headers, result.get("body") or "")


def _main_thread_has_an_event_loop() -> None:
    """Mangum asks for the thread's event loop, as a Lambda runtime's main thread has one. A test
    that ran ``asyncio.run`` in this thread before left it without: give it one again."""
    import asyncio
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
