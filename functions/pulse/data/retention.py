"""SQL for retention: users' first-ever periods and the periods they came back in, over raw
events."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pulse.db.connection import fetch_all


def cohort_activity(
    *, project_id: UUID, bounds: list[datetime], end: datetime, return_event: str | None
) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
    """Cohort sizes and returns over the periods starting at ``bounds`` (sorted, UTC; the last
    period ends at ``end``).

    A user is a ``distinct_id``. Their cohort is the period of their first event ever in the
    project, when that event lies in [bounds[0], end); a user with any earlier event belongs to
    no cohort here. Returns ``({cohort: size}, {(cohort, period): users})``, periods as indexes
    into ``bounds``; a user counts in a period when they have an event in it (an event named
    ``return_event`` when one is given).
    """
    back = "bool_or(e.event = %(ret)s)" if return_event is not None else "true"
    query = f"""
        WITH r AS MATERIALIZED (
            SELECT e.distinct_id AS a,
                   width_bucket(e."timestamp", %(bounds)s::timestamptz[]) - 1 AS p,
                   {back} AS back
            FROM events e
            WHERE e.project_id = %(project)s AND e."timestamp" >= %(start)s
              AND e."timestamp" < %(end)s AND e.distinct_id IS NOT NULL
            GROUP BY 1, 2
        ), firsts AS (
            SELECT a, min(p) AS c FROM r GROUP BY a
        ), cohort AS (
            SELECT f.a, f.c FROM firsts f
            WHERE NOT EXISTS (
                SELECT 1 FROM events x
                WHERE x.project_id = %(project)s AND x.distinct_id = f.a
                  AND x."timestamp" < %(start)s)
        )
        SELECT k.c AS cohort, r.p AS period, count(*) AS n
        FROM cohort k JOIN r ON r.a = k.a AND r.back
        GROUP BY 1, 2
        UNION ALL
        SELECT c AS cohort, NULL AS period, count(*) AS n FROM cohort GROUP BY c
    """
    args: dict[str, Any] = {
        "project": project_id,
        "bounds": bounds,
        "start": bounds[0],
        "end": end,
        "ret": return_event,
    }
    sizes: dict[int, int] = {}
    returns: dict[tuple[int, int], int] = {}
    for row in fetch_all(query, args):
        if row["period"] is None:
            sizes[row["cohort"]] = row["n"]
        else:
            returns[(row["cohort"], row["period"])] = row["n"]
    return sizes, returns
