"""Writing the archive: each UTC day the rollup has added events to is written again as one
Parquet file once it has closed and nothing in it waits for the rollup; files no row names any
more are deleted once no report can be reading them. Runs at the end of every rollup run."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

from pulse.archive.store import Store, get_store
from pulse.data import archive as sql
from pulse.data.rollups import try_lock_project
from pulse.db.connection import connection
from pulse.observability import logger

# A day is archived once it has been over this long (late events after it make it stale, and
# it is written again once they are rolled up).
SETTLE = timedelta(hours=1)
DAYS_PER_READ = 200
# An orphaned file is deleted this long after no row names it: a report that listed it before
# then has long finished.
ORPHAN_GRACE = timedelta(minutes=10)
SAFETY_MS = 20_000


def object_key(project_id: UUID, day: date) -> str:
    return f"{project_id}/{day.isoformat()}-{time.time_ns():x}.parquet"


def write_day(store: Store, project_id: UUID, day: date) -> str | None:
    """Archive one day, under the project's rollup lock; returns "written", "empty", or None
    when a rollup holds the project or the day got dirty meanwhile (it stays pending)."""
    from pulse.archive import duck

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    with connection() as conn, tempfile.TemporaryDirectory(prefix="pulse-archive-") as tmp:
        if not try_lock_project(conn, project_id) or not sql.day_is_clean(
            conn, project_id=project_id, day=day
        ):
            return None
        csv_path, parquet_path = Path(tmp) / "day.csv", Path(tmp) / "day.parquet"
        with csv_path.open("wb") as out:
            for chunk in sql.copy_events(
                conn, project_id=project_id, ranges=[(start, start + timedelta(days=1))]
            ):
                out.write(chunk)
        if csv_path.stat().st_size == 0:
            sql.record_day(conn, project_id=project_id, day=day, object_key=None, events=0, size=0)
            return "empty"
        events, prop_columns = duck.write_parquet(csv_path, parquet_path)
        key = object_key(project_id, day)
        store.put(key, parquet_path)
        sql.record_day(
            conn,
            project_id=project_id,
            day=day,
            object_key=key,
            events=events,
            size=parquet_path.stat().st_size,
            prop_columns=prop_columns,
        )
    return "written"


def run(*, now: datetime, time_left_ms: Callable[[], int] | None = None) -> dict[str, int]:
    """Archive every day that is ready, then delete old orphans; returns what was done."""
    store = get_store()
    if store is None:
        return {}
    done = {"archived_days": 0, "empty_days": 0, "orphans_deleted": 0}
    # Files gone from under the archive (a local directory removed by hand): their days are
    # read from Postgres again, and written again below.
    gone = store.missing(sql.all_objects)
    if gone:
        logger.warning(
            "archive files are missing; their days will be written again",
            extra={"files": len(gone)},
        )
        sql.forget_objects(gone)
        done["missing_rewritten"] = len(gone)
    before = (now - SETTLE).astimezone(UTC).date()
    skipped: set[tuple[UUID, date]] = set()
    failed: list[tuple[UUID, date]] = []
    while True:
        ready = [d for d in sql.ready_days(before=before, limit=DAYS_PER_READ) if d not in skipped]
        if not ready:
            break
        for project_id, day in ready:
            if time_left_ms is not None and time_left_ms() < SAFETY_MS:
                return done
            try:
                outcome = write_day(store, project_id, day)
            except Exception:
                # One day that cannot be written (the store down, a file it cannot take) keeps
                # neither the other days nor the orphans' deletion waiting; the run fails at
                # the end, so that the function's errors alarm says so.
                logger.exception("a day could not be archived", extra={"day": day.isoformat()})
                failed.append((project_id, day))
                outcome = None
            if outcome is None:
                skipped.add((project_id, day))
            else:
                done["archived_days" if outcome == "written" else "empty_days"] += 1
    orphans = sql.old_orphans(grace=ORPHAN_GRACE, limit=1000)
    for key in orphans:
        store.delete(key)
    if orphans:
        sql.forget_orphans(orphans)
        done["orphans_deleted"] = len(orphans)
    logger.info("archive written", extra=done)
    if failed:
        raise ArchiveWriteError(
            f"{len(failed)} day(s) could not be archived, the first {failed[0][1]} of project "
            f"{failed[0][0]}; they stay pending and are read from Postgres meanwhile"
        )
    return done


class ArchiveWriteError(RuntimeError):
    """Days that could not be archived this run (each logged with its cause)."""
