"""SQL for the sessions aggregate: per-hour session parts (``session_hourly``), kept by the rollup
job, and the sessions report folded from them and from raw events.

A session's figures over a range are folded from parts: one per hour it was active in (whole
clean closed hours from ``session_hourly``; partial, dirty and open hours from raw events):
``started_at`` the least, ``ended_at`` the greatest, ``events`` and ``page_views`` summed,
``distinct_id`` the part's with the latest ``distinct_at``, ``entry_page`` the part's with the
earliest ``entry_at``, ``exit_page`` the part's with the latest ``exit_at`` (a tie in time goes
to the least entry page, the greatest exit page and distinct id). Every figure is what one pass
over the range's raw events gives.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg

from pulse.analytics.periods import Split
from pulse.db.connection import connection, fetch_all

if TYPE_CHECKING:
    from pulse.data.dimensions import Match

# The page path of an event: its "path" property, else the path of its URL.
PATH = "coalesce(e.properties->>'path', substring(e.page_url from '^[a-z]+://[^/]+(/[^?#]*)'))"

# A time as fixed-width text that sorts as the time does (UTC: no repeated local hours).
_SORTABLE = "to_char({} AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS')"

# A session's parts folded into one (GROUP BY the session): the value at the latest / earliest
# time, as the max / min of [time, value] text arrays: plain aggregates, which can hash (an
# ordered array_agg sorts per session).
_FOLD = (
    "min(started_at) AS started_at, max(ended_at) AS ended_at, sum(events)::bigint AS events, "
    "sum(page_views)::bigint AS page_views, "
    f"(max(ARRAY[{_SORTABLE.format('distinct_at')}, distinct_id]) "
    "  FILTER (WHERE distinct_at IS NOT NULL))[2] AS distinct_id, "
    f"(min(ARRAY[{_SORTABLE.format('entry_at')}, entry_page]) "
    "  FILTER (WHERE entry_at IS NOT NULL))[2] AS entry_page, "
    f"(max(ARRAY[{_SORTABLE.format('exit_at')}, exit_page]) "
    "  FILTER (WHERE exit_at IS NOT NULL))[2] AS exit_page"
)


def _part(path: str) -> str:
    """One part per session of the events ``e`` it is grouped over (GROUP BY the session, and
    the hour for session_hourly), ``path`` giving an event's page path."""
    return (
        'min(e."timestamp") AS started_at, max(e."timestamp") AS ended_at, count(*) AS events, '
        "count(*) FILTER (WHERE e.event = 'page_view') AS page_views, "
        '(array_agg(e.distinct_id ORDER BY e."timestamp" DESC, e.distinct_id DESC) '
        "  FILTER (WHERE e.distinct_id IS NOT NULL))[1] AS distinct_id, "
        'max(e."timestamp") FILTER (WHERE e.distinct_id IS NOT NULL) AS distinct_at, '
        f'(array_agg({path} ORDER BY e."timestamp", {path}) '
        "  FILTER (WHERE e.event = 'page_view'))[1] AS entry_page, "
        "min(e.\"timestamp\") FILTER (WHERE e.event = 'page_view') AS entry_at, "
        f'(array_agg({path} ORDER BY e."timestamp" DESC, {path} DESC) '
        "  FILTER (WHERE e.event = 'page_view'))[1] AS exit_page, "
        "max(e.\"timestamp\") FILTER (WHERE e.event = 'page_view') AS exit_at"
    )


# One part per session of the raw events ``rawe`` (``timestamp``, ``event``, ``session_id``,
# ``distinct_id``, ``path``), the same figures as ``_part``: the times and counts by one hash
# aggregate, then the distinct id, entry and exit page picked from the events at those times (a
# hash join and a second aggregate). ``_part``'s ordered aggregates sort by session and then
# again within each: 131 against 101 ms for a day of 100,000 queued events. At a tie in time,
# the greatest distinct id, the least entry page and the greatest exit page; a page view
# without a path wins the exit (and loses the entry), as it does in ``_part`` and ``_FOLD``.
_RAW_PARTS = (
    'WITH ends AS (SELECT e.session_id, min(e."timestamp") AS started_at, '
    'max(e."timestamp") AS ended_at, count(*) AS events, '
    "count(*) FILTER (WHERE e.event = 'page_view') AS page_views, "
    'max(e."timestamp") FILTER (WHERE e.distinct_id IS NOT NULL) AS distinct_at, '
    "min(e.\"timestamp\") FILTER (WHERE e.event = 'page_view') AS entry_at, "
    "max(e.\"timestamp\") FILTER (WHERE e.event = 'page_view') AS exit_at "
    "FROM rawe e GROUP BY e.session_id) "
    "SELECT a.session_id, a.started_at, a.ended_at, a.events, a.page_views, "
    'max(e.distinct_id) FILTER (WHERE e."timestamp" = a.distinct_at) AS distinct_id, '
    "a.distinct_at, "
    "min(e.path) FILTER (WHERE e.event = 'page_view' AND e.\"timestamp\" = a.entry_at) "
    "AS entry_page, a.entry_at, "
    "CASE WHEN bool_or(e.path IS NULL) "
    "FILTER (WHERE e.event = 'page_view' AND e.\"timestamp\" = a.exit_at) THEN NULL "
    "ELSE max(e.path) FILTER (WHERE e.event = 'page_view' AND e.\"timestamp\" = a.exit_at) "
    "END AS exit_page, a.exit_at "
    "FROM ends a LEFT JOIN rawe e ON e.session_id = a.session_id "
    'AND e."timestamp" IN (a.distinct_at, a.entry_at, a.exit_at) '
    "GROUP BY a.session_id, a.started_at, a.ended_at, a.events, a.page_views, a.distinct_at, "
    "a.entry_at, a.exit_at"
)


def add_new_events(
    conn: psycopg.Connection[Any], *, project_id: UUID, rebuild: list[datetime]
) -> None:
    """Bring the session parts, totals and day sums up to date with the rollup's new events
    (the temporary table ``q``), after clearing the parts of the hours to rebuild; in the
    caller's transaction."""
    conn.execute("CREATE TEMP TABLE touched_sessions (session_id text) ON COMMIT DROP")
    if rebuild:
        conn.execute(
            "WITH gone AS (DELETE FROM session_hourly WHERE project_id = %s "
            "AND hour = ANY(%s::timestamptz[]) RETURNING session_id) "
            "INSERT INTO touched_sessions SELECT session_id FROM gone",
            (project_id, rebuild),
        )
    _merge_parts(conn, project_id=project_id)
    conn.execute(
        "INSERT INTO touched_sessions SELECT session_id FROM q WHERE session_id IS NOT NULL"
    )
    _refresh_totals(conn, project_id=project_id)


def _refresh_totals(conn: psycopg.Connection[Any], *, project_id: UUID) -> None:
    """Fold the touched sessions' parts into their totals again, and move the day sums from
    their old totals to the new."""
    args = {"p": project_id}
    conn.execute(
        "CREATE TEMP TABLE totals_moved ON COMMIT DROP AS "
        "WITH gone AS (DELETE FROM session_totals t USING "
        "  (SELECT DISTINCT session_id FROM touched_sessions) x "
        "  WHERE t.project_id = %(p)s AND t.session_id = x.session_id RETURNING t.*) "
        "SELECT -1 AS sign, started_at, ended_at, page_views, entry_page FROM gone",
        args,
    )
    conn.execute(
        "WITH fresh AS (INSERT INTO session_totals (project_id, session_id, started_at, "
        "  ended_at, events, page_views, distinct_id, entry_page, exit_page) "
        f"  SELECT %(p)s, session_id, {_FOLD} FROM session_hourly "
        "  WHERE project_id = %(p)s "
        "  AND session_id IN (SELECT DISTINCT session_id FROM touched_sessions) "
        "  GROUP BY session_id RETURNING *) "
        "INSERT INTO totals_moved SELECT 1, started_at, ended_at, page_views, entry_page "
        "FROM fresh",
        args,
    )
    day = "(started_at AT TIME ZONE 'UTC')::date"
    conn.execute(
        "INSERT INTO session_daily AS d (project_id, day, sessions, duration_us, bounces, "
        "page_views) "
        f"SELECT %(p)s, {day}, sum(sign), "
        "sum(sign * (extract(epoch FROM ended_at - started_at) * 1000000)::bigint), "
        "sum(sign * (page_views = 1)::int), sum(sign * page_views) FROM totals_moved "
        "GROUP BY 2 ON CONFLICT (project_id, day) DO UPDATE SET "
        "sessions = d.sessions + excluded.sessions, "
        "duration_us = d.duration_us + excluded.duration_us, "
        "bounces = d.bounces + excluded.bounces, page_views = d.page_views + excluded.page_views",
        args,
    )
    conn.execute(
        "INSERT INTO session_entry_daily AS d (project_id, day, entry_page, sessions) "
        f"SELECT %(p)s, {day}, entry_page, sum(sign) FROM totals_moved "
        "WHERE entry_page IS NOT NULL GROUP BY 2, 3 HAVING sum(sign) <> 0 "
        "ON CONFLICT (project_id, day, entry_page) DO UPDATE "
        "SET sessions = d.sessions + excluded.sessions",
        args,
    )
    conn.execute(
        "DELETE FROM session_entry_daily WHERE project_id = %(p)s AND sessions = 0 "
        f"AND day IN (SELECT DISTINCT {day} FROM totals_moved)",
        args,
    )
    conn.execute(
        "DELETE FROM session_daily WHERE project_id = %(p)s AND sessions = 0 "
        f"AND day IN (SELECT DISTINCT {day} FROM totals_moved)",
        args,
    )


def _later(field: str, *, earlier: bool = False) -> str:
    """Whether the new part's ``field`` (``field_at``, then the value on a tie) wins over the
    stored part's in a merge: the latest (the earliest) one, as ``_FOLD`` picks it."""
    at, value = f"{field}_at", "distinct_id" if field == "distinct" else f"{field}_page"
    new, old = (
        f"ARRAY[{_SORTABLE.format(f'{side}.{at}')}, {side}.{value}]" for side in ("excluded", "s")
    )
    return (
        f"(excluded.{at} IS NOT NULL AND (s.{at} IS NULL OR {new} {'<' if earlier else '>'} {old}))"
    )


def _merge_parts(conn: psycopg.Connection[Any], *, project_id: UUID) -> None:
    """Merge the events of the temporary table ``q`` (the rollup's new events: ``timestamp``,
    ``event``, ``session_id``, ``distinct_id`` and a page_view's ``path``) into the session parts
    of their hours: a part of the new events, folded into the stored part as the report folds
    parts (least start, greatest end, sums, the later distinct id, the earlier entry page, the
    later exit page)."""
    conn.execute(
        "INSERT INTO session_hourly AS s (project_id, hour, session_id, started_at, ended_at, "
        "events, page_views, distinct_id, distinct_at, entry_page, entry_at, exit_page, exit_at) "
        "SELECT %s, date_trunc('hour', e.\"timestamp\"), e.session_id, "
        f"{_part('e.path')} FROM q e WHERE e.session_id IS NOT NULL GROUP BY 2, 3 "
        "ON CONFLICT (project_id, hour, session_id) DO UPDATE SET "
        "started_at = least(s.started_at, excluded.started_at), "
        "ended_at = greatest(s.ended_at, excluded.ended_at), "
        "events = s.events + excluded.events, page_views = s.page_views + excluded.page_views, "
        f"distinct_id = CASE WHEN {_later('distinct')} THEN excluded.distinct_id "
        "  ELSE s.distinct_id END, "
        "distinct_at = greatest(s.distinct_at, excluded.distinct_at), "
        f"entry_page = CASE WHEN {_later('entry', earlier=True)} THEN excluded.entry_page "
        "  ELSE s.entry_page END, "
        "entry_at = least(s.entry_at, excluded.entry_at), "
        f"exit_page = CASE WHEN {_later('exit')} THEN excluded.exit_page ELSE s.exit_page END, "
        "exit_at = greatest(s.exit_at, excluded.exit_at)",
        (project_id,),
    )


def _sessions(split: Split, where: str, *, filtered: bool) -> str:
    """``WITH …``: the range's sessions as ``session_totals`` and the day sums hold them, with
    the sessions they cannot answer for folded exactly from their parts (``folded``):

    - ``x``: the sessions with events in the raw intervals (the edges, the hours to rebuild and
      the open hour) or in the queue of the closed hours [h1, h2), and those whose totals span
      the start or the end of [h1, h2);
    - every other session of the range lies wholly inside [h1, h2): its totals are its figures.

    So ``days`` + ``edge`` (the totals started in [h1, h2): whole UTC days from the day sums,
    the part-days at the edges row by row) − ``z`` (those of them in ``x``) + ``folded`` are the
    range's sessions, and the work is the edges', not the range's; row by row, they are
    ``inside`` (the totals of the sessions not in ``x``) + ``folded``. The raw intervals go in as
    plain bounds, one ``OR`` term each, so that the planner prunes partitions and reads only
    their time ranges. ``where`` (a condition on the event ``e``) keeps the raw events that
    match the report's filters (a filtered report's split is all raw)."""
    raw = " OR ".join(
        f'(e."timestamp" >= %(a{i})s AND e."timestamp" < %(b{i})s)' for i in range(len(split.raw))
    )
    # Totals that end at or after h2 exist only if an hour from h2 on is rolled up: never when h2
    # is the open hour (a range to now), so that check is skipped (a one-time filter) instead of
    # scanning the last day's totals for none (18 ms of a 54 ms report on 3.3M events a month).
    crossing = " UNION ".join(
        f"SELECT session_id FROM session_totals WHERE project_id = %(p)s AND {cond}"
        + (
            " AND EXISTS (SELECT 1 FROM event_rollups_hourly r WHERE r.project_id = %(p)s "
            "AND r.hour >= %(h2)s)"
            if at == "h2"
            else ""
        )
        for at in ("h1", "h2")
        for cond in (
            f"started_at >= %({at})s - interval '1 day' AND started_at < %({at})s "
            f"AND ended_at >= %({at})s",
            # the few sessions longer than a day, from their own (partial) index
            "ended_at - started_at > interval '1 day' "
            f"AND started_at < %({at})s - interval '1 day' AND ended_at >= %({at})s",
        )
    )
    events = (
        [
            f'SELECT e."timestamp", e.event, e.session_id, e.distinct_id, {PATH} AS path '
            f"FROM events e WHERE e.project_id = %(p)s AND ({raw}) AND e.session_id IS NOT NULL "
            f"AND {where}"
        ]
        if raw
        else []
    )
    if not filtered:  # a filtered split is all raw: it has no closed hours to queue
        # Plain bounds, which the planner sees: a LATERAL range (bounds it cannot see) was
        # estimated at 0.5 % of the queue and read by a plain index scan, a table visit per
        # queued event (the report 181-191 against 144-146 ms with a day of 100,000 queued
        # events on 10M). The plan rests on the queue's statistics: autovacuum analyzes it
        # after 5,000 changes (migration 0011).
        events.append(
            'SELECT e."timestamp", e.event, e.session_id, e.distinct_id, e.path '
            'FROM rollup_queue e WHERE e.project_id = %(p)s AND e."timestamp" >= %(h1)s '
            'AND e."timestamp" < %(h2)s '
            "AND NOT (date_trunc('hour', e.\"timestamp\") = ANY(%(rebuild)s::timestamptz[])) "
            "AND e.session_id IS NOT NULL"
        )
    if not events:  # no raw interval, nothing queued to read: no session
        events.append(
            'SELECT NULL::timestamptz AS "timestamp", NULL::text AS event, '
            "NULL::text AS session_id, NULL::text AS distinct_id, NULL::text AS path WHERE false"
        )
    return (
        "WITH rawe AS MATERIALIZED (SELECT * FROM ("
        + " UNION ALL ".join(events)
        + f") e), rawp AS ({_RAW_PARTS}), crossing AS ({crossing}), "
        "x AS MATERIALIZED (SELECT session_id FROM rawp UNION SELECT session_id FROM crossing), "
        # The sessions of x are looked up one by one by their key (LATERAL, kept apart by
        # OFFSET 0, the range filtered after): their number is the edges', and a join planned
        # from stale statistics read every part, or scanned a month of totals per session.
        # Every stored part of those sessions, of any hour: a session has totals only if it
        # has parts (the rollup folds them from its parts), so ``z`` looks up the totals of
        # these sessions alone. Most sessions of a day no rollup has seen yet have none: a
        # probe of their totals each found nothing (10,776 probes, ~50 ms).
        "stored AS MATERIALIZED (SELECT x.session_id, sh.hour, sh.started_at, sh.ended_at, "
        "  sh.events, sh.page_views, sh.distinct_id, sh.distinct_at, sh.entry_page, sh.entry_at, "
        "  sh.exit_page, sh.exit_at FROM x "
        "  CROSS JOIN LATERAL (SELECT * FROM session_hourly sh WHERE sh.project_id = %(p)s "
        "  AND sh.session_id = x.session_id OFFSET 0) sh "
        # Without closed hours (a filtered report's split is all raw) no part and no total is
        # read: a one-time filter, where the probes of 54,802 sessions found none in 461 ms.
        "  WHERE %(h1)s::timestamptz < %(h2)s::timestamptz), "
        "parts AS (SELECT session_id, started_at, ended_at, events, page_views, distinct_id, "
        "  distinct_at, entry_page, entry_at, exit_page, exit_at FROM stored "
        "  WHERE hour >= %(h1)s AND hour < %(h2)s "
        "  AND NOT (hour = ANY(%(rebuild)s::timestamptz[])) UNION ALL SELECT * FROM rawp), "
        # Only a session with stored parts is folded; one read raw alone is its raw part (most
        # of them, for a day of queued events no rollup has seen yet).
        f"folded AS MATERIALIZED (SELECT session_id, {_FOLD} FROM parts "
        "  WHERE session_id IN (SELECT session_id FROM stored) GROUP BY session_id "
        "  UNION ALL SELECT session_id, started_at, ended_at, events, page_views, distinct_id, "
        "  entry_page, exit_page FROM rawp "
        "  WHERE session_id NOT IN (SELECT session_id FROM stored)), "
        "z AS (SELECT t.* FROM (SELECT DISTINCT session_id FROM stored) x "
        "  CROSS JOIN LATERAL (SELECT * FROM session_totals t "
        "  WHERE t.project_id = %(p)s AND t.session_id = x.session_id OFFSET 0) t "
        "  WHERE t.started_at >= %(h1)s AND t.started_at < %(h2)s), "
        "edge AS (SELECT * FROM session_totals t WHERE t.project_id = %(p)s "
        "  AND ((t.started_at >= %(h1)s AND t.started_at < %(d1)s) "
        "  OR (t.started_at >= %(d2)s AND t.started_at < %(h2)s))), "
        "days AS (SELECT coalesce(sum(sessions), 0) AS n, coalesce(sum(duration_us), 0) AS dur, "
        "  coalesce(sum(bounces), 0) AS b, coalesce(sum(page_views), 0) AS pv "
        "  FROM session_daily WHERE project_id = %(p)s AND day >= %(day1)s AND day < %(day2)s), "
        "signed AS (SELECT 1 AS w, started_at, ended_at, page_views, entry_page FROM edge "
        "  UNION ALL SELECT -1, started_at, ended_at, page_views, entry_page FROM z "
        "  UNION ALL SELECT 1, started_at, ended_at, page_views, entry_page FROM folded), "
        "agg AS (SELECT coalesce(sum(w), 0) AS n, "
        "  coalesce(sum(w * (extract(epoch FROM ended_at - started_at) * 1000000)::bigint), 0) "
        "  AS dur, coalesce(sum(w * (page_views = 1)::int), 0) AS b, "
        "  coalesce(sum(w * page_views), 0) AS pv FROM signed), "
        "inside AS (SELECT t.* FROM session_totals t WHERE t.project_id = %(p)s "
        "  AND t.started_at >= %(h1)s AND t.started_at < %(h2)s AND t.ended_at < %(h2)s "
        "  AND NOT EXISTS (SELECT 1 FROM x WHERE x.session_id = t.session_id)) "
    )


def _day_bounds(split: Split) -> dict[str, Any]:
    """The whole UTC days inside [h1, h2) (``d1``..``d2``, as times and as dates), read from
    the day sums; without one, ``d1`` = ``d2`` = h2, and every session comes row by row."""
    d1, d2 = split.whole_utc_days()
    return {"d1": d1, "d2": d2, "day1": d1.date(), "day2": d2.date()}


def _args(project_id: UUID, split: Split, **more: Any) -> dict[str, Any]:
    bounds = {}
    for i, (a, b) in enumerate(split.raw):
        bounds[f"a{i}"], bounds[f"b{i}"] = a, b
    return {
        "p": project_id,
        "h1": split.h1,
        "h2": split.h2,
        "rebuild": list(split.rebuild),
        **bounds,
        **more,
    }


_SUMMARY = ("sessions", "avg_duration_s", "bounce_rate", "pages_per_session", "top_entry_pages")
_LISTED = (
    "session_id",
    "started_at",
    "ended_at",
    "events",
    "page_views",
    "distinct_id",
    "entry_page",
)


def session_report(
    *,
    project_id: UUID,
    split: Split,
    limit_pages: int,
    limit: int,
    after: tuple[datetime, str] | None,
    match: Match | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The range's sessions in one pass: their count, average duration, bounce rate, pages per
    session and top entry pages, and one page of the list (latest start first). With
    ``match`` (whose split must be all raw), the sessions folded from the matching events."""
    filtered = bool(match and match.filtered)
    query = (
        _sessions(split, match.sql if match else "true", filtered=filtered)
        + ", entries AS (SELECT entry_page AS path, sum(n)::bigint AS sessions "
        "  FROM (SELECT entry_page, sessions AS n FROM session_entry_daily "
        "  WHERE project_id = %(p)s AND day >= %(day1)s AND day < %(day2)s "
        "  UNION ALL SELECT entry_page, w FROM signed WHERE entry_page IS NOT NULL) e "
        "  GROUP BY 1 HAVING sum(n) > 0 ORDER BY 2 DESC, 1 LIMIT %(lim_pages)s), "
        "summary AS (SELECT (days.n + agg.n)::bigint AS sessions, "
        "  CASE WHEN days.n + agg.n > 0 THEN (days.dur + agg.dur) / 1e6 / (days.n + agg.n) "
        "  ELSE 0 END::float AS avg_duration_s, "
        "  CASE WHEN days.n + agg.n > 0 THEN (days.b + agg.b)::float / (days.n + agg.n) "
        "  ELSE 0 END AS bounce_rate, "
        "  CASE WHEN days.n + agg.n > 0 THEN (days.pv + agg.pv)::float / (days.n + agg.n) "
        "  ELSE 0 END AS pages_per_session, "
        "  (SELECT coalesce(json_agg(entries ORDER BY entries.sessions DESC, entries.path), "
        "  '[]'::json) FROM entries) AS top_entry_pages FROM days, agg), "
        "page AS (SELECT * FROM ("
        "  (SELECT session_id, started_at, ended_at, events, page_views, distinct_id, entry_page "
        "  FROM inside t "
        "  WHERE %(cs)s::timestamptz IS NULL OR (t.started_at, t.session_id) < (%(cs)s, %(ci)s) "
        "  ORDER BY t.started_at DESC, t.session_id DESC LIMIT %(lim)s) "
        "  UNION ALL (SELECT session_id, started_at, ended_at, events, page_views, distinct_id, "
        "  entry_page FROM folded "
        "  WHERE %(cs)s::timestamptz IS NULL OR (started_at, session_id) < (%(cs)s, %(ci)s) "
        "  ORDER BY started_at DESC, session_id DESC LIMIT %(lim)s)) u "
        "  ORDER BY started_at DESC, session_id DESC LIMIT %(lim)s) "
        # The summary row joined to each listed session (or alone, when the page is empty).
        "SELECT * FROM summary LEFT JOIN page ON true "
        "ORDER BY page.started_at DESC, page.session_id DESC"
    )
    with connection() as conn:
        if not filtered:
            # Its reads are the edges' few thousand rows: two parallel workers cost ~10 ms to
            # start, which the planner spent on a scan for the sessions longer than a day
            # whose one-time filter then skipped it. (A filtered report reads raw events.)
            conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        else:
            # A filtered report groups a month's matching events by session (530,000 of 3.4M
            # for one country): at the default 4 MB the sort went to disk.
            conn.execute("SET LOCAL work_mem = '64MB'")
        rows = conn.execute(
            query,
            _args(
                project_id,
                split,
                lim_pages=limit_pages,
                lim=limit,
                cs=after[0] if after else None,
                ci=after[1] if after else None,
                **_day_bounds(split),
                **(match.args() if match else {}),
            ),
        ).fetchall()
    summary = {key: rows[0][key] for key in _SUMMARY}
    listed = [{key: r[key] for key in _LISTED} for r in rows if r["session_id"] is not None]
    return summary, listed


def session_pages(
    *, project_id: UUID, split: Split, which: str, limit: int, match: Match | None = None
) -> list[dict[str, Any]]:
    """Sessions by their entry or exit page (``which``: "entry_page" or "exit_page"), the path
    of their first or last page view in the range: the ``limit`` pages with most sessions (then
    by path), each with its sessions and their distinct users (a session's user is its latest
    ``distinct_id``, as in the list). Sessions without a page view in the range are left out.
    The sessions lying wholly inside the closed clean hours are their ``session_totals`` rows
    (by index only), the rest are folded as the sessions report folds them."""
    assert which in ("entry_page", "exit_page")
    filtered = bool(match and match.filtered)
    query = (
        _sessions(split, match.sql if match else "true", filtered=filtered)
        + f", listed AS (SELECT {which} AS value, distinct_id FROM inside "
        f"  UNION ALL SELECT {which}, distinct_id FROM folded), "
        # Two hash aggregates (per page and user, then per page) instead of a sort for the
        # count of distinct users per page.
        "users AS (SELECT value, distinct_id, count(*) AS n FROM listed "
        "  WHERE value IS NOT NULL GROUP BY 1, 2) "
        "SELECT value, sum(n)::bigint AS count, sum(n)::bigint AS unique_sessions, "
        "  count(distinct_id) AS unique_users FROM users "
        'GROUP BY value ORDER BY count DESC, value COLLATE "C" LIMIT %(lim)s'
    )
    with connection() as conn:
        # The (page, user) pairs of a month of sessions (~120,000 on 3.4M events) are hashed,
        # and a filtered report's events sorted by session, in memory; at the default 4 MB both
        # spilled to disk.
        conn.execute("SET LOCAL work_mem = '64MB'")
        return conn.execute(
            query,
            _args(
                project_id,
                split,
                lim=limit,
                **_day_bounds(split),
                **(match.args() if match else {}),
            ),
        ).fetchall()


def last_seen_since(*, project_id: UUID, since: datetime) -> dict[str, float]:
    """Each session's latest event time (epoch seconds) among the events timed from ``since``
    on (the visitors-now window, ``pulse.realtime.visitors``)."""
    rows = fetch_all(
        'SELECT session_id, max("timestamp") AS last FROM events WHERE project_id = %(p)s '
        'AND "timestamp" >= %(s)s AND session_id IS NOT NULL GROUP BY session_id',
        {"p": project_id, "s": since},
    )
    return {str(r["session_id"]): r["last"].timestamp() for r in rows}
