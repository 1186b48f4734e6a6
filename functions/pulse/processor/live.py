"""What the processor tells Redis after the database write: live counters for the hour, the
sessions seen for visitors now (``pulse.realtime.visitors``), the last events per project, the
dirty hours for the rollup, and a publish per project.

Message on ``project:{project_id}:events`` (under the Redis key prefix), JSON:
``{"type": "events", "project_id": "...", "events": [{"uuid", "event", "properties",
"distinct_id", "session_id", "page_url", "timestamp"}, ...]}``, newest last, one message per
project per processed batch.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pulse import cache
from pulse.data.events import Written, hour_counts
from pulse.realtime import visitors

RECENT_EVENTS = 100
COUNTER_TTL_S = 2 * 24 * 3600

# The (project, hour) pairs whose counters missed the updates of events written while Redis
# could not be reached, in this execution environment; rebuilt from Postgres by the next
# batch whose updates reach Redis (``settle_owed``).
_owed: set[tuple[str, str]] = set()
_owed_lock = threading.Lock()


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


# Hours a project's live counters can be kept under: an event's own hour, up to 31 days back
# (what ingest accepts) and an hour ahead; each key lives COUNTER_TTL_S after its last write.
_COUNTED_HOURS_BACK = 32 * 24
_COUNTED_HOURS_AHEAD = 2


def forget_project(project_id: str, *, now: datetime) -> None:
    """Delete what Redis holds for a deleted project: its last events and live counters."""
    start = now.replace(minute=0, second=0, microsecond=0)
    hours = [
        (start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:00:00Z")
        for h in range(-_COUNTED_HOURS_BACK, _COUNTED_HOURS_AHEAD + 1)
    ]
    keys = [recent_key(project_id)]
    keys += [counters_key(project_id, hour) for hour in hours]
    keys += [sessions_key(project_id, hour) for hour in hours]
    keys.append(visitors.now_key(project_id))
    redis = cache.get_redis()
    for begin in range(0, len(keys), 500):
        redis.delete(*keys[begin : begin + 500])


def by_project(items: Sequence[Written]) -> dict[str, list[Written]]:
    """Items grouped by project, in the order given (oldest first)."""
    grouped: dict[str, list[Written]] = defaultdict(list)
    for item in items:
        grouped[item.project_id].append(item)
    return grouped


@dataclass
class Prepared:
    """Redis commands for freshly written rows, built ahead of sending them."""

    commands: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    published: dict[str, int] = field(default_factory=dict)


def _subscribed(project_ids: list[str]) -> set[str]:
    """The projects whose channel has a subscriber now (all of them if Redis cannot say)."""
    try:
        counts = cache.get_redis().pubsub_numsub(*(channel(p) for p in project_ids))
    except Exception:
        return set(project_ids)
    listening = {str(name) for name, n in counts if int(n) > 0}
    return {p for p in project_ids if channel(p) in listening}


def prepare(items: Sequence[Written]) -> Prepared:
    """Build the Redis updates for freshly written events.

    The feed items (JSON) are the dearest part, so only those someone reads are built: the last
    ``RECENT_EVENTS`` of each project for the recent list, and the whole batch for the publish
    only when the project's channel has a subscriber (a publish nobody hears does nothing).
    """
    out = Prepared()
    add = out.commands.append
    dirty: set[str] = set()
    grouped = by_project(items)
    subscribed = _subscribed(list(grouped))
    now = time.time()
    for project_id, group in grouped.items():
        out.published[project_id] = len(group) if project_id in subscribed else 0
        per_hour: dict[str, Counter[str]] = defaultdict(Counter)
        sessions: dict[str, set[str]] = defaultdict(set)
        for item in group:
            per_hour[item.hour][f"event:{item.event}"] += 1
            if item.session_id:
                sessions[item.hour].add(item.session_id)
        for hour, counts in per_hour.items():
            dirty.add(f"{project_id}|{hour}")
            key = counters_key(project_id, hour)
            add(("hincrby", (key, "events", sum(counts.values()))))
            for name, n in counts.items():
                add(("hincrby", (key, name, n)))
            add(("expire", (key, COUNTER_TTL_S)))
        for hour, ids in sessions.items():
            add(("pfadd", (sessions_key(project_id, hour), *ids)))
            add(("expire", (sessions_key(project_id, hour), COUNTER_TTL_S)))
        out.commands.extend(visitors.commands(project_id, visitors.last_seen(group), now=now))
        add(("lpush", (recent_key(project_id), *(i.feed for i in group[-RECENT_EVENTS:]))))
        add(("ltrim", (recent_key(project_id), 0, RECENT_EVENTS - 1)))
        if project_id in subscribed:
            feed = ",".join(item.feed for item in group)
            message = f'{{"type":"events","project_id":"{project_id}","events":[{feed}]}}'
            add(("publish", (channel(project_id), message)))
    if dirty:
        add(("sadd", (dirty_key(), *dirty)))
    return out


def send(prepared: Prepared) -> dict[str, int]:
    """Send prepared updates in one pipeline; returns how many events each project published
    (0 for a project nobody subscribes to)."""
    pipe = cache.get_redis().pipeline(transaction=False)
    for method, args in prepared.commands:
        getattr(pipe, method)(*args)
    pipe.execute()
    return prepared.published


def publish(items: Sequence[Written]) -> dict[str, int]:
    """Update Redis for freshly written events; returns how many each project published."""
    return send(prepare(items))


def owe(items: Sequence[Written]) -> None:
    """Remember the hours whose counters missed these written events (Redis was down)."""
    with _owed_lock:
        _owed.update((item.project_id, item.hour) for item in items)


def settle_owed() -> int:
    """Rebuild the counters of the hours owed, from the events Postgres holds: the hour's count
    by event name and its sessions replace what Redis had. Returns how many hours were rebuilt;
    an hour whose rebuild fails stays owed.

    Approximate when other environments write to the same hour meanwhile: an update between the
    read and the replacement may be counted twice or not at all, until the hour's next rebuild.
    The hourly rollup, from Postgres, is exact.
    """
    with _owed_lock:
        if not _owed:
            return 0
        owed = set(_owed)
        _owed.clear()
    rebuilt = 0
    try:
        visitors.rebuild(sorted({project_id for project_id, _ in owed}))
        for project_id, hour in sorted(owed):
            counts = hour_counts(
                project_id=project_id, hour=datetime.fromisoformat(hour.replace("Z", "+00:00"))
            )
            pipe = cache.get_redis().pipeline(transaction=True)
            key, sessions = counters_key(project_id, hour), sessions_key(project_id, hour)
            pipe.delete(key, sessions)
            if counts.by_event:
                mapping: dict[Any, Any] = {
                    f"event:{name}": n for name, n in counts.by_event.items()
                }
                mapping["events"] = sum(counts.by_event.values())
                pipe.hset(key, mapping=mapping)
                pipe.expire(key, COUNTER_TTL_S)
            if counts.session_ids:
                pipe.pfadd(sessions, *counts.session_ids)
                pipe.expire(sessions, COUNTER_TTL_S)
            pipe.execute()
            owed.discard((project_id, hour))
            rebuilt += 1
    finally:
        with _owed_lock:
            _owed.update(owed)
    return rebuilt
