"""What the processor keeps in Redis for the live views, read back as messages: the per-hour
counters (the live metric cards), visitors now, and the last events of a project (a
backfill)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pulse.cache import get_redis, key
from pulse.processor import live
from pulse.realtime import protocol, visitors

# The most frequent event names a counters message lists (keeps it far below a frame).
MAX_EVENT_NAMES = 50
# The fan-out sends a project's counters at most this often (the events messages carry every
# event as it comes; the cards need no more than a refresh a second, and it halves the pushes).
COUNTERS_EVERY_MS = 1000


def counters_due(project_ids: Iterable[str], *, every_ms: int = COUNTERS_EVERY_MS) -> list[str]:
    """The projects whose counters were not sent in the last ``every_ms`` (and mark them sent)."""
    projects = list(dict.fromkeys(project_ids))
    if not projects:
        return []
    pipe = get_redis().pipeline(transaction=False)
    for project_id in projects:
        pipe.set(key("ws", "counters-sent", project_id), "1", px=every_ms, nx=True)
    return [p for p, fresh in zip(projects, pipe.execute(), strict=True) if fresh]


def current_hour(now: datetime | None = None) -> str:
    """The UTC hour as the processor names its counters: ``2026-11-27T14:00:00Z``."""
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:00:00Z")


def counters_messages(project_ids: Iterable[str], *, hour: str | None = None) -> dict[str, bytes]:
    """One ``counters`` message per project for ``hour`` (default: now), in one round trip."""
    projects = list(dict.fromkeys(project_ids))
    if not projects:
        return {}
    hour = hour or current_hour()
    pipe = get_redis().pipeline(transaction=False)
    for project_id in projects:
        pipe.hgetall(live.counters_key(project_id, hour))
        pipe.pfcount(live.sessions_key(project_id, hour))
    results = pipe.execute()
    out: dict[str, bytes] = {}
    for index, project_id in enumerate(projects):
        fields: dict[str, str] = results[2 * index]
        sessions = int(results[2 * index + 1])
        by_event = sorted(
            (
                (name.removeprefix("event:"), int(n))
                for name, n in fields.items()
                if name[:6] == "event:"
            ),
            key=lambda item: (-item[1], item[0]),
        )[:MAX_EVENT_NAMES]
        out[project_id] = protocol.counters(
            project_id,
            hour=hour,
            events=int(fields.get("events", 0)),
            sessions=sessions,
            by_event=dict(by_event),
        )
    return out


def recent_items(project_id: str, limit: int) -> list[str]:
    """The project's last ``limit`` events (feed objects as JSON text), oldest first."""
    newest_first = get_redis().lrange(live.recent_key(project_id), 0, limit - 1)
    return [str(item) for item in reversed(newest_first)]


def _visitors_message(v: visitors.VisitorsNow, request_id: str | None = None) -> bytes:
    return protocol.visitors_now(
        v.project_id,
        visitors=v.visitors,
        window_s=visitors.WINDOW_S,
        at=v.at.isoformat(),
        next_change_at=v.next_change_at.isoformat() if v.next_change_at else None,
        request_id=request_id,
    )


def visitors_messages(
    project_ids: Iterable[str], *, request_id: str | None = None
) -> dict[str, bytes]:
    """One ``visitors_now`` message per project, counted now."""
    return {
        project_id: _visitors_message(v, request_id)
        for project_id, v in visitors.count(project_ids).items()
    }


def _until_change_ms(v: visitors.VisitorsNow) -> int:
    if v.next_change_at is None:
        return visitors.KEY_TTL_S * 1000
    return max(1, int((v.next_change_at - v.at).total_seconds() * 1000))


def visitors_changed(project_ids: Iterable[str]) -> dict[str, bytes]:
    """``visitors_now`` messages of the projects whose count differs from the one last pushed
    (and remember the new one); what the fan-out sends after a batch."""
    projects = list(dict.fromkeys(project_ids))
    if not projects:
        return {}
    counts = visitors.count(projects)
    pipe = get_redis().pipeline(transaction=False)
    for project_id in projects:
        # The count pushed is forgotten when it would drop with time: every client asks again
        # then and hears the lower count, which no push records; a count that comes back up
        # after that must be pushed, not taken for the one last pushed.
        pipe.set(
            key("ws", "visitors-sent", project_id),
            counts[project_id].visitors,
            px=_until_change_ms(counts[project_id]),
            get=True,
        )
    before = pipe.execute()
    return {
        p: _visitors_message(counts[p])
        for p, old in zip(projects, before, strict=True)
        # nothing pushed yet counts as 0: the backfill at connect told the client the count
        if int(old or 0) != counts[p].visitors
    }
