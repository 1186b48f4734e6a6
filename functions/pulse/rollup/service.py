"""Run the rollup: closed dirty hours, per project, in chunks of hours per transaction.

Invoked by the EventBridge schedule (``rate(1 hour)``) with a scheduled event, or with
``{"backfill": {"from": ISO, "to": ISO, "project_id": optional}}`` to recompute any range.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from itertools import groupby
from typing import Any
from uuid import UUID

from pulse import cache
from pulse.data import rollups
from pulse.observability import logger
from pulse.processor import live

HOURS_PER_TRANSACTION = 24
MAX_DIRTY_PER_READ = 5000
# After this many recomputed hours (a backfill), refresh the planner's statistics of the tables
# the queries read, so that they keep using their indexes.
ANALYZE_AFTER_HOURS = 48


def _open_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def _forget_in_redis(done: list[rollups.DirtyHour]) -> None:
    try:
        members = [f"{d.project_id}|{d.hour:%Y-%m-%dT%H:00:00Z}" for d in done]
        if members:
            cache.get_redis().srem(live.dirty_key(), *members)
    except Exception:  # the Postgres marks are the truth; Redis is a convenience
        logger.warning("could not clear the Redis dirty set")


def run(*, now: datetime | None = None) -> dict[str, int]:
    """Recompute every closed dirty hour; returns what was done."""
    now = now or datetime.now(UTC)
    rollups.ensure_partitions_ahead(months=3)
    hours_done = 0
    projects: set[UUID] = set()
    while True:
        dirty = rollups.closed_dirty_hours(before=_open_hour(now), limit=MAX_DIRTY_PER_READ)
        if not dirty:
            break
        by_project: dict[UUID, list[rollups.DirtyHour]] = defaultdict(list)
        for d in dirty:
            by_project[d.project_id].append(d)
        for project_id, marks in by_project.items():
            for _, chunk_iter in groupby(
                enumerate(marks), key=lambda im: im[0] // HOURS_PER_TRANSACTION
            ):
                chunk = [m for _, m in chunk_iter]
                rollups.recompute(project_id=project_id, dirty=chunk)
                _forget_in_redis(chunk)
                hours_done += len(chunk)
            projects.add(project_id)
        if len(dirty) < MAX_DIRTY_PER_READ:
            break
    if hours_done >= ANALYZE_AFTER_HOURS:
        rollups.refresh_statistics()
    result = {"hours": hours_done, "projects": len(projects)}
    logger.info("rollup done", extra=result)
    return result


def backfill(*, start: datetime, end: datetime, project_id: UUID | None) -> dict[str, int]:
    marked = rollups.mark_range_dirty(start=start, end=end, project_id=project_id)
    return {"marked": marked, **run()}


def handle(event: dict[str, Any]) -> dict[str, int]:
    spec = event.get("backfill")
    if isinstance(spec, dict):
        project = spec.get("project_id")
        return backfill(
            start=datetime.fromisoformat(spec["from"]),
            end=datetime.fromisoformat(spec["to"]),
            project_id=UUID(project) if project else None,
        )
    return run()
