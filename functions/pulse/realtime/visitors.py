"""Visitors now: the unique sessions with an event whose time is in the last five minutes,
exact, kept in Redis by the processor and read by the API and the live feed.

One sorted set per project, ``visitors:{project_id}``: session id → the latest time (epoch
seconds) of its stored events. The processor adds a batch's sessions after the database write
(``ZADD GT``, so a late event never moves a session back) and trims what left the window; the
count is one ``ZCOUNT`` over [now - 5 min, +inf), and the next moment it can drop without a new
event is when the oldest counted session leaves the window. Brute force over the events gives
the same count: ``count(DISTINCT session_id)`` of the events timed from now - 5 min on.

If Redis missed a batch's update (it was down), the processor rebuilds the set of each project
concerned from Postgres with its next successful update (``rebuild``), as it does the hour's
counters. A Redis that lost its data counts only the sessions seen since, for five minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pulse.cache import get_redis, key
from pulse.data import sessions as sessions_sql
from pulse.data.events import Written

WINDOW_S = 300
# The set outlives its last write by this much: events may be timed up to an hour ahead.
KEY_TTL_S = 2 * 3600


def now_key(project_id: str) -> str:
    return key("visitors", project_id)


def last_seen(items: Sequence[Written]) -> dict[str, float]:
    """Each session's latest event time among ``items`` (epoch seconds)."""
    seen: dict[str, float] = {}
    for item in items:
        if item.session_id:
            at = item.row[10].timestamp()
            if at > seen.get(item.session_id, float("-inf")):
                seen[item.session_id] = at
    return seen


def commands(project_id: str, seen: dict[str, float], *, now: float) -> list[tuple[str, Any]]:
    """The Redis commands that add ``seen`` to the project's set and trim what left the window
    (as (method, args) pairs for a pipeline)."""
    if not seen:
        return []
    k = now_key(project_id)
    # zadd(name, mapping, nx, xx, ch, incr, gt): GT keeps the later of the two times.
    return [
        ("zadd", (k, seen, False, False, False, False, True)),
        ("zremrangebyscore", (k, "-inf", f"({now - WINDOW_S}")),
        ("expire", (k, KEY_TTL_S)),
    ]


@dataclass(frozen=True)
class VisitorsNow:
    project_id: str
    visitors: int
    at: datetime
    next_change_at: datetime | None


def count(project_ids: Iterable[str], *, now: datetime | None = None) -> dict[str, VisitorsNow]:
    """Visitors now of each project, in one round trip."""
    projects = list(dict.fromkeys(project_ids))
    at = now or datetime.now(UTC)
    low = at.timestamp() - WINDOW_S
    pipe = get_redis().pipeline(transaction=False)
    for project_id in projects:
        pipe.zcount(now_key(project_id), low, "+inf")
        pipe.zrangebyscore(now_key(project_id), low, "+inf", start=0, num=1, withscores=True)
    results = pipe.execute()
    out: dict[str, VisitorsNow] = {}
    for index, project_id in enumerate(projects):
        n, oldest = int(results[2 * index]), results[2 * index + 1]
        leaves = (
            datetime.fromtimestamp(float(oldest[0][1]) + WINDOW_S, UTC) if n and oldest else None
        )
        out[project_id] = VisitorsNow(project_id, n, at, leaves)
    return out


def rebuild(project_ids: Iterable[str], *, now: datetime | None = None) -> None:
    """Replace the projects' sets with what Postgres holds for the window (after Redis missed
    updates)."""
    at = now or datetime.now(UTC)
    since = at - timedelta(seconds=WINDOW_S)
    for project_id in dict.fromkeys(project_ids):
        seen = sessions_sql.last_seen_since(project_id=UUID(project_id), since=since)
        pipe = get_redis().pipeline(transaction=True)
        pipe.delete(now_key(project_id))
        for method, args in commands(project_id, seen, now=at.timestamp()):
            getattr(pipe, method)(*args)
        pipe.execute()


def forget(project_id: str) -> None:
    get_redis().delete(now_key(project_id))
