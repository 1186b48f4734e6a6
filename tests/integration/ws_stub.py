"""A stand-in "ws" function for the local WebSocket gateway's own tests: it records every event
and answers as the query string or the message asks."""

from __future__ import annotations

import json
from typing import Any

EVENTS: list[dict[str, Any]] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    EVENTS.append(event)
    query = event.get("queryStringParameters") or {}
    if "status" in query:
        return {
            "statusCode": int(query["status"]),
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"refused": True}),
        }
    if "protocol" in query:
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": query["protocol"]}}
    body = event.get("body") or ""
    if "boom" in body:
        raise RuntimeError("boom")
    return {"statusCode": 200}
