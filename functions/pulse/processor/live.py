"""What the processor tells Redis after the database write: live counters for the hour, the
last events per project, the dirty hours for the rollup, and a publish per project.

Message on ``project:{project_id}:events`` (under the Redis key prefix), JSON:
``{"type": "events", "project_id": "...", "events": [{"uuid", "event", "properties",
"distinct_id", "session_id", "page_url", "timestamp"}, ...]}``, newest last, one message per
project per processed batch.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from pulse import cache
from pulse.data.events import EventRow, events_json

RECENT_EVENTS = 100
COUNTER_TTL_S = 2 * 24 * 3600


def counters_key(project_id: str, hour: str) -> str:
    return cache.key("live", project_id, hour)


def sessions_key(project_id: str, hour: str) -> str:
    return cache.key("live", project_id, hour, "sessions")


def recent_key(project_id: str) -> str:
    return cache.key("recent", project_id)


def dirty_key() -> str:
    return cache.key("rollup", "dirty")


def channel(project_id: str) -> str:
    return cache.key("project", project_id, "events")


def by_project(rows: Sequence[EventRow]) -> dict[str, list[EventRow]]:
    grouped: dict[str, list[EventRow]] = defaultdict(list)
    for row in rows:
        grouped[str(row[0])].append(row)
    for group in grouped.values():
        group.sort(key=lambda r: r[10])
    return grouped


def publish(rows: Sequence[EventRow]) -> dict[str, list[dict[str, Any]]]:
    """Update Redis for freshly written rows; returns the per-project feed that was published."""
    feeds: dict[str, list[dict[str, Any]]] = {}
    pipe = cache.get_redis().pipeline(transaction=False)
    for project_id, group in by_project(rows).items():
        feed = events_json(group)
        feeds[project_id] = feed
        per_hour: dict[str, Counter[str]] = defaultdict(Counter)
        sessions: dict[str, set[str]] = defaultdict(set)
        for row in group:
            hour = row[10].strftime("%Y-%m-%dT%H:00:00Z")
            per_hour[hour]["events"] += 1
            per_hour[hour][f"event:{row[2]}"] += 1
            if row[5]:
                sessions[hour].add(row[5])
            pipe.sadd(dirty_key(), f"{project_id}|{hour}")
        for hour, counts in per_hour.items():
            for field, n in counts.items():
                pipe.hincrby(counters_key(project_id, hour), field, n)
            pipe.expire(counters_key(project_id, hour), COUNTER_TTL_S)
        for hour, ids in sessions.items():
            pipe.pfadd(sessions_key(project_id, hour), *ids)
            pipe.expire(sessions_key(project_id, hour), COUNTER_TTL_S)
        pipe.lpush(recent_key(project_id), *(json.dumps(e) for e in feed[-RECENT_EVENTS:]))
        pipe.ltrim(recent_key(project_id), 0, RECENT_EVENTS - 1)
        message = {"type": "events", "project_id": project_id, "events": feed}
        pipe.publish(channel(project_id), json.dumps(message, separators=(",", ":")))
    pipe.execute()
    return feeds
