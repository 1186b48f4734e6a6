"""SQL for the analytics aggregate. Figures for closed hours come from rollups and presence
counts plus the queue of their events not rolled up yet; partial hours, hours marked for a
rebuild and the open hour come from raw events. A report reads in one snapshot
(``pulse.db.connection.snapshot``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator, Sequence
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row

from pulse.analytics.periods import Split, utc_midnight
from pulse.archive import reads as archive_reads
from pulse.data import sessions
from pulse.data.dimensions import EVERY_EVENT, QUEUE_COLUMNS, Dimension, Match
from pulse.db.connection import connection, fetch_all

ANY_EVENT = ""


def dirty_hours(
    *, project_id: UUID, start: datetime, end: datetime, rebuild_only: bool = False
) -> set[datetime]:
    """Every hour with events the rollup has not added yet, or marked for a rebuild; with
    ``rebuild_only``, the hours marked for a rebuild alone (their rollups are stale until it
    runs)."""
    with connection() as conn:
        rows = conn.execute(
            "SELECT hour FROM rollup_dirty_hours WHERE project_id = %s AND hour >= %s "
            "AND hour < %s AND (rebuild OR NOT %s)",
            (project_id, start, end, rebuild_only),
        ).fetchall()
    return {r["hour"] for r in rows if isinstance(r["hour"], datetime)}


def bucket_arrays(splits: Sequence[Split], *, raw_only: bool = False) -> dict[str, Any]:
    """The splits' bounds as query parameters; ``raw_only``: the splits are read wholly from raw
    events (``_raw_events``), which needs their intervals' hull and edges as well."""
    ivs = [(i, a, b) for i, s in enumerate(splits) for a, b in s.raw]
    return {
        **(_raw_hull(ivs) if raw_only else {}),
        **_raw_hull([(i, s.h1, s.h2) for i, s in enumerate(splits)], prefix="q"),
        "idx": list(range(len(splits))),
        # The hull of the buckets' closed hours, as plain values: the planner can then see how
        # few rows the range holds and pick the (project, event, hour) index (the per-bucket
        # bounds inside the unnest are opaque to it).
        "lo": min(s.h1 for s in splits),
        "hi": max(s.h2 for s in splits),
        "h1": [s.h1 for s in splits],
        "h2": [s.h2 for s in splits],
        **_whole_days(splits),
        "rebuild": sorted({h for s in splits for h in s.rebuild}),
        "iv_idx": [i for i, _, _ in ivs],
        "iv_a": [a for _, a, _ in ivs],
        "iv_b": [b for _, _, b in ivs],
    }


def _whole_days(splits: Sequence[Split]) -> dict[str, list[datetime]]:
    """For each split's closed hours [h1, h2): ``d0``, the UTC midnight at or before h1; ``d1``
    and ``dk``, its whole UTC days' bounds (``Split.whole_utc_days``), which the unique counts
    read by day (``presence_sums``)."""
    days = [s.whole_utc_days() for s in splits]
    return {
        "d0": [utc_midnight(s.h1) for s in splits],
        "d1": [d1 for d1, _ in days],
        "dk": [dk for _, dk in days],
    }


# The distinct values of each bucket's closed hours [h1, h2), per kind and event (of the arrays
# ``pk`` and ``pe``): the presence rows there first seen, or last seen before h1. The hours before
# its first whole UTC day and after its last are read by hour (presence_counts); its whole days by
# day: rows last seen before the day of h1 (presence_days), and rows last seen in that day before
# h1, counted from that end (presence_next; migration 0014 says why this is exact). Over 30 days
# that is a few hundred rows a day instead of one a prev-hour for each hour.
_DAY_BUCKETS = (
    "unnest(%(idx)s::int[], %(h1)s::timestamptz[], %(h2)s::timestamptz[], "
    "%(d0)s::timestamptz[], %(d1)s::timestamptz[], %(dk)s::timestamptz[]) "
    "AS b(idx, h1, h2, d0, d1, dk)"
)
_PRESENCE_SUMS = (
    f"SELECT b.idx, x.kind, x.event, sum(x.n) AS n FROM {_DAY_BUCKETS} CROSS JOIN LATERAL ("
    + " UNION ALL ".join(
        f"SELECT c.kind, c.event, c.n FROM presence_counts c WHERE c.project_id = %(p)s "
        'AND c.event = ANY(%(pe)s) AND c.kind = ANY(%(pk)s::"char"[]) '
        f"AND c.hour >= {lo} AND c.hour < {hi} AND c.hour >= %(lo)s AND c.hour < %(hi)s "
        "AND (c.prev_hour IS NULL OR c.prev_hour < b.h1)"
        for lo, hi in (("b.h1", "b.d1"), ("b.dk", "b.h2"))
    )
    # No whole day (d1 = dk): a one-time filter, so that an hourly bucket reads neither table.
    + " UNION ALL SELECT d.kind, d.event, d.n FROM presence_days d WHERE b.d1 < b.dk "
    'AND d.project_id = %(p)s AND d.event = ANY(%(pe)s) AND d.kind = ANY(%(pk)s::"char"[]) '
    "AND d.day >= b.d1 AND d.day < b.dk AND (d.prev_day IS NULL OR d.prev_day < b.d0) "
    "UNION ALL SELECT x.kind, x.event, x.n FROM presence_next x WHERE b.d1 < b.dk "
    'AND x.project_id = %(p)s AND x.event = ANY(%(pe)s) AND x.kind = ANY(%(pk)s::"char"[]) '
    "AND x.hour >= b.d0 AND x.hour < b.h1 AND x.next_day >= b.d1 AND x.next_day < b.dk"
    ") x GROUP BY 1, 2, 3"
)


def presence_sums(
    conn: psycopg.Connection[Any], args: dict[str, Any], *, kinds: list[str], events: list[str]
) -> dict[tuple[int, str, str], int]:
    """(bucket index, kind, event) -> distinct values of the bucket's closed hours, for the
    buckets of ``args`` (``bucket_arrays``)."""
    return {
        (r["idx"], r["kind"], r["event"]): int(r["n"])
        for r in conn.execute(_PRESENCE_SUMS, {**args, "pk": kinds, "pe": events})
    }


# The raw events are read one interval at a time, each an index range scan (a LATERAL subquery,
# kept apart from the join by OFFSET 0): joined plainly, a month partition the planner had no
# statistics for yet (just after a seed) was read whole and compared with every interval, 1 s
# for 20,000 events.
# Probing presence_hourly per value goes through a LATERAL ... LIMIT 1, which keeps it an index
# probe whatever the planner's statistics say (a stale estimate once turned the anti-join into
# a scan of every presence row of the project).
_BUCKETS = "unnest(%(idx)s::int[], %(h1)s::timestamptz[], %(h2)s::timestamptz[]) AS b(idx, h1, h2)"


_RAW_INTERVALS = (
    "WITH iv AS (SELECT * FROM unnest(%(iv_idx)s::int[], %(iv_a)s::timestamptz[], "
    "%(iv_b)s::timestamptz[]) AS iv(idx, a, b)), "
)


def _events_in(columns: str, where: str) -> str:
    """The ``columns`` (over an event ``e``) and the interval's ``idx`` of the events of the raw
    intervals ``iv`` that match ``where``."""
    return (
        f"SELECT iv.idx, {columns} FROM iv CROSS JOIN LATERAL (SELECT * FROM events e "
        'WHERE e.project_id = %(p)s AND e."timestamp" >= iv.a AND e."timestamp" < iv.b '
        f"AND {where} OFFSET 0) e"
    )


def _in_hull(prefix: str) -> tuple[str, str]:
    """For the parameters of ``_raw_hull(…, prefix)``: the ``idx`` of the interval an event
    ``e`` lies in (NULL between two intervals that do not meet), by ``width_bucket`` over the
    intervals' edges, and the condition that ``e`` lies in their hull, as plain bounds."""
    return (
        f'(%({prefix}_at)s::int[])[width_bucket(e."timestamp", %({prefix}_edges)s::timestamptz[])]',
        f'e."timestamp" >= %({prefix}_lo)s AND e."timestamp" < %({prefix}_hi)s',
    )


def _raw_events(columns: str, where: str) -> str:
    """``WITH raw …``: the ``columns`` (over an event ``e``) and the interval's ``idx`` of the
    events that match ``where`` in splits read wholly raw (a filtered report, a raw breakdown),
    whose intervals do not overlap (``_raw_hull``). They are read as one range with plain
    bounds, which the planner sees: a month is a sequential scan of its partition, where an
    index range per interval (``_events_in``, whose bounds it cannot see) walked the whole month
    through the index (2.9 of a 5.1 s property breakdown on 3.4M events a month). Each event's
    interval is found by ``width_bucket`` over the intervals' edges in time order; an event
    between two intervals that do not meet has none and is left out. Run it after
    ``_parallel_raw_read``."""
    idx, in_hull = _in_hull("iv")
    return (
        f"WITH raw AS MATERIALIZED (SELECT * FROM (SELECT {idx} AS idx, {columns} "
        f"FROM events e WHERE e.project_id = %(p)s AND {in_hull} AND {where}) r "
        "WHERE r.idx IS NOT NULL) "
    )


def _parallel_raw_read(conn: psycopg.Connection[Any]) -> None:
    """Settings for a statement that reads a range wholly raw (``_raw_events``), for the rest
    of the transaction: the planner splits the scan across parallel workers, which it did not
    for the materialized CTE at the default cost of passing a row from a worker (0.1: with a
    month's millions of rows, more than the scan), and it sorts and hashes a month's pairs in
    memory (the default 4 MB spilled to disk)."""
    conn.execute("SET LOCAL parallel_tuple_cost = 0.001")
    conn.execute("SET LOCAL work_mem = '64MB'")


def _raw_hull(ivs: Sequence[tuple[int, datetime, datetime]], prefix: str = "iv") -> dict[str, Any]:
    """The parameters of ``_raw_events`` (``prefix`` "iv") or of ``raw_and_queued``'s queue
    read ("q") for intervals ``(idx, a, b)`` that do not overlap: in time order, the edges where
    an interval starts or ends, and the ``idx`` of the interval that starts at each edge (NULL
    for the gap up to the next interval)."""
    ivs = sorted((iv for iv in ivs if iv[1] < iv[2]), key=lambda iv: iv[1])
    edges: list[datetime] = []
    at: list[int | None] = []
    for idx, a, b in ivs:
        if edges and a < edges[-1]:
            raise ValueError("raw intervals read as one range must not overlap")
        if edges and a > edges[-1]:
            at.append(None)  # the gap from the last end to this start
        elif edges:
            edges.pop()
        edges += [a, b]
        at.append(idx)
    return {
        f"{prefix}_lo": edges[0] if edges else None,
        f"{prefix}_hi": edges[-1] if edges else None,
        f"{prefix}_edges": edges,
        f"{prefix}_at": at,
    }


def raw_and_queued(columns: str, where: str, queued: str | None = None) -> str:
    """``WITH iv …, raw …``: the ``columns`` (over an event ``e``) and the bucket's ``idx`` of
    the events that match ``where``: those of the split's raw intervals, and the queued events
    of its closed hours that are not to be rebuilt (``queued``: the columns over a queued event
    ``e``, where they differ; ``where`` must name only what the queue holds)."""
    # The queue is read as one range with plain bounds (the buckets' closed hours, ``q_…`` of
    # ``bucket_arrays``), each event given to its bucket by ``width_bucket``, as
    # ``_raw_events`` reads raw events: a range per bucket (bounds from a LATERAL row, which the
    # planner cannot see) was estimated at 0.5 % of the queue and read by a plain index scan,
    # a table visit per queued event (97,887 for a day no rollup had seen: 77 against 56 ms).
    idx, in_hull = _in_hull("q")
    return (
        _RAW_INTERVALS + f"raw AS MATERIALIZED ({_events_in(columns, where)} "
        f"UNION ALL SELECT e.idx, {queued or columns} FROM (SELECT {idx} AS idx, "
        f"e.* FROM rollup_queue e WHERE e.project_id = %(p)s AND {in_hull} "
        "AND NOT (date_trunc('hour', e.\"timestamp\") = ANY(%(rebuild)s::timestamptz[])) "
        f"AND {where}) e WHERE e.idx IS NOT NULL) "
    )


def _events_raw(match: Match) -> str:
    """The events (of the event ``%(e)s``, if any) that ``match``: of a filtered report, whose
    splits are wholly raw, from the raw intervals alone (the queue holds no properties to
    match); otherwise the raw intervals' and the queued ones."""
    columns = "e.event, e.session_id, e.distinct_id"
    if match.filtered:
        return _raw_events(columns, f"(%(e)s::text IS NULL OR e.event = %(e)s) AND {match.sql}")
    return raw_and_queued(columns, "(%(e)s::text IS NULL OR e.event = %(e)s)")


def bucket_stats(
    *,
    project_id: UUID,
    splits: Sequence[Split],
    event: str | None,
    match: Match = EVERY_EVENT,
    with_top: bool = False,
) -> list[dict[str, Any]]:
    """Per bucket: events, unique sessions and unique users, all exact. A filtered report's
    splits are all raw (``match`` is read from raw events only). ``with_top``, for a report of
    every event (no ``event``): each bucket's most counted event (then by name) as ``top``,
    (name, count) or None, from the same reads."""
    args = {
        "p": project_id,
        "e": event,
        "ek": event or ANY_EVENT,
        **bucket_arrays(splits, raw_only=match.filtered),
        **match.args(),
    }
    out: list[dict[str, Any]] = [{"count": 0, "s": 0, "u": 0} for _ in splits]
    tops = with_top and event is None
    by_event: list[dict[str, int]] = [defaultdict(int) for _ in splits]
    with connection() as conn:
        if match.filtered:
            archived = archive_reads.bucket_stats(
                conn,
                project_id=project_id,
                ivs=[(i, a, b) for i, s in enumerate(splits) for a, b in s.raw],
                buckets=len(splits),
                event=event,
                match=match,
                with_top=tops,
            )
            if archived is not None:
                return archived
            _parallel_raw_read(conn)
        # Each bucket reads its own hours (LATERAL: an index range a bucket). A join let the
        # planner compare every row of the range with every bucket: 91 daily buckets of 90 days
        # on 10M events made 25M comparisons, 1.8 s.
        for row in conn.execute(
            f"SELECT b.idx, x.event, x.n FROM {_BUCKETS} CROSS JOIN LATERAL ("
            f"  SELECT {'r.event' if tops else 'NULL::text AS event'}, sum(r.count) AS n "
            "  FROM event_rollups_hourly r WHERE r.project_id = %(p)s "
            "  AND r.hour >= b.h1 AND r.hour < b.h2 AND r.hour >= %(lo)s AND r.hour < %(hi)s "
            "  AND NOT (r.hour = ANY(%(rebuild)s::timestamptz[])) "
            "  AND (%(e)s::text IS NULL OR r.event = %(e)s)"
            f"{' GROUP BY r.event' if tops else ''}) x WHERE x.n IS NOT NULL",
            args,
        ):
            out[row["idx"]]["count"] += int(row["n"])  # type: ignore[call-overload]
            by_event[row["idx"]][row["event"]] += int(row["n"])  # type: ignore[call-overload]
        sums = presence_sums(conn, args, kinds=["s", "u"], events=[args["ek"]])
        for (idx, kind, _), n in sums.items():
            out[idx][kind] += n
        # A value read raw is probed for in presence_hourly only where the bucket has presence
        # rows of its kind at all: hours not rolled up yet have none, and their values are new.
        args["probe_s"] = [i for i, o in enumerate(out) if o["s"]]
        args["probe_u"] = [i for i, o in enumerate(out) if o["u"]]
        for row in conn.execute(
            _events_raw(match) + ", "
            "hs AS (SELECT DISTINCT idx, 's'::\"char\" AS kind, "
            "hashtextextended(session_id, 0) AS h FROM raw WHERE session_id IS NOT NULL "
            "UNION ALL SELECT DISTINCT idx, 'u'::\"char\", hashtextextended(distinct_id, 0) "
            "FROM raw WHERE distinct_id IS NOT NULL) "
            # each bucket's counts by event (the overview's top event: the read is its cost)
            + (
                "SELECT idx, 'event' AS kind, event AS name, count(*) AS n FROM raw "
                "GROUP BY idx, event "
                if tops
                else "SELECT idx, 'count' AS kind, NULL AS name, count(*) AS n FROM raw "
                "GROUP BY idx "
            )
            # The values are probed for in the key's order (kind, then hash): neighbouring
            # probes read neighbouring index pages (a quarter off 14,000 probes' 67 ms).
            + "UNION ALL SELECT hs.idx, hs.kind::text, NULL, count(*) "
            f"FROM (SELECT * FROM hs ORDER BY kind, h OFFSET 0) hs JOIN {_BUCKETS} "
            "ON b.idx = hs.idx LEFT JOIN LATERAL (SELECT 1 AS seen FROM presence_hourly ph "
            "WHERE ph.project_id = %(p)s AND ph.kind = hs.kind AND ph.event = %(ek)s "
            "AND ph.h = hs.h AND ph.hour >= b.h1 AND ph.hour < b.h2 "
            "AND hs.idx = ANY(CASE hs.kind WHEN 's' THEN %(probe_s)s::int[] "
            "ELSE %(probe_u)s::int[] END) LIMIT 1) x ON true "
            "WHERE x.seen IS NULL GROUP BY hs.idx, hs.kind",
            args,
        ):
            i, what, n = cast(int, row["idx"]), str(row["kind"]), int(cast(int, row["n"]))
            if what == "event":
                out[i]["count"] += n
                by_event[i][str(row["name"])] += n
            else:
                out[i][what] += n
    if tops:
        for o, counts in zip(out, by_event, strict=True):
            best = min(counts.items(), key=lambda kv: (-kv[1], kv[0]), default=None)
            o["top"] = best if best and best[1] > 0 else None
    return out


def _top_with_uniques(
    conn: psycopg.Connection[Any],
    args: dict[str, Any],
    limit: int,
    *,
    rolled: str,
    raw: str,
    key: str,
    kinds: Sequence[tuple[str, str]],
) -> tuple[list[tuple[str, int]], dict[str, dict[str, int]]]:
    """The ``limit`` names counted most (then by name) in one split, and the exact number of
    distinct values of each of ``kinds`` ((presence kind, member column) pairs: sessions,
    users) for each of them. The counts are the ``rolled`` ones of its clean closed hours
    (giving ``name``, ``n``) plus those of its raw events (``raw``: a ``WITH … raw AS …``
    naming the event's name as ``key``); the distinct values are those present in its closed
    hours (presence counts) and those seen only in its raw events. One statement reads the raw
    events once for all of it: a day of queued events no rollup has seen yet (100,000) took
    ~45 ms to read, once for the counts and once again per kind. A raw value is probed for in
    presence_hourly only for names with presence rows in the split's closed hours."""
    args = {**args, "lim": limit}
    parts = [
        raw + f", counted AS (SELECT name, sum(n)::bigint AS n FROM ({rolled} UNION ALL "
        f"SELECT {key}, count(*) FROM raw WHERE {key} IS NOT NULL GROUP BY 1) c "
        'GROUP BY name ORDER BY 2 DESC, name COLLATE "C" LIMIT %(lim)s)'
    ]
    selects = ["SELECT -1 AS k, name, n FROM counted"]
    for i, (kind, member) in enumerate(kinds):
        args[f"kind{i}"] = kind
        parts.append(
            f"hs{i} AS (SELECT DISTINCT {key} AS name, hashtextextended({member}, 0) AS h "
            f"FROM raw WHERE {member} IS NOT NULL AND {key} IN (SELECT name FROM counted)), "
            f"live{i} AS (SELECT c.name FROM counted c WHERE EXISTS (SELECT 1 FROM "
            f"presence_counts pc WHERE pc.project_id = %(p)s AND pc.event = c.name "
            f"AND pc.hour >= %(h1)s[1] AND pc.hour < %(h2)s[1] AND pc.kind = %(kind{i})s))"
        )
        selects.append(
            f"SELECT {i}, hs.name, count(*) "
            f"FROM (SELECT * FROM hs{i} ORDER BY name, h OFFSET 0) hs "
            "LEFT JOIN LATERAL (SELECT 1 AS seen "
            f"FROM presence_hourly ph WHERE ph.project_id = %(p)s AND ph.kind = %(kind{i})s "
            "AND ph.event = hs.name AND ph.h = hs.h AND ph.hour >= %(h1)s[1] "
            f"AND ph.hour < %(h2)s[1] AND hs.name = ANY(ARRAY(SELECT name FROM live{i})) "
            "LIMIT 1) x ON true WHERE x.seen IS NULL GROUP BY hs.name"
        )
    top: list[tuple[str, int]] = []
    found: dict[str, dict[str, int]] = {member: defaultdict(int) for _, member in kinds}
    for row in conn.execute(", ".join(parts) + " " + " UNION ALL ".join(selects), args):
        if row["k"] < 0:
            top.append((row["name"], int(row["n"])))
        else:
            found[kinds[row["k"]][1]][row["name"]] += int(row["n"])
    top.sort(key=lambda kv: (-kv[1], kv[0]))
    names = [name for name, _ in top]
    if names:
        member_of = dict(kinds)
        sums = presence_sums(conn, args, kinds=list(member_of), events=names)
        for (_, kind, name), n in sums.items():
            found[member_of[kind]][name] += n
    return top, found


def top_events(
    *, project_id: UUID, split: Split, limit: int, match: Match = EVERY_EVENT
) -> list[dict[str, Any]]:
    """Events by count (desc, then name), with their exact unique users."""
    args = {
        "p": project_id,
        "e": None,
        **bucket_arrays([split], raw_only=match.filtered),
        **match.args(),
    }
    with connection() as conn:
        if match.filtered:
            archived = archive_reads.top_events(
                conn,
                project_id=project_id,
                ivs=[(0, a, b) for a, b in split.raw],
                limit=limit,
                match=match,
            )
            if archived is not None:
                return archived
            _parallel_raw_read(conn)
        top, uniques = _top_with_uniques(
            conn,
            args,
            limit,
            rolled="SELECT event AS name, sum(count) AS n FROM event_rollups_hourly "
            "WHERE project_id = %(p)s AND hour >= %(h1)s[1] AND hour < %(h2)s[1] "
            "AND NOT (hour = ANY(%(rebuild)s::timestamptz[])) GROUP BY event",
            raw=_events_raw(match),
            key="event",
            kinds=[("u", "distinct_id")],
        )
    users = uniques["distinct_id"]
    return [{"name": n, "count": c, "unique_users": users.get(n, 0)} for n, c in top]


# ---------------------------------------------------------------------------------------------
# Raw-event reports (users, events, pages, referrers, UTM; sessions are in data/sessions.py)


def _page_args(
    project_id: UUID,
    start: datetime,
    end: datetime,
    limit: int,
    after: tuple[datetime, str] | None,
    **filters: Any,
) -> dict[str, Any]:
    """Parameters of a cursor-paginated list: the range, the page size, the cursor's (time, key)
    as ``cs``/``ci``, and the list's own filters."""
    return {
        "p": project_id,
        "s": start,
        "e": end,
        "lim": limit,
        "cs": after[0] if after else None,
        "ci": after[1] if after else None,
        **filters,
    }


def user_list(
    *,
    project_id: UUID,
    start: datetime,
    end: datetime,
    limit: int,
    after: tuple[datetime, str] | None,
    distinct_id: str | None = None,
) -> list[dict[str, Any]]:
    args = _page_args(project_id, start, end, limit, after, d=distinct_id)
    return fetch_all(
        "SELECT x.*, (SELECT i.properties FROM events i WHERE i.project_id = %(p)s "
        "AND i.distinct_id = x.distinct_id AND i.event = '$identify' "
        'ORDER BY i."timestamp" DESC LIMIT 1) AS properties FROM ('
        'SELECT distinct_id, min("timestamp") AS first_seen, max("timestamp") AS last_seen, '
        "count(*) AS event_count FROM events WHERE project_id = %(p)s "
        'AND "timestamp" >= %(s)s AND "timestamp" < %(e)s AND distinct_id IS NOT NULL '
        "AND (%(d)s::text IS NULL OR distinct_id = %(d)s) GROUP BY distinct_id) x "
        "WHERE %(cs)s::timestamptz IS NULL OR (last_seen, distinct_id) < (%(cs)s, %(ci)s) "
        "ORDER BY last_seen DESC, distinct_id DESC LIMIT %(lim)s",
        args,
    )


# How many of the latest identified events one step of the users walk reads.
_WALK_STEP = 2000


def recent_users(
    *,
    project_id: UUID,
    start: datetime,
    end: datetime,
    limit: int,
    after: tuple[datetime, str] | None,
    match: Match = EVERY_EVENT,
) -> list[dict[str, Any]]:
    """One page of the users seen in [start, end), latest ``last_seen`` first (then distinct id,
    descending), each with its first and last time and events in the range.

    Walks the range's identified events from the newest (the events' primary key, backwards)
    and stops as soon as the page is certain: a user not met yet has no event after the walk's
    position, so once ``limit`` users were last seen after it, none can come before them. The
    work is that of the few thousand latest events, not of every event of the range. With
    ``match``, only the events that match count (a user with none is not listed)."""
    found: dict[str, datetime] = {}
    position: tuple[datetime, str] | None = None
    top = end
    if after is not None:
        top = min(end, after[0] + timedelta(microseconds=1))
    with connection() as conn:
        while True:
            rows = conn.execute(
                'SELECT e."timestamp" AS ts, e.id::text AS id, e.distinct_id FROM events e '
                'WHERE e.project_id = %(p)s AND e."timestamp" >= %(s)s '
                'AND e."timestamp" < %(top)s AND e.distinct_id IS NOT NULL '
                f"AND {match.sql} AND (%(pt)s::timestamptz IS NULL "
                'OR (e."timestamp", e.id) < (%(pt)s, %(pi)s::uuid)) '
                'ORDER BY e."timestamp" DESC, e.id DESC LIMIT %(n)s',
                {
                    **match.args(),
                    "p": project_id,
                    "s": start,
                    "top": top,
                    "pt": position[0] if position else None,
                    "pi": position[1] if position else None,
                    "n": _WALK_STEP,
                },
            ).fetchall()
            fresh = sorted({str(r["distinct_id"]) for r in rows} - found.keys())
            if fresh:
                for r in conn.execute(
                    "SELECT d.id AS distinct_id, x.last_seen FROM unnest(%(ids)s::text[]) AS d(id) "
                    'CROSS JOIN LATERAL (SELECT max(e."timestamp") AS last_seen FROM events e '
                    "WHERE e.project_id = %(p)s AND e.distinct_id = d.id "
                    f'AND e."timestamp" >= %(s)s AND e."timestamp" < %(e)s AND {match.sql}) x',
                    {"p": project_id, "ids": fresh, "s": start, "e": end, **match.args()},
                ):
                    found[str(r["distinct_id"])] = r["last_seen"]  # type: ignore[assignment]
            page = sorted(
                (
                    (seen, user)
                    for user, seen in found.items()
                    if after is None or (seen, user) < after
                ),
                reverse=True,
            )[:limit]
            if len(rows) < _WALK_STEP:
                break
            last: datetime = rows[-1]["ts"]  # type: ignore[assignment]
            position = (last, str(rows[-1]["id"]))
            if len(page) == limit and page[-1][0] > last:
                break
        if not page:
            return []
        listed = conn.execute(
            "SELECT d.id AS distinct_id, x.first_seen, x.last_seen, x.event_count, "
            "(SELECT i.properties FROM events i WHERE i.project_id = %(p)s "
            "AND i.distinct_id = d.id AND i.event = '$identify' "
            'ORDER BY i."timestamp" DESC LIMIT 1) AS properties '
            "FROM unnest(%(ids)s::text[]) WITH ORDINALITY AS d(id, n) CROSS JOIN LATERAL ("
            'SELECT min(e."timestamp") AS first_seen, max(e."timestamp") AS last_seen, '
            "count(*) AS event_count FROM events e WHERE e.project_id = %(p)s "
            'AND e.distinct_id = d.id AND e."timestamp" >= %(s)s AND e."timestamp" < %(e)s '
            f"AND {match.sql}) x ORDER BY d.n",
            {
                "p": project_id,
                "ids": [user for _, user in page],
                "s": start,
                "e": end,
                **match.args(),
            },
        ).fetchall()
    return [dict(r) for r in listed]


def event_list(
    *,
    project_id: UUID,
    start: datetime,
    end: datetime,
    limit: int,
    after: tuple[datetime, str] | None,
    event: str | None,
    distinct_id: str | None,
    session_id: str | None,
    match: Match = EVERY_EVENT,
) -> list[dict[str, Any]]:
    args = _page_args(
        project_id,
        start,
        end,
        limit,
        after,
        ev=event,
        d=distinct_id,
        sid=session_id,
        **match.args(),
    )
    return fetch_all(
        "SELECT e.id::text AS uuid, e.event, e.distinct_id, e.session_id, e.properties, "
        'e.page_url, e.referrer, e."timestamp", e.received_at FROM events e '
        'WHERE e.project_id = %(p)s AND e."timestamp" >= %(s)s AND e."timestamp" < %(e)s '
        "AND (%(ev)s::text IS NULL OR e.event = %(ev)s) "
        "AND (%(d)s::text IS NULL OR e.distinct_id = %(d)s) "
        "AND (%(sid)s::text IS NULL OR e.session_id = %(sid)s) "
        f"AND {match.sql} "
        'AND (%(cs)s::timestamptz IS NULL OR (e."timestamp", e.id) < (%(cs)s, %(ci)s::uuid)) '
        'ORDER BY e."timestamp" DESC, e.id DESC LIMIT %(lim)s',
        args,
    )


def breakdown(
    *,
    project_id: UUID,
    split: Split,
    dimension: Dimension,
    limit: int,
    match: Match = EVERY_EVENT,
) -> list[dict[str, Any]]:
    """The ``limit`` values of a dimension counted most (then by value), each with its count
    (page views, events or sessions: ``dimension.counted``), exact unique sessions and exact
    unique users. A rolled-up dimension of an unfiltered report reads its split's closed clean
    hours from rollups; everything else is read from raw events."""
    if dimension.kinds is not None and not match.filtered:
        return _rolled_breakdown(project_id, split, dimension, limit)
    if dimension.counted == "sessions":
        return sessions.session_pages(
            project_id=project_id, split=split, which=dimension.name, limit=limit, match=match
        )
    return _raw_breakdown(
        project_id, split, dimension.expr, dimension.counted, limit, match, column=dimension.name
    )


def property_breakdown(
    *, project_id: UUID, split: Split, key: str, limit: int, match: Match = EVERY_EVENT
) -> list[dict[str, Any]]:
    """Events by the value (as text) of their property ``key``; events without it are left
    out. Read from raw events."""
    return _raw_breakdown(
        project_id, split, "e.properties->>%(prop)s", "events", limit, match, prop=key
    )


def _rolled_breakdown(
    project_id: UUID, split: Split, dimension: Dimension, limit: int
) -> list[dict[str, Any]]:
    """Page views by a rolled-up dimension: closed clean hours from ``breakdown_hourly`` and
    the presence rows of the dimension's kinds, the rest from raw events (sessions and users
    already present in the range's closed hours not counted twice), as ``bucket_stats`` does
    for events."""
    assert dimension.kinds is not None
    s_kind, u_kind = dimension.kinds
    args = {"p": project_id, "k": s_kind, **bucket_arrays([split])}
    raw = raw_and_queued(
        f"{dimension.expr} AS value, e.session_id, e.distinct_id",
        "e.event = 'page_view'",
        queued=f"e.{QUEUE_COLUMNS[dimension.name]} AS value, e.session_id, e.distinct_id",
    )
    with connection() as conn:
        top, uniques = _top_with_uniques(
            conn,
            args,
            limit,
            rolled="SELECT value AS name, sum(count) AS n FROM breakdown_hourly "
            "WHERE project_id = %(p)s AND kind = %(k)s AND hour >= %(h1)s[1] "
            "AND hour < %(h2)s[1] AND NOT (hour = ANY(%(rebuild)s::timestamptz[])) GROUP BY value",
            raw=raw,
            key="value",
            kinds=[(s_kind, "session_id"), (u_kind, "distinct_id")],
        )
    return [
        {
            "value": v,
            "count": c,
            "unique_sessions": uniques["session_id"].get(v, 0),
            "unique_users": uniques["distinct_id"].get(v, 0),
        }
        for v, c in top
    ]


def _raw_breakdown(
    project_id: UUID,
    split: Split,
    expr: str,
    counted: str,
    limit: int,
    match: Match,
    *,
    column: str | None = None,
    prop: str | None = None,
) -> list[dict[str, Any]]:
    """A breakdown over the raw events of the whole split (its ``raw`` intervals must cover
    it, or it is unfiltered and ``counted`` says which events the rollups would count): of a
    page-view dimension (``column``, its name) or of the property ``prop``."""
    # Ties are ordered by code point (COLLATE "C"), as _top orders the rolled-up breakdowns,
    # whatever the database's collation.
    only = "e.event = 'page_view'" if counted == "page_views" else "true"
    args = {"p": project_id, "lim": limit, **_whole(split), **match.args(), "prop": prop}
    # Events without the property are left out as they are read (``raw`` is materialized: a
    # filter on it would come after every event of the range was copied into it); a page
    # view's dimension is rarely missing and costly to work out twice (the referrer's regular
    # expressions), so those are left out after. Distinct sessions and users are counted by
    # hashing (value, id) pairs, then counting them per value, which does not sort the events
    # once per DISTINCT.
    has_value = f" AND {expr} IS NOT NULL" if counted == "events" else ""
    query = (
        _raw_events(
            f"{expr} AS value, e.session_id, e.distinct_id",
            f"{only} AND {match.sql}{has_value}",
        )
        + ", counts AS (SELECT value, sum(n)::bigint AS count, count(session_id) AS s "
        "  FROM (SELECT value, session_id, count(*) AS n FROM raw WHERE value IS NOT NULL "
        "  GROUP BY 1, 2) x GROUP BY 1 "
        '  ORDER BY 2 DESC, value COLLATE "C" LIMIT %(lim)s), '
        "users AS (SELECT value, count(distinct_id) AS u FROM (SELECT DISTINCT value, distinct_id "
        "  FROM raw WHERE value IN (SELECT value FROM counts)) x GROUP BY 1) "
        "SELECT c.value, c.count, c.s AS unique_sessions, coalesce(u.u, 0) AS unique_users "
        "FROM counts c LEFT JOIN users u ON u.value = c.value "
        'ORDER BY c.count DESC, c.value COLLATE "C"'
    )
    with connection() as conn:
        archived = archive_reads.breakdown(
            conn,
            project_id=project_id,
            ivs=[(0, split.start, split.end)],
            column=column,
            prop=prop,
            page_views_only=counted == "page_views",
            limit=limit,
            match=match,
        )
        if archived is not None:
            return archived
        # A month's (value, session) pairs (~400,000 for a property on 1 event in 5 of 3.4M)
        # spilled to disk in 21 batches at the default 4 MB.
        _parallel_raw_read(conn)
        return conn.execute(query, args).fetchall()


def _whole(split: Split) -> dict[str, Any]:
    """The one raw interval [start, end) of a split read from raw events as a whole."""
    return _raw_hull([(0, split.start, split.end)])


# How many rows a server-side cursor fetches at a time (an export's memory is about this many).
EXPORT_FETCH_ROWS = 2000


def iter_events(
    *,
    project_id: UUID,
    start: datetime,
    end: datetime,
    after: tuple[datetime, str] | None,
    columns: Sequence[str],
) -> Generator[tuple[Any, ...], None, None]:
    """The range's events oldest first (then by id), after the (time, id) ``after``, as tuples of
    ``columns``; read through a server-side cursor ``EXPORT_FETCH_ROWS`` rows at a time, so that
    memory stays the same whatever the number of rows. Stop iterating to stop reading."""
    select = {
        "uuid": "id::text",
        "properties": "properties::text",
        "timestamp": '"timestamp"',
    }
    wanted = ", ".join(select.get(c, c) for c in columns)
    with connection() as conn:
        with conn.cursor(name="pulse_export", row_factory=tuple_row) as cur:
            cur.itersize = EXPORT_FETCH_ROWS
            cur.execute(
                f"SELECT {wanted} FROM events WHERE project_id = %(p)s "
                'AND "timestamp" >= %(s)s AND "timestamp" < %(e)s '
                'AND (%(cs)s::timestamptz IS NULL OR ("timestamp", id) > (%(cs)s, %(ci)s::uuid)) '
                'ORDER BY "timestamp", id',
                _page_args(project_id, start, end, 0, after),
            )
            yield from cur
