"""SQL for the funnels aggregate: saved funnels (scoped to their project) and the funnel
computation over raw events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from psycopg.types.json import Jsonb

from pulse.archive import reads as archive_reads
from pulse.data.sessions import PATH
from pulse.db.connection import connection
from pulse.models.funnels import CountBy, FunnelRow, FunnelStep

_COLUMNS = "id, project_id, name, steps, window_s, count_by, created_at, updated_at"
_ACTOR = {"session": "e.session_id", "user": "e.distinct_id"}


def _steps_json(steps: list[FunnelStep]) -> Jsonb:
    return Jsonb([s.model_dump(exclude_none=True) for s in steps])


def insert_funnel(
    *, project_id: UUID, name: str, steps: list[FunnelStep], window_s: int, count_by: CountBy
) -> FunnelRow:
    with connection() as conn:
        row = conn.execute(
            "INSERT INTO funnels (project_id, name, steps, window_s, count_by)"
            f" VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
            (project_id, name, _steps_json(steps), window_s, count_by),
        ).fetchone()
    assert row is not None
    return FunnelRow.model_validate(row)


def list_funnels(*, project_id: UUID) -> list[FunnelRow]:
    with connection() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM funnels WHERE project_id = %s ORDER BY created_at, id",
            (project_id,),
        ).fetchall()
    return [FunnelRow.model_validate(r) for r in rows]


def get_funnel(*, project_id: UUID, funnel_id: UUID) -> FunnelRow | None:
    with connection() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM funnels WHERE project_id = %s AND id = %s",
            (project_id, funnel_id),
        ).fetchone()
    return FunnelRow.model_validate(row) if row else None


def update_funnel(
    *,
    project_id: UUID,
    funnel_id: UUID,
    name: str | None = None,
    steps: list[FunnelStep] | None = None,
    window_s: int | None = None,
    count_by: CountBy | None = None,
) -> FunnelRow | None:
    """Change the fields given (not None); returns the funnel, or None if it is not there."""
    with connection() as conn:
        row = conn.execute(
            "UPDATE funnels SET name = coalesce(%(name)s, name),"
            " steps = coalesce(%(steps)s, steps), window_s = coalesce(%(w)s, window_s),"
            " count_by = coalesce(%(by)s, count_by), updated_at = now()"
            f" WHERE project_id = %(p)s AND id = %(id)s RETURNING {_COLUMNS}",
            {
                "name": name,
                "steps": _steps_json(steps) if steps is not None else None,
                "w": window_s,
                "by": count_by,
                "p": project_id,
                "id": funnel_id,
            },
        ).fetchone()
    return FunnelRow.model_validate(row) if row else None


def delete_funnel(*, project_id: UUID, funnel_id: UUID) -> bool:
    with connection() as conn:
        cur = conn.execute(
            "DELETE FROM funnels WHERE project_id = %s AND id = %s", (project_id, funnel_id)
        )
        return cur.rowcount > 0


def _match(i: int, step: FunnelStep, args: dict[str, Any]) -> str:
    """SQL true when event ``e`` matches step ``i``; its values go into ``args``."""
    args[f"e{i}"] = step.event
    # A page view's page is matched on the index of page views by path
    # (events_page_view_path_idx), which the planner uses only where the query says itself that
    # the event is a page view.
    parts = ["e.event = 'page_view'" if step.event == "page_view" else f"e.event = %(e{i})s"]
    if step.page is not None:
        args[f"p{i}"] = step.page
        parts.append(f"{PATH} = %(p{i})s")
    if step.property is not None:
        args[f"k{i}"] = step.property.key
        args[f"v{i}"] = step.property.value
        parts.append(f"e.properties->>%(k{i})s = %(v{i})s")
    return "(" + " AND ".join(parts) + ")"


def funnel_counts(
    *,
    project_id: UUID,
    start: datetime,
    end: datetime,
    steps: list[FunnelStep],
    window: timedelta,
    count_by: CountBy,
) -> list[tuple[int, float | None]]:
    """Per step: how many actors (sessions or users) reached it, and the median seconds from
    the previous step to it over them (None at step 1 and when nobody reached it).

    An actor enters at its first event in [start, end) that matches step 1; step k is then its
    first matching event strictly later than its step k-1 and no later than entry + window,
    and within [start, end). Taking the earliest match each time reaches the furthest step
    possible from that entry. Events without the actor (no session or no distinct id) count
    for nobody.
    """
    actor = _ACTOR[count_by]
    args: dict[str, Any] = {"project": project_id, "start": start, "end": end, "w": window}
    matches = [_match(i, s, args) for i, s in enumerate(steps)]
    # The events that match some step, read step by step (steps alike once): each read is an
    # index range (of the event name, or of a page view's path), where one read of all the steps
    # scanned every event of the range. An event that two unlike steps match comes twice, once
    # with each step's flag; each step looks at its own flag only.
    alike: dict[str, list[int]] = {}
    for k, step in enumerate(steps):
        alike.setdefault(step.model_dump_json(), []).append(k)
    reads = []
    for ks in alike.values():
        flags = ", ".join(f"{k in ks} AS s{k}" for k in range(len(steps)))
        reads.append(
            f'SELECT {actor} AS a, e."timestamp" AS t, {flags} FROM events e'
            ' WHERE e.project_id = %(project)s AND e."timestamp" >= %(start)s'
            f' AND e."timestamp" < %(end)s AND {actor} IS NOT NULL AND {matches[ks[0]]}'
        )
    ctes = [
        f"m AS MATERIALIZED ({' UNION ALL '.join(reads)})",
        "f0 AS (SELECT a, min(t) AS t1, min(t) AS t, NULL::float8 AS d FROM m WHERE s0 GROUP BY a)",
    ]
    for k in range(1, len(steps)):
        ctes.append(
            f"f{k} AS (SELECT a, t1, t, extract(epoch FROM t - tp)::float8 AS d FROM ("
            f" SELECT f.a, f.t1, f.t AS tp, min(m.t) AS t FROM f{k - 1} f"
            f" JOIN m ON m.a = f.a AND m.s{k} AND m.t > f.t AND m.t <= f.t1 + %(w)s"
            " GROUP BY f.a, f.t1, f.t) x)"
        )
    selects = " UNION ALL ".join(
        f"SELECT {k} AS k, count(*) AS n,"
        f" percentile_cont(0.5) WITHIN GROUP (ORDER BY d) AS median FROM f{k}"
        for k in range(len(steps))
    )
    query = "WITH " + ", ".join(ctes) + " " + selects
    with connection() as conn:
        archived = archive_reads.funnel_counts(
            conn,
            project_id=project_id,
            start=start,
            end=end,
            steps=[
                (
                    s.event,
                    s.page,
                    (s.property.key, s.property.value) if s.property is not None else None,
                )
                for s in steps
            ],
            pg_matches=matches,
            pg_args=args,
            window=window,
            by_user=count_by == "user",
        )
        if archived is not None:
            return archived
        rows = {r["k"]: r for r in conn.execute(query, args).fetchall()}
    return [
        (int(cast(int, rows[k]["n"])), cast(float | None, rows[k]["median"]))
        for k in range(len(steps))
    ]
