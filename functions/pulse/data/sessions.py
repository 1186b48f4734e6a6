"""SQL for the sessions aggregate: per-hour session parts (``session_hourly``), kept by the rollup
job, and the sessions report folded from them and from raw events.

A session's figures over a range are folded from parts: one per hour it was active in (whole
clean closed hours from ``session_hourly``; partial, dirty and open hours from raw events):
``started_at`` the least, ``ended_at`` the greatest, ``events`` and ``page_views`` summed,
``distinct_id`` the part's with the latest ``distinct_at``, ``entry_page`` the part's with the
earliest ``entry_at``. Every figure is what one pass over the range's raw events gives.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from pulse.analytics.periods import HOUR, Split
from pulse.db.connection import connection

# The page path of an event: its "path" property, else the path of its URL.
PATH = "coalesce(e.properties->>'path', substring(e.page_url from '^[a-z]+://[^/]+(/[^?#]*)'))"

# One part per session of the events ``e`` it is grouped over (GROUP BY the session, and the
# hour for session_hourly).
_PART = (
    'min(e."timestamp") AS started_at, max(e."timestamp") AS ended_at, count(*) AS events, '
    "count(*) FILTER (WHERE e.event = 'page_view') AS page_views, "
    '(array_agg(e.distinct_id ORDER BY e."timestamp" DESC) '
    "  FILTER (WHERE e.distinct_id IS NOT NULL))[1] AS distinct_id, "
    'max(e."timestamp") FILTER (WHERE e.distinct_id IS NOT NULL) AS distinct_at, '
    f"(array_agg({PATH} ORDER BY e.\"timestamp\") FILTER (WHERE e.event = 'page_view'))[1] "
    "  AS entry_page, "
    "min(e.\"timestamp\") FILTER (WHERE e.event = 'page_view') AS entry_at"
)


def recompute_hours(
    conn: psycopg.Connection[Any], *, project_id: UUID, hours: list[datetime]
) -> None:
    """Replace the session parts of these hours of one project (in the caller's transaction)."""
    args = {"p": project_id, "hours": hours, "lo": hours[0], "hi": hours[-1] + HOUR}
    conn.execute(
        "DELETE FROM session_hourly WHERE project_id = %(p)s AND hour = ANY(%(hours)s)", args
    )
    conn.execute(
        "INSERT INTO session_hourly (project_id, hour, session_id, started_at, ended_at, "
        "events, page_views, distinct_id, distinct_at, entry_page, entry_at) "
        f"SELECT %(p)s, date_trunc('hour', e.\"timestamp\"), e.session_id, {_PART} "
        'FROM events e WHERE e.project_id = %(p)s AND e."timestamp" >= %(lo)s '
        'AND e."timestamp" < %(hi)s AND date_trunc(\'hour\', e."timestamp") = ANY(%(hours)s) '
        "AND e.session_id IS NOT NULL GROUP BY 2, 3",
        args,
    )


# One row per session with any event in the range, folded from its parts.
_SESSIONS = (
    "WITH iv AS (SELECT * FROM unnest(%(iv_a)s::timestamptz[], %(iv_b)s::timestamptz[]) "
    "  AS iv(a, b)), "
    "parts AS ("
    "  SELECT session_id, started_at, ended_at, events, page_views, distinct_id, distinct_at, "
    "    entry_page, entry_at FROM session_hourly "
    "  WHERE project_id = %(p)s AND hour >= %(h1)s AND hour < %(h2)s "
    "    AND NOT (hour = ANY(%(dirty)s::timestamptz[])) "
    "  UNION ALL "
    f"  SELECT e.session_id, {_PART} FROM iv JOIN events e ON e.project_id = %(p)s "
    '    AND e."timestamp" >= iv.a AND e."timestamp" < iv.b '
    "  WHERE e.session_id IS NOT NULL GROUP BY e.session_id), "
    "s AS MATERIALIZED (SELECT session_id, min(started_at) AS started_at, "
    "  max(ended_at) AS ended_at, sum(events)::bigint AS events, "
    "  sum(page_views)::bigint AS page_views, "
    "  (array_agg(distinct_id ORDER BY distinct_at DESC) "
    "    FILTER (WHERE distinct_at IS NOT NULL))[1] AS distinct_id, "
    "  (array_agg(entry_page ORDER BY entry_at) FILTER (WHERE entry_at IS NOT NULL))[1] "
    "    AS entry_page "
    "  FROM parts GROUP BY session_id) "
)


def _args(project_id: UUID, split: Split, **more: Any) -> dict[str, Any]:
    return {
        "p": project_id,
        "h1": split.h1,
        "h2": split.h2,
        "dirty": list(split.dirty),
        "iv_a": [a for a, _ in split.raw],
        "iv_b": [b for _, b in split.raw],
        **more,
    }


def _fetch(query: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    with connection() as conn:
        return [dict(r) for r in conn.execute(query, args).fetchall()]


def session_summary(*, project_id: UUID, split: Split, limit_pages: int) -> dict[str, Any]:
    """Sessions in the range, their average duration, bounce rate and pages per session, and
    the top entry pages."""
    [summary] = _fetch(
        _SESSIONS + ", entries AS (SELECT entry_page AS path, count(*) AS sessions FROM s "
        "  WHERE entry_page IS NOT NULL GROUP BY entry_page ORDER BY 2 DESC, 1 LIMIT %(lim)s) "
        "SELECT count(*) AS sessions, "
        "coalesce(avg(extract(epoch FROM ended_at - started_at)), 0)::float AS avg_duration_s, "
        "coalesce(avg((page_views = 1)::int), 0)::float AS bounce_rate, "
        "coalesce(avg(page_views), 0)::float AS pages_per_session, "
        "(SELECT coalesce(json_agg(entries ORDER BY entries.sessions DESC, entries.path), "
        "'[]'::json) FROM entries) AS top_entry_pages FROM s",
        _args(project_id, split, lim=limit_pages),
    )
    return summary


def session_list(
    *, project_id: UUID, split: Split, limit: int, after: tuple[datetime, str] | None
) -> list[dict[str, Any]]:
    """One page of the range's sessions, latest start first."""
    return _fetch(
        _SESSIONS + "SELECT session_id, started_at, ended_at, events, page_views, distinct_id, "
        "entry_page FROM s "
        "WHERE %(cs)s::timestamptz IS NULL OR (started_at, session_id) < (%(cs)s, %(ci)s) "
        "ORDER BY started_at DESC, session_id DESC LIMIT %(lim)s",
        _args(
            project_id,
            split,
            lim=limit,
            cs=after[0] if after else None,
            ci=after[1] if after else None,
        ),
    )
