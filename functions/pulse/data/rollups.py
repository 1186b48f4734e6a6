"""SQL for the rollups aggregate: hourly counts and presence sets, recomputed from raw events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from pulse.data import sessions
from pulse.db.connection import connection


@dataclass(frozen=True)
class DirtyHour:
    project_id: UUID
    hour: datetime
    version: int


def closed_dirty_hours(*, before: datetime, limit: int) -> list[DirtyHour]:
    """Dirty hours that have closed (the open hour is always read raw), oldest first."""
    with connection() as conn:
        rows = conn.execute(
            "SELECT project_id, hour, version FROM rollup_dirty_hours WHERE hour < %s "
            "ORDER BY project_id, hour LIMIT %s",
            (before, limit),
        ).fetchall()
    return [DirtyHour(r["project_id"], r["hour"], r["version"]) for r in rows]  # type: ignore[arg-type]


def mark_range_dirty(*, start: datetime, end: datetime, project_id: UUID | None) -> int:
    """Mark every hour of [start, end) that has events (of one project or all) for recompute,
    and every hour that has a rollup (so that rollups of vanished events go too)."""
    with connection() as conn:
        cur = conn.execute(
            "INSERT INTO rollup_dirty_hours (project_id, hour) "
            "SELECT DISTINCT project_id, date_trunc('hour', \"timestamp\") FROM events "
            'WHERE "timestamp" >= %(s)s AND "timestamp" < %(e)s '
            "  AND (%(p)s::uuid IS NULL OR project_id = %(p)s) "
            "UNION SELECT DISTINCT project_id, hour FROM event_rollups_hourly "
            "WHERE hour >= %(s)s AND hour < %(e)s AND (%(p)s::uuid IS NULL OR project_id = %(p)s) "
            "ON CONFLICT (project_id, hour) DO UPDATE "
            "SET marked_at = now(), version = nextval('rollup_dirty_version')",
            {"s": start, "e": end, "p": project_id},
        )
        return cur.rowcount


_VALUES = """
    FROM events e
    CROSS JOIN LATERAL (VALUES ('s'::"char", ''::text, e.session_id),
                               ('s'::"char", e.event, e.session_id),
                               ('u'::"char", ''::text, e.distinct_id),
                               ('u'::"char", e.event, e.distinct_id)) AS k(kind, event, value)
    WHERE e.project_id = %(p)s AND e."timestamp" >= %(lo)s AND e."timestamp" < %(hi)s
      AND date_trunc('hour', e."timestamp") = ANY(%(hours)s) AND k.value IS NOT NULL
"""


def recompute(*, project_id: UUID, dirty: list[DirtyHour]) -> None:
    """Recompute the rollups and presence of some hours of one project, in one transaction,
    then clear the dirty marks that were read (a mark set again meanwhile stays)."""
    hours = sorted({d.hour for d in dirty})
    lo, hi = hours[0], hours[-1] + timedelta(hours=1)
    args = {"p": project_id, "hours": hours, "lo": lo, "hi": hi}
    with connection() as conn:
        conn.execute(
            "DELETE FROM event_rollups_hourly WHERE project_id = %(p)s AND hour = ANY(%(hours)s)",
            args,
        )
        conn.execute(
            "INSERT INTO event_rollups_hourly "
            "(project_id, event, hour, count, unique_sessions, unique_users) "
            "SELECT %(p)s, event, date_trunc('hour', \"timestamp\"), count(*), "
            "count(DISTINCT session_id), count(DISTINCT distinct_id) FROM events "
            'WHERE project_id = %(p)s AND "timestamp" >= %(lo)s AND "timestamp" < %(hi)s '
            "  AND date_trunc('hour', \"timestamp\") = ANY(%(hours)s) "
            "GROUP BY 2, 3",
            args,
        )
        sessions.recompute_hours(conn, project_id=project_id, hours=hours)
        conn.execute('CREATE TEMP TABLE touched (kind "char", event text, h bigint) ON COMMIT DROP')
        conn.execute(
            "WITH gone AS (DELETE FROM presence_hourly WHERE project_id = %(p)s "
            "  AND hour = ANY(%(hours)s) RETURNING kind, event, h) "
            "INSERT INTO touched SELECT kind, event, h FROM gone",
            args,
        )
        conn.execute(
            "WITH fresh AS (INSERT INTO presence_hourly (project_id, kind, event, hour, h) "
            "  SELECT DISTINCT %(p)s::uuid, k.kind, k.event, date_trunc('hour', e.\"timestamp\"), "
            "         hashtextextended(k.value, 0)" + _VALUES + " RETURNING kind, event, h) "
            "INSERT INTO touched SELECT kind, event, h FROM fresh",
            args,
        )
        # Re-chain prev_hour for every value whose presence changed, across all its hours.
        changed = conn.execute(
            "WITH t AS (SELECT DISTINCT kind, event, h FROM touched), "
            "ranked AS (SELECT p.kind, p.event, p.h, p.hour, "
            "  lag(p.hour) OVER (PARTITION BY p.kind, p.event, p.h ORDER BY p.hour) AS prev "
            "  FROM presence_hourly p JOIN t USING (kind, event, h) "
            "  WHERE p.project_id = %(p)s) "
            "UPDATE presence_hourly x SET prev_hour = r.prev FROM ranked r "
            "WHERE x.project_id = %(p)s AND x.kind = r.kind AND x.event = r.event "
            "  AND x.h = r.h AND x.hour = r.hour AND x.prev_hour IS DISTINCT FROM r.prev "
            "RETURNING x.hour",
            args,
        ).fetchall()
        counted = sorted(
            set(hours) | {r["hour"] for r in changed if isinstance(r["hour"], datetime)}
        )
        conn.execute(
            "DELETE FROM presence_counts WHERE project_id = %s AND hour = ANY(%s)",
            (project_id, counted),
        )
        conn.execute(
            "INSERT INTO presence_counts (project_id, kind, event, hour, prev_hour, n) "
            "SELECT project_id, kind, event, hour, prev_hour, count(*) FROM presence_hourly "
            "WHERE project_id = %s AND hour = ANY(%s) GROUP BY 1, 2, 3, 4, 5",
            (project_id, counted),
        )
        conn.execute(
            "DELETE FROM rollup_dirty_hours d USING unnest(%s::timestamptz[], %s::bigint[]) "
            "AS r(hour, version) "
            "WHERE d.project_id = %s AND d.hour = r.hour AND d.version = r.version",
            ([x.hour for x in dirty], [x.version for x in dirty], project_id),
        )


def ensure_partitions_ahead(*, months: int) -> int:
    with connection() as conn:
        row = conn.execute(
            "SELECT pulse_ensure_event_partitions(now() - interval '1 month', "
            "now() + make_interval(months => %s)) AS n",
            (months,),
        ).fetchone()
    return int(row["n"]) if row else 0  # type: ignore[call-overload]


def refresh_statistics() -> None:
    with connection() as conn:
        conn.execute(
            "ANALYZE event_rollups_hourly, presence_hourly, presence_counts, session_hourly"
        )
