"""``python -m localcloud tail PROJECT_ID`` (``make tail PROJECT=…``): print a project's live
events as the processor publishes them on its Redis channel (``project:{id}:events`` under the
key prefix), one line per event, until Ctrl-C."""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from localcloud.config import LocalConfig

WIDTH = {"event": 20, "distinct_id": 16, "page_url": 40}


def _cut(value: Any, width: int) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def format_event(event: dict[str, Any]) -> str:
    """``14:05:01.123  page_view  u1  /pricing  {"plan": "pro"}``."""
    try:
        when = datetime.fromisoformat(event["timestamp"]).strftime("%H:%M:%S.%f")[:-3]
    except (KeyError, TypeError, ValueError):
        when = "--:--:--.---"
    props = event.get("properties") or {}
    return "  ".join(
        [
            when,
            _cut(event.get("event"), WIDTH["event"]).ljust(WIDTH["event"]),
            _cut(event.get("distinct_id"), WIDTH["distinct_id"]).ljust(WIDTH["distinct_id"]),
            _cut(event.get("page_url"), WIDTH["page_url"]).ljust(WIDTH["page_url"]),
            json.dumps(props, separators=(",", ":")) if props else "",
        ]
    ).rstrip()


def lines_of(message: str, *, as_json: bool = False) -> list[str]:
    """The lines one published message prints."""
    try:
        data = json.loads(message)
    except ValueError:
        return [message]
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        return [message]
    if as_json:
        return [json.dumps(e, separators=(",", ":")) for e in events]
    return [format_event(e) for e in events if isinstance(e, dict)]


def _print(line: str) -> None:
    print(line, flush=True)  # noqa: T201  (a terminal command; the pipe must not buffer)


def tail(
    config: LocalConfig,
    project_id: str,
    *,
    as_json: bool = False,
    write: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    subscribed: threading.Event | None = None,
) -> int:
    """Print the project's live events until ``stop`` is set (or Ctrl-C)."""
    import redis

    if write is None:
        write = _print

    from pulse import cache
    from pulse.processor import live

    try:
        uuid.UUID(project_id)
    except ValueError:
        write(f"not a project id: {project_id!r}")
        return 2
    cache.configure(url=config.redis_url, key_prefix=config.redis_key_prefix)
    channel = live.channel(project_id)
    client = redis.Redis.from_url(config.redis_url, decode_responses=True)
    pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    pubsub.subscribe(channel)
    # On stderr, so that ``--json`` output is JSON lines only.
    print(f"tailing {channel} on {config.redis_url} (Ctrl-C stops)", file=sys.stderr, flush=True)  # noqa: T201
    if subscribed is not None:
        subscribed.set()
    try:
        while stop is None or not stop.is_set():
            message = pubsub.get_message(timeout=0.2)
            if message and message.get("type") == "message":
                for line in lines_of(str(message["data"]), as_json=as_json):
                    write(line)
    except KeyboardInterrupt:
        pass
    finally:
        pubsub.close()
        client.close()
    return 0
