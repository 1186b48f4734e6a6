"""Small handlers for the tests of the local Lambda runtime (imported by execution environments
by their module path, as the wiring's handlers are)."""

from __future__ import annotations

import os
import time
from typing import Any

# Module state lives as long as the execution environment (a warm start keeps it).
_invocations = 0


def count(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """How many invocations this environment has served, and who it is."""
    global _invocations
    _invocations += 1
    if event.get("sleep_s"):
        time.sleep(float(event["sleep_s"]))
    return {
        "pid": os.getpid(),
        "invocations": _invocations,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


def fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Raises, or takes its whole process down, as the event says."""
    if event.get("exit"):
        os._exit(3)
    if event.get("sleep_s"):
        time.sleep(float(event["sleep_s"]))
        return {"pid": os.getpid()}
    if event.get("raise"):
        raise ValueError(event["raise"])
    return {"pid": os.getpid()}


def http_fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """``fail`` behind the HTTP API: the request body says what to do."""
    import json

    result = fail(json.loads(event.get("body") or "{}"), context)
    return {"statusCode": 200, "body": json.dumps(result)}


def environ(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The value of the variable the event names, in this environment (None when unset)."""
    return {"value": os.environ.get(event["name"]), "pid": os.getpid()}
