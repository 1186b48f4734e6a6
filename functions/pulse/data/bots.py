"""SQL for the bots aggregate: the events dropped at ingest as a bot's, counted per project.

The ingest function sends a tally record through the event stream for each request it drops
(``pulse.ingest.publisher.tally_record``); the processor writes the tallies here. Each tally is
kept once by its id (a replay adds nothing) and added to its project's hour in the same
statement; a range is then its whole hours from ``bot_counts_hourly`` plus its partial hours
from the tallies themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from pulse.db.connection import connection


class Tally(NamedTuple):
    project_id: str
    id: str
    at: datetime
    events: int


def record_tallies(*, tallies: Sequence[Tally]) -> int:
    """Count the tallies not counted yet, for projects that still exist; returns how many."""
    if not tallies:
        return 0
    with connection() as conn:
        row = conn.execute(
            "WITH fresh AS ("
            " INSERT INTO bot_tallies (project_id, id, at, events)"
            " SELECT t.project_id, t.id, t.at, t.events"
            " FROM unnest(%s::uuid[], %s::uuid[], %s::timestamptz[], %s::integer[])"
            "  AS t(project_id, id, at, events)"
            " WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = t.project_id)"
            " ON CONFLICT (project_id, id) DO NOTHING"
            " RETURNING project_id, at, events),"
            " hours AS ("
            " INSERT INTO bot_counts_hourly (project_id, hour, events)"
            " SELECT project_id, date_trunc('hour', at, 'UTC'), sum(events) FROM fresh"
            " GROUP BY 1, 2 ORDER BY 1, 2"
            " ON CONFLICT (project_id, hour)"
            " DO UPDATE SET events = bot_counts_hourly.events + excluded.events)"
            " SELECT count(*) AS n FROM fresh",
            (
                [t.project_id for t in tallies],
                [t.id for t in tallies],
                [t.at for t in tallies],
                [t.events for t in tallies],
            ),
        ).fetchone()
    return int(row["n"]) if row else 0  # type: ignore[call-overload]


def _ceil_hour(at: datetime) -> datetime:
    floor = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return floor if floor == at else floor + timedelta(hours=1)


def bots_filtered(*, project_id: UUID, start: datetime, end: datetime) -> int:
    """Events dropped as bots' that ingest received in ``[start, end)``."""
    first_hour = _ceil_hour(start)
    last_hour = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if first_hour >= last_hour:  # no whole hour inside: the tallies alone
        first_hour = last_hour = end
    with connection() as conn:
        row = conn.execute(
            "SELECT (SELECT coalesce(sum(events), 0) FROM bot_counts_hourly"
            "  WHERE project_id = %(p)s AND hour >= %(h0)s AND hour < %(h1)s)"
            " + (SELECT coalesce(sum(events), 0) FROM bot_tallies WHERE project_id = %(p)s"
            "  AND ((at >= %(start)s AND at < %(h0)s) OR (at >= %(h1)s AND at < %(end)s)))"
            " AS n",
            {"p": project_id, "h0": first_hour, "h1": last_hour, "start": start, "end": end},
        ).fetchone()
    return int(row["n"]) if row else 0  # type: ignore[call-overload]
