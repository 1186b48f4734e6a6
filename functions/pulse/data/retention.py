"""SQL for retention: users' first-ever periods and the periods they came back in.

The range's activity is read the way unique users are counted: the presence rows (kind ``u``) of
its closed hours, the queued events of those hours not rolled up yet, and raw events for the
rest (the edges, the hours to rebuild, the open hour). Whether a user was seen before the range
comes from the presence chain (the link of a row read to the user's row before it, else one
index probe) and the raw events it does not cover yet. A user is the 64-bit hash of a
``distinct_id``, as in every unique count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pulse.analytics.periods import Split
from pulse.data.analytics import bucket_arrays, raw_and_queued
from pulse.db.connection import connection


def cohort_activity(
    *,
    project_id: UUID,
    splits: Sequence[Split],
    return_event: str | None,
    rolled_before: datetime,
    raw_before: list[tuple[datetime, datetime]],
) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
    """Cohort sizes and returns over the periods ``splits`` (in time order, touching).

    A user's cohort is the period of their first event ever in the project, when that event
    lies in the periods; a user with any earlier event belongs to no cohort here. Returns
    ``({cohort: size}, {(cohort, period): users})``, periods as indexes into ``splits``; a user
    counts in a period when they have an event in it (an event named ``return_event`` when one
    is given).

    "Any earlier event" is a presence row of the user (kind ``u``, any event) in an hour before
    ``rolled_before`` (the hour that holds the first period's start), or a raw event in
    ``raw_before``: the intervals before the first period that presence does not cover for sure
    (the dirty hours, whose presence is a subset of the truth, and the part of
    ``rolled_before``'s hour before the first period).
    """
    back = {
        src: f"{src}.event = %(ret)s" if return_event is not None else "true"
        for src in ("raw", "ph")
    }
    # A period's closed hour holds the presence rows of its users (any event; the return event's
    # too, when one is asked for) and the queued events not rolled up yet: presence_hourly's key
    # leads with (project, kind, event), so one range of it per event name, the hours in the
    # periods' hull; each row goes to its period by width_bucket over the closed hours' edges,
    # as the queued events do (``raw_and_queued``). They are grouped once, by user: the first
    # period (the cohort), the periods of a return, and the chain's word on "seen before".
    query = (
        raw_and_queued("e.distinct_id, e.event", "e.distinct_id IS NOT NULL")
        + f""",
        firsts AS MATERIALIZED (
            SELECT a, min(p) AS c, bool_or(seen) AS seen, bool_or(fresh) AS fresh,
                   array_agg(DISTINCT p) FILTER (WHERE back) AS ps
            FROM (
                SELECT hashtextextended(raw.distinct_id, 0) AS a, raw.idx AS p,
                       {back["raw"]} AS back, NULL::boolean AS seen, NULL::boolean AS fresh
                FROM raw
                UNION ALL
                SELECT ph.h,
                       (%(q_at)s::int[])[width_bucket(ph.hour, %(q_edges)s::timestamptz[])],
                       {back["ph"]}, ph.prev_hour < %(rolled_before)s,
                       ph.prev_hour IS NULL AND ph.event = ''
                FROM presence_hourly ph
                WHERE ph.project_id = %(p)s AND ph.kind = 'u'
                  AND ph.event = ANY(%(names)s::text[])
                  AND ph.hour >= %(q_lo)s AND ph.hour < %(q_hi)s
                  AND NOT (ph.hour = ANY(%(rebuild)s::timestamptz[]))
            ) x
            WHERE p IS NOT NULL
            GROUP BY a
        ), early AS MATERIALIZED (
            -- Each interval is its own index range (LATERAL … OFFSET 0): joined to the events,
            -- the planner scanned every event of the month's partition against the intervals
            -- (0.9 s of a 7-day retention on 3.4M events, for a part of an hour).
            SELECT DISTINCT hashtextextended(x.distinct_id, 0) AS a
            FROM unnest(%(before_lo)s::timestamptz[], %(before_hi)s::timestamptz[]) AS bv(lo, hi)
            CROSS JOIN LATERAL (
                SELECT e.distinct_id FROM events e
                WHERE e.project_id = %(p)s AND e."timestamp" >= bv.lo
                  AND e."timestamp" < bv.hi AND e.distinct_id IS NOT NULL
                OFFSET 0) x
        ), cohort AS (
            -- A presence row read above links to the user's row before it (prev_hour): one
            -- before rolled_before means seen before; none (NULL) means no row before at all.
            -- Only the users with neither (read raw or queued alone, or linked to a row inside
            -- the range that was not read) are probed for.
            SELECT f.a, f.c, f.ps FROM firsts f
            WHERE f.seen IS NOT TRUE
              AND (f.fresh OR NOT EXISTS (
                SELECT 1 FROM presence_hourly ph
                WHERE ph.project_id = %(p)s AND ph.kind = 'u' AND ph.event = ''
                  AND ph.h = f.a AND ph.hour < %(rolled_before)s))
              AND NOT EXISTS (SELECT 1 FROM early WHERE early.a = f.a)
        )
        SELECT k.c AS cohort, q.p AS period, count(*) AS n
        FROM cohort k CROSS JOIN LATERAL unnest(k.ps) AS q(p)
        GROUP BY 1, 2
        UNION ALL
        SELECT c AS cohort, NULL AS period, count(*) AS n FROM cohort GROUP BY c
    """
    )
    args: dict[str, Any] = {
        "p": project_id,
        "ret": return_event,
        "names": [""] if return_event is None else ["", return_event],
        **bucket_arrays(splits),
        "rolled_before": rolled_before,
        "before_lo": [lo for lo, _ in raw_before],
        "before_hi": [hi for _, hi in raw_before],
    }
    sizes: dict[int, int] = {}
    returns: dict[tuple[int, int], int] = {}
    with connection() as conn:
        # The range's user-hours are sorted by user in memory: a month's 154,970 of 3.4M events
        # (their pairs of user and period spilled to disk in five batches at the default 4 MB).
        conn.execute("SET LOCAL work_mem = '64MB'")
        rows = conn.execute(query, args).fetchall()
    for row in rows:
        cohort, n = int(row["cohort"]), int(row["n"])  # type: ignore[call-overload]
        if row["period"] is None:
            sizes[cohort] = n
        else:
            returns[(cohort, int(row["period"]))] = n  # type: ignore[call-overload]
    return sizes, returns
