"""Run the rollup: closed dirty hours, per project, in chunks of hours per transaction.

Invoked by the EventBridge schedule (``rate(5 minutes)``) with a scheduled event, or with
``{"backfill": {"from": ISO, "to": ISO, "project_id": optional}}`` to recompute any range.
A run stops starting chunks when its time is nearly up (``deadline``) and says what is left;
the marks it did not reach stay for the next run. Two runs can overlap: a project being rolled
up by one is skipped by the other.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import groupby
from typing import Any
from uuid import UUID

from pulse import cache
from pulse.archive import writer as archive_writer
from pulse.data import rollups
from pulse.observability import logger
from pulse.processor import live

# Hours per transaction: an hour's new events are usually few, so many hours go together; an
# hour to rebuild brings all its events (a backfill of busy hours is then a few large steps).
HOURS_PER_TRANSACTION = 168
MAX_DIRTY_PER_READ = 5000
# After this many hours (a backfill, a day of late events), VACUUM and ANALYZE the tables the
# reports read: the visibility map for their index-only scans, the statistics for their plans.
VACUUM_AFTER_HOURS = 48
# A chunk is not started with less than this (plus twice the slowest chunk so far) left.
SAFETY_MS = 10_000


def _open_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def _forget_in_redis(done: list[rollups.DirtyHour]) -> None:
    try:
        members = [f"{d.project_id}|{d.hour:%Y-%m-%dT%H:00:00Z}" for d in done]
        if members:
            cache.get_redis().srem(live.dirty_key(), *members)
    except Exception:  # the Postgres marks are the truth; Redis is a convenience
        logger.warning("could not clear the Redis dirty set")


def run(
    *, now: datetime | None = None, time_left_ms: Callable[[], int] | None = None
) -> dict[str, int]:
    """Bring every closed dirty hour up to date; returns what was done. ``time_left_ms`` (the
    Lambda context's ``get_remaining_time_in_millis``) stops the run before its timeout, with
    ``remaining`` set to the hours it did not reach."""
    now = now or datetime.now(UTC)
    rollups.ensure_partitions_ahead(months=3)
    hours_done = 0
    projects: set[UUID] = set()
    busy: set[UUID] = set()  # projects another run is rolling up
    started = time.monotonic()
    slowest_s = 0.0
    remaining = 0
    while True:
        dirty = [
            d
            for d in rollups.closed_dirty_hours(before=_open_hour(now), limit=MAX_DIRTY_PER_READ)
            if d.project_id not in busy
        ]
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
                if time_left_ms is not None and time_left_ms() < SAFETY_MS + 2000 * slowest_s:
                    remaining = rollups.count_closed_dirty(before=_open_hour(now))
                    return _done(hours_done, projects, remaining)
                t0 = time.monotonic()
                if not rollups.apply(project_id=project_id, dirty=chunk):
                    busy.add(project_id)
                    break
                slowest_s = max(slowest_s, time.monotonic() - t0)
                _forget_in_redis(chunk)
                hours_done += len(chunk)
                projects.add(project_id)
        if len(dirty) < MAX_DIRTY_PER_READ and not busy:
            break
    if hours_done >= VACUUM_AFTER_HOURS:
        _vacuum(rollups.vacuum_rollups, "the rollup tables")
    if hours_done:
        _vacuum(rollups.vacuum_queue, "the rollup queue")
    logger.debug("rollup loop", extra={"seconds": round(time.monotonic() - started, 3)})
    # The days now wholly rolled up go to the columnar archive (none configured: nothing).
    archived = archive_writer.run(now=now, time_left_ms=time_left_ms)
    return {**_done(hours_done, projects, remaining), **archived}


def _vacuum(vacuum: Callable[[], None], what: str) -> None:
    try:
        vacuum()
    except Exception:  # autovacuum comes anyway (migrations 0011, 0013); the rollup is done
        logger.warning(f"could not vacuum {what}", exc_info=True)


def _done(hours_done: int, projects: set[UUID], remaining: int) -> dict[str, int]:
    result = {"hours": hours_done, "projects": len(projects), "remaining": remaining}
    logger.info("rollup done", extra=result)
    return result


def backfill(
    *,
    start: datetime,
    end: datetime,
    project_id: UUID | None,
    time_left_ms: Callable[[], int] | None = None,
) -> dict[str, int]:
    marked = rollups.mark_range_dirty(start=start, end=end, project_id=project_id)
    return {"marked": marked, **run(time_left_ms=time_left_ms)}


def handle(event: dict[str, Any], time_left_ms: Callable[[], int] | None = None) -> dict[str, int]:
    spec = event.get("backfill")
    if isinstance(spec, dict):
        project = spec.get("project_id")
        return backfill(
            start=datetime.fromisoformat(spec["from"]),
            end=datetime.fromisoformat(spec["to"]),
            project_id=UUID(project) if project else None,
            time_left_ms=time_left_ms,
        )
    return run(time_left_ms=time_left_ms)
