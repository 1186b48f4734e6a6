"""SQL for the rollups aggregate: hourly counts, presence sets and session parts, kept up to date
by increments.

Every event written is queued (``rollup_queue``, by a trigger on ``events``, in the writing
transaction). The rollup takes the queued events of some closed hours and adds them to what is
there: counts are summed, session parts are merged (their fold is associative), and presence rows
(one per value and hour) are inserted when new. A new presence row changes the ``prev_hour``
chain of its value in at most two places: its own, and that of the value's next row. So a rollup
costs what the new events cost, whatever the project's history or the number of dirty hours.

An hour marked ``rebuild`` (a backfill, or an hour written before the queue existed) is cleared
and its raw events go through the same path, as if they had all just arrived.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import psycopg

from pulse.data import archive, sessions
from pulse.data.dimensions import QUEUE_COLUMNS, ROLLED
from pulse.db.connection import connection


@dataclass(frozen=True)
class DirtyHour:
    project_id: UUID
    hour: datetime
    version: int
    rebuild: bool = False


def closed_dirty_hours(*, before: datetime, limit: int) -> list[DirtyHour]:
    """Dirty hours that have closed (the open hour is always read raw), oldest first."""
    with connection() as conn:
        rows = conn.execute(
            "SELECT project_id, hour, version, rebuild FROM rollup_dirty_hours WHERE hour < %s "
            "ORDER BY project_id, hour LIMIT %s",
            (before, limit),
        ).fetchall()
    return [
        DirtyHour(r["project_id"], r["hour"], r["version"], r["rebuild"])  # type: ignore[arg-type]
        for r in rows
    ]


def count_closed_dirty(*, before: datetime) -> int:
    with connection() as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM rollup_dirty_hours WHERE hour < %s", (before,)
        ).fetchone()
    return int(row["n"]) if row else 0  # type: ignore[call-overload]


def mark_range_dirty(*, start: datetime, end: datetime, project_id: UUID | None) -> int:
    """Mark every hour of [start, end) that has events (of one project or all) for a rebuild,
    and every hour that has a rollup (so that rollups of vanished events go too)."""
    with connection() as conn:
        cur = conn.execute(
            "INSERT INTO rollup_dirty_hours (project_id, hour, rebuild) "
            "SELECT project_id, hour, true FROM ("
            "SELECT DISTINCT project_id, date_trunc('hour', \"timestamp\") AS hour FROM events "
            'WHERE "timestamp" >= %(s)s AND "timestamp" < %(e)s '
            "  AND (%(p)s::uuid IS NULL OR project_id = %(p)s) "
            "UNION SELECT DISTINCT project_id, hour FROM event_rollups_hourly "
            "WHERE hour >= %(s)s AND hour < %(e)s AND (%(p)s::uuid IS NULL OR project_id = %(p)s)"
            ") AS h "
            "ON CONFLICT (project_id, hour) DO UPDATE "
            "SET marked_at = now(), version = nextval('rollup_dirty_version'), rebuild = true",
            {"s": start, "e": end, "p": project_id},
        )
        return cur.rowcount


# The queue's columns of the page-view dimensions, in the dimensions' order.
_DIMENSION_COLUMNS = [QUEUE_COLUMNS[d.name] for d in ROLLED]

# The presence values of an event: its session and user, for any event and for its name; and
# for a page_view, its session and its user under each of its dimensions' values (the page
# path, referrer domain, UTM source, browser, ...; kinds in pulse.data.dimensions).
_VALUES = (
    """CROSS JOIN LATERAL (VALUES ('s'::"char", ''::text, q.session_id),
                               ('s'::"char", q.event, q.session_id),
                               ('u'::"char", ''::text, q.distinct_id),
                               ('u'::"char", q.event, q.distinct_id)"""
    + "".join(
        f""",
                               ('{d.kinds[0]}'::"char", q.{QUEUE_COLUMNS[d.name]}, q.session_id),
                               ('{d.kinds[1]}'::"char", q.{QUEUE_COLUMNS[d.name]}, q.distinct_id)"""
        for d in ROLLED
        if d.kinds
    )
    + """) AS k(kind, event, value)
    WHERE k.value IS NOT NULL AND k.event IS NOT NULL"""
)

# The rows of one value's presence chain that a change between its hours lo and hi can touch:
# the row before lo, the rows from lo to hi, and the row after hi (index probes and a range on
# presence_hourly_value_idx). A probe is skipped where no row can be: before the first (after the
# last) changed hour when no presence row lies before (after) all of them. A value changed in one
# hour only (most: a session is seen in one hour) needs no range: its row there, if any, is new.
_CHAIN = """
    (SELECT ph.hour, ph.prev_hour FROM presence_hourly ph WHERE ph.project_id = %(p)s
       AND ph.kind = s.kind AND ph.event = s.event AND ph.h = s.h AND ph.hour < s.lo
       AND (%(before)s OR s.lo > %(span_lo)s)
       ORDER BY ph.hour DESC LIMIT 1)
    UNION ALL
    (SELECT ph.hour, ph.prev_hour FROM presence_hourly ph WHERE ph.project_id = %(p)s
       AND ph.kind = s.kind AND ph.event = s.event AND ph.h = s.h
       AND ph.hour >= s.lo AND ph.hour <= s.hi AND s.lo < s.hi)
    UNION ALL
    (SELECT s.lo, NULL::timestamptz WHERE s.lo = s.hi AND s.fresh)
    UNION ALL
    (SELECT ph.hour, ph.prev_hour FROM presence_hourly ph WHERE ph.project_id = %(p)s
       AND ph.kind = s.kind AND ph.event = s.event AND ph.h = s.h AND ph.hour > s.hi
       AND (%(after)s OR s.hi < %(span_hi)s)
       ORDER BY ph.hour LIMIT 1)"""


def try_lock_project(conn: psycopg.Connection[Any], project_id: UUID) -> bool:
    """Take the project's rollup lock until the end of the transaction, if no other rollup
    holds it (two overlapping runs then never work on one project at once)."""
    row = conn.execute(
        "SELECT pg_try_advisory_xact_lock(hashtextextended('pulse.rollup:' || %s::text, 0)) AS ok",
        (str(project_id),),
    ).fetchone()
    return bool(row and row["ok"])


def apply(*, project_id: UUID, dirty: list[DirtyHour]) -> bool:
    """Bring these closed hours of one project up to date, in one transaction: the queued events
    of each hour are added; an hour marked ``rebuild`` is recomputed from its raw events. Clears
    the dirty marks that were read (a mark set again meanwhile stays). Returns False, doing
    nothing, when another rollup is working on the project."""
    hours = sorted({d.hour for d in dirty})
    rebuild = sorted({d.hour for d in dirty if d.rebuild})
    args: dict[str, Any] = {
        "p": project_id,
        "hours": hours,
        "rebuild": rebuild,
        # presence_hourly's hour index is on the hour as UTC time (migration 0012).
        "rebuild_utc": [h.astimezone(UTC).replace(tzinfo=None) for h in rebuild],
        "lo": hours[0],
        "hi": hours[-1] + timedelta(hours=1),
    }
    with connection() as conn:
        if not try_lock_project(conn, project_id):
            return False
        # Sorts of a busy hour's values stay in memory; the per-value probes gain nothing from
        # a cache (each value is probed once) and lost a fifth of their time to one.
        conn.execute("SET LOCAL work_mem = '64MB'")
        conn.execute("SET LOCAL enable_memoize = off")
        _take_events(conn, args)
        _add_counts(conn, args)
        sessions.add_new_events(conn, project_id=project_id, rebuild=rebuild)
        _add_presence(conn, args)
        archive.touched(
            conn, project_id=project_id, days=sorted({h.astimezone(UTC).date() for h in hours})
        )
        conn.execute(
            "DELETE FROM rollup_dirty_hours d USING unnest(%s::timestamptz[], %s::bigint[]) "
            "AS r(hour, version) "
            "WHERE d.project_id = %s AND d.hour = r.hour AND d.version = r.version",
            ([x.hour for x in dirty], [x.version for x in dirty], project_id),
        )
    return True


def _take_events(conn: psycopg.Connection[Any], args: dict[str, Any]) -> None:
    """Fill the temporary table ``q`` with the events to add: the queued events of the hours
    (taken off the queue), or all raw events of an hour to rebuild (whose queued events are
    dropped, being among them). Clears the rollups and presence of the hours to rebuild; their
    presence rows go to ``removed``."""
    conn.execute(
        'CREATE TEMP TABLE q ("timestamp" timestamptz, event text, session_id text, '
        f"distinct_id text, {', '.join(f'{c} text' for c in _DIMENSION_COLUMNS)}) ON COMMIT DROP"
    )
    conn.execute(
        'CREATE TEMP TABLE removed (kind "char", event text, hour timestamptz, h bigint, '
        "prev_hour timestamptz) ON COMMIT DROP"
    )
    conn.execute(
        "WITH taken AS (DELETE FROM rollup_queue WHERE project_id = %(p)s "
        'AND "timestamp" >= %(lo)s AND "timestamp" < %(hi)s '
        "AND date_trunc('hour', \"timestamp\") = ANY(%(hours)s) "
        'RETURNING "timestamp", event, session_id, distinct_id, '
        f"{', '.join(_DIMENSION_COLUMNS)}) "
        "INSERT INTO q SELECT * FROM taken "
        "WHERE NOT (date_trunc('hour', \"timestamp\") = ANY(%(rebuild)s::timestamptz[]))",
        args,
    )
    if args["rebuild"]:
        for table in ("event_rollups_hourly", "breakdown_hourly"):
            conn.execute(
                f"DELETE FROM {table} WHERE project_id = %(p)s "
                "AND hour = ANY(%(rebuild)s::timestamptz[])",
                args,
            )
        conn.execute(
            "WITH gone AS (DELETE FROM presence_hourly WHERE project_id = %(p)s "
            "AND (hour AT TIME ZONE 'UTC') = ANY(%(rebuild_utc)s::timestamp[]) "
            "RETURNING kind, event, hour, h, prev_hour) INSERT INTO removed SELECT * FROM gone",
            args,
        )
        conn.execute(
            'INSERT INTO q SELECT e."timestamp", e.event, e.session_id, e.distinct_id, '
            + ", ".join(
                f"CASE WHEN e.event = 'page_view' THEN {expr} END"
                for expr in (d.expr for d in ROLLED)
            )
            + " FROM events e "
            'WHERE e.project_id = %(p)s AND e."timestamp" >= %(lo)s AND e."timestamp" < %(hi)s '
            "AND date_trunc('hour', e.\"timestamp\") = ANY(%(rebuild)s::timestamptz[])",
            args,
        )
    # Temporary tables get no statistics of their own; without them, the joins below were once
    # planned as nested loops over sequential scans (minutes for a few thousand rows).
    conn.execute("ANALYZE q")


def _add_counts(conn: psycopg.Connection[Any], args: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO event_rollups_hourly "
        "(project_id, event, hour, count, unique_sessions, unique_users) "
        "SELECT %(p)s, event, date_trunc('hour', \"timestamp\"), count(*), 0, 0 FROM q "
        "GROUP BY 2, 3 ON CONFLICT (project_id, hour, event) DO UPDATE "
        "SET count = event_rollups_hourly.count + excluded.count, computed_at = now()",
        args,
    )
    conn.execute(
        "INSERT INTO breakdown_hourly AS b (project_id, kind, hour, value, count) "
        "SELECT %(p)s, k.kind, date_trunc('hour', q.\"timestamp\"), k.value, count(*) FROM q "
        "CROSS JOIN LATERAL (VALUES "
        + ", ".join(
            f"('{d.kinds[0]}'::\"char\", q.{QUEUE_COLUMNS[d.name]})" for d in ROLLED if d.kinds
        )
        + ") AS k(kind, value) "
        "WHERE q.event = 'page_view' AND k.value IS NOT NULL GROUP BY 2, 3, 4 "
        "ON CONFLICT (project_id, kind, hour, value) DO UPDATE "
        "SET count = b.count + excluded.count",
        args,
    )


def _add_presence(conn: psycopg.Connection[Any], args: dict[str, Any]) -> None:
    """Insert the presence rows that are new, re-chain ``prev_hour`` where they (or the removed
    rows) change it, and move ``presence_counts`` and the hourly unique counts by the
    difference."""
    conn.execute(
        'CREATE TEMP TABLE fresh (kind "char", event text, hour timestamptz, h bigint) '
        "ON COMMIT DROP"
    )
    conn.execute(
        # The distinct values by hashing (a sort of every event's values took twice as long:
        # 12.5 against 5.5 s for a week of 470,000 events), then inserted in the key's order:
        # each index page is then visited once, in turn, where rows in hash order land on
        # pages all over an index far larger than the buffer cache (a backfill of 2M events
        # 255 -> 197.5 s, docs/benchmarks.md).
        "WITH d AS MATERIALIZED (SELECT k.kind, k.event, "
        "  date_trunc('hour', q.\"timestamp\") AS hour, hashtextextended(k.value, 0) AS h "
        f"  FROM q {_VALUES} GROUP BY 1, 2, 3, 4), "
        "ins AS (INSERT INTO presence_hourly (project_id, kind, event, hour, h) "
        "  SELECT %(p)s::uuid, kind, event, hour, h FROM d ORDER BY kind, event, h, hour "
        "  ON CONFLICT DO NOTHING RETURNING kind, event, hour, h) "
        "INSERT INTO fresh SELECT * FROM ins",
        args,
    )
    conn.execute("ANALYZE fresh")
    conn.execute(
        "UPDATE event_rollups_hourly r SET "
        "unique_sessions = r.unique_sessions + f.s, unique_users = r.unique_users + f.u "
        "FROM (SELECT event, hour, count(*) FILTER (WHERE kind = 's') AS s, "
        "  count(*) FILTER (WHERE kind = 'u') AS u FROM fresh WHERE event <> '' "
        "  GROUP BY 1, 2) f "
        "WHERE r.project_id = %(p)s AND r.event = f.event AND r.hour = f.hour",
        args,
    )
    _rechain(conn, args)


def _rechain(conn: psycopg.Connection[Any], args: dict[str, Any]) -> None:
    """Set ``prev_hour`` right on every row whose chain the new and removed rows changed, and
    move ``presence_counts`` with them."""
    conn.execute(
        "CREATE TEMP TABLE span ON COMMIT DROP AS "
        "SELECT kind, event, h, min(hour) AS lo, max(hour) AS hi, bool_or(f) AS fresh FROM ("
        "  SELECT kind, event, h, hour, true AS f FROM fresh "
        "  UNION ALL SELECT kind, event, h, hour, false FROM removed) t GROUP BY 1, 2, 3"
    )
    conn.execute("ANALYZE span")
    # Every presence hour has an hourly rollup row (both are written together), so when no
    # rollup row lies before (after) all the changed hours, no chain has a row there.
    near = conn.execute(
        "SELECT c.lo, c.hi, EXISTS (SELECT 1 FROM event_rollups_hourly "
        "  WHERE project_id = %(p)s AND hour < c.lo) AS before, "
        "EXISTS (SELECT 1 FROM event_rollups_hourly WHERE project_id = %(p)s "
        "  AND hour > c.hi) AS after "
        "FROM (SELECT min(lo) AS lo, max(hi) AS hi FROM span) c",
        args,
    ).fetchone()
    if near is None or near["lo"] is None:
        return  # nothing new, nothing removed
    lo, hi = near["lo"], near["hi"]
    conn.execute(
        "CREATE TEMP TABLE moved ON COMMIT DROP AS "
        "WITH chain AS (SELECT s.kind, s.event, s.h, s.lo, x.hour, x.prev_hour "
        # the values probed for in the key's order (neighbouring probes, neighbouring pages)
        "  FROM (SELECT * FROM span ORDER BY kind, event, h OFFSET 0) s "
        f"  CROSS JOIN LATERAL ({_CHAIN}) x), "
        "ranked AS (SELECT kind, event, h, lo, hour, prev_hour AS old, "
        "  lag(hour) OVER (PARTITION BY kind, event, h ORDER BY hour) AS want FROM chain) "
        "SELECT kind, event, h, hour, old, want FROM ranked "
        "WHERE hour >= lo AND old IS DISTINCT FROM want",
        {**args, "span_lo": lo, "span_hi": hi, "before": near["before"], "after": near["after"]},
    )
    conn.execute("ANALYZE moved")
    conn.execute(
        "UPDATE presence_hourly x SET prev_hour = m.want FROM moved m "
        "WHERE x.project_id = %(p)s AND x.kind = m.kind AND x.event = m.event "
        "AND x.hour = m.hour AND x.h = m.h",
        args,
    )
    # The counts move by: -1 for each removed row, +1 at (hour, NULL) for each new row (inserted
    # with no prev_hour), and -1 / +1 for each row whose prev_hour moved.
    conn.execute(
        "CREATE TEMP TABLE delta ON COMMIT DROP AS "
        "SELECT kind, event, hour, prev_hour, sum(d) AS d FROM ("
        "  SELECT kind, event, hour, prev_hour, -1 AS d FROM removed "
        "  UNION ALL SELECT kind, event, hour, NULL, 1 FROM fresh "
        "  UNION ALL SELECT kind, event, hour, old, -1 FROM moved "
        "  UNION ALL SELECT kind, event, hour, want, 1 FROM moved) t "
        "GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0"
    )
    for c in _COUNTS:
        conn.execute(
            f"INSERT INTO {c.table} AS c (project_id, kind, event, {c.at}, {c.by}, n) "
            f"SELECT %(p)s, kind, event, {c.at_of_delta}, {c.by_of_delta}, sum(d) FROM delta "
            f"WHERE {c.at_of_delta} IS NOT NULL GROUP BY 2, 3, 4, 5 HAVING sum(d) <> 0 "
            f"ON CONFLICT (project_id, event, {c.at}, kind, {c.by}) "
            "DO UPDATE SET n = c.n + excluded.n",
            args,
        )
        conn.execute(
            f"DELETE FROM {c.table} c USING (SELECT DISTINCT kind, event, {c.at_of_delta} AS at "
            f"FROM delta) t WHERE c.project_id = %(p)s AND c.event = t.event "
            f"AND c.{c.at} = t.at AND c.kind = t.kind AND c.n = 0",
            args,
        )


@dataclass(frozen=True)
class _Counts:
    """A table of presence counts keyed (project, event, ``at``, kind, ``by``), and those two
    columns over a row of ``delta`` (a change of n at (hour, prev_hour))."""

    table: str
    at: str
    by: str
    at_of_delta: str
    by_of_delta: str


_UTC_DAY = "date_trunc('day', {}, 'UTC')"
# presence_counts and its two regroupings (migration 0014). presence_next counts each link from
# its earlier end, so a first sighting (no prev_hour) has no row there.
_COUNTS = (
    _Counts("presence_counts", "hour", "prev_hour", "hour", "prev_hour"),
    _Counts(
        "presence_days", "day", "prev_day", _UTC_DAY.format("hour"), _UTC_DAY.format("prev_hour")
    ),
    _Counts("presence_next", "hour", "next_day", "prev_hour", _UTC_DAY.format("hour")),
)


# What the rollup writes and the reports read (most by index-only scans).
ROLLUP_TABLES = (
    "event_rollups_hourly",
    "presence_hourly",
    "presence_counts",
    "presence_days",
    "presence_next",
    "session_hourly",
    "session_totals",
    "session_daily",
    "session_entry_daily",
    "breakdown_hourly",
)


@contextmanager
def _autocommit() -> Iterator[psycopg.Connection[Any]]:
    """A pooled connection out of any transaction, for VACUUM (which cannot run in one); it
    goes back to the pool transactional again."""
    with connection() as conn:
        conn.commit()
        conn.autocommit = True
        try:
            yield conn
        finally:
            conn.autocommit = False


def _vacuum(tables: tuple[str, ...]) -> None:
    with _autocommit() as conn:
        conn.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")


# A queued event takes ~155 bytes of the queue's file (measured on 100,000). After a run, a
# file more than QUEUE_COMPACT_RATIO times what its rows need, and over QUEUE_COMPACT_MIN_BYTES,
# is rewritten (VACUUM FULL), waiting for its lock at most QUEUE_COMPACT_LOCK_TIMEOUT.
QUEUE_ROW_BYTES = 155
QUEUE_COMPACT_RATIO = 10
QUEUE_COMPACT_MIN_BYTES = 64 * 1024 * 1024
QUEUE_COMPACT_LOCK_TIMEOUT = "2s"


def vacuum_queue() -> None:
    """VACUUM the queue and the dirty marks, which a rollup deletes from: every report reads the
    queue of its range, and until its dead rows are gone that read visits them all. Then
    compact the queue if a large run left its file mostly empty (``compact_queue``)."""
    _vacuum(("rollup_queue", "rollup_dirty_hours"))
    compact_queue()


def compact_queue() -> bool:
    """Rewrite the queue's file (VACUUM FULL) when it is far larger than its rows need; whether
    it did. A backfill or an import drains a large queue, and VACUUM only cuts empty pages off
    the file's end, where the open hour's events, written last, stay: after 10M events the file
    stayed 1.5 GB for ~100,000 rows, and every report read it whole (the overview's day of raw
    events: 190,000 pages, 700 ms; 2,000 pages once rewritten). The rewrite locks the queue,
    so the processor's writes wait for it (2.8 s for that file); it waits for the lock at most
    QUEUE_COMPACT_LOCK_TIMEOUT (then raises, and the next run tries again)."""
    with _autocommit() as conn:
        row = conn.execute(
            "SELECT pg_relation_size(oid) AS size, greatest(reltuples, 0) AS n FROM pg_class "
            "WHERE oid = 'rollup_queue'::regclass"
        ).fetchone()
        assert row is not None
        size, rows = int(cast(int, row["size"])), float(cast(float, row["n"]))
        if size <= max(QUEUE_COMPACT_MIN_BYTES, QUEUE_COMPACT_RATIO * QUEUE_ROW_BYTES * rows):
            return False
        conn.execute(f"SET lock_timeout = '{QUEUE_COMPACT_LOCK_TIMEOUT}'")
        try:
            conn.execute("VACUUM (FULL, ANALYZE) rollup_queue")
        finally:
            conn.execute("RESET lock_timeout")
        return True


def vacuum_rollups() -> None:
    """VACUUM (and ANALYZE) the rollup tables after a large run. The reports read them by
    index-only scans, which visit the table for every row on a page the visibility map does not
    mark all-visible, as every page a run wrote is until a VACUUM: on 10M events rolled up in
    one run, the sessions report took 400 ms before and 50 ms after. The statistics keep the
    queries on their indexes."""
    _vacuum(ROLLUP_TABLES)


def ensure_partitions_ahead(*, months: int) -> int:
    with connection() as conn:
        row = conn.execute(
            "SELECT pulse_ensure_event_partitions(now() - interval '1 month', "
            "now() + make_interval(months => %s)) AS n",
            (months,),
        ).fetchone()
    return int(row["n"]) if row else 0  # type: ignore[call-overload]
