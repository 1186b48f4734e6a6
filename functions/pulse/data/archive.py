"""SQL for the archive aggregate: which days are archived, which wait, which files are orphans,
and the events' columns as the archive keeps them (pulse.archive)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

from pulse.data.dimensions import ROLLED
from pulse.db.connection import connection

# An archived event: (column, SQL over the event ``e``, DuckDB type). The time in microseconds
# since the epoch; the session and the user as the 64-bit hashes the reports count distinct
# values by (``bucket_stats``); every page-view dimension worked out by Postgres, as the reports
# and the rollup queue work it out; the properties as text by key (what ``->>`` gives, as a JSON
# object of strings), kept as a MAP(VARCHAR, VARCHAR).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("ts", '(extract(epoch FROM e."timestamp") * 1000000)::bigint', "BIGINT"),
    ("event", "e.event", "VARCHAR"),
    ("sh", "hashtextextended(e.session_id, 0)", "BIGINT"),
    ("uh", "hashtextextended(e.distinct_id, 0)", "BIGINT"),
    *((d.name, d.expr, "VARCHAR") for d in ROLLED),
    (
        "props",
        "(SELECT jsonb_object_agg(x.k, x.v) FROM jsonb_each_text(e.properties) AS x(k, v))",
        "VARCHAR",
    ),
)
NAMES = tuple(name for name, _, _ in COLUMNS)
COLUMN_SQL = {name: expr for name, expr, _ in COLUMNS}


def chosen(columns: Sequence[str] | None) -> list[tuple[str, str, str]]:
    """The COLUMNS named (all when None), in COLUMNS' order."""
    if columns is None:
        return list(COLUMNS)
    unknown = set(columns) - set(NAMES)
    if unknown:
        raise ValueError(f"no archived column {sorted(unknown)}")
    return [c for c in COLUMNS if c[0] in columns]


def columns_sql(columns: Sequence[str] | None) -> str:
    return ", ".join(f"{sql} AS {name}" for name, sql, _ in chosen(columns))


def copy_events(
    conn: psycopg.Connection[Any],
    *,
    project_id: UUID,
    ranges: Sequence[tuple[datetime, datetime]],
    where: str = "true",
    args: dict[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    value: str | None = None,
) -> Iterator[bytes]:
    """The project's events in ``ranges`` (which do not overlap) that match ``where``, oldest
    first, as CSV of ``columns`` (names of COLUMNS, in its order; all by default) and, last,
    ``value`` (SQL over the event ``e``) when given: every value quoted, NULL as nothing."""
    wanted = columns_sql(columns) + (f", {value} AS v" if value is not None else "")
    params: dict[str, Any] = {**(args or {}), "p": project_id}
    terms = []
    for i, (a, b) in enumerate(ranges):
        params[f"ra{i}"], params[f"rb{i}"] = a, b
        terms.append(f'(e."timestamp" >= %(ra{i})s AND e."timestamp" < %(rb{i})s)')
    params["lo"], params["hi"] = min(a for a, _ in ranges), max(b for _, b in ranges)
    statement = (
        f"COPY (SELECT {wanted} FROM events e WHERE e.project_id = %(p)s "
        'AND e."timestamp" >= %(lo)s AND e."timestamp" < %(hi)s '
        f"AND ({' OR '.join(terms)}) AND {where} "
        'ORDER BY e."timestamp") TO STDOUT (FORMAT csv, FORCE_QUOTE *)'
    )
    with conn.cursor().copy(statement, params) as copy:
        yield from (bytes(chunk) for chunk in copy)


def _clean(project: str, day: str) -> str:
    """SQL true when no hour of the UTC ``day`` (a date) of ``project`` is dirty: everything in
    it is rolled up (``project`` and ``day``: SQL over the caller's row or parameters)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM rollup_dirty_hours d WHERE d.project_id = {project} "
        f"AND d.hour >= {day}::timestamp AT TIME ZONE 'UTC' "
        f"AND d.hour < ({day} + 1)::timestamp AT TIME ZONE 'UTC')"
    )


@dataclass(frozen=True)
class ArchivedDay:
    day: date
    object: str
    prop_columns: tuple[str, ...] = ()  # the properties kept as columns p0, p1, …


def readable_days(
    conn: psycopg.Connection[Any], *, project_id: UUID, first: date, last: date
) -> list[ArchivedDay]:
    """The archived days from ``first`` to ``last`` (inclusive) that a report may read: none of
    their hours is dirty (a late event, a rebuild), so their file holds all their events."""
    rows = conn.execute(
        "SELECT a.day, a.object, a.prop_columns FROM archived_days a WHERE a.project_id = %(p)s "
        f"AND a.day >= %(first)s AND a.day <= %(last)s AND {_clean('a.project_id', 'a.day')} "
        "ORDER BY a.day",
        {"p": project_id, "first": first, "last": last},
    ).fetchall()
    return [ArchivedDay(r["day"], r["object"], tuple(r["prop_columns"])) for r in rows]


def touched(conn: psycopg.Connection[Any], *, project_id: UUID, days: Sequence[date]) -> None:
    """The rollup added events to these days: their files are stale, and they wait to be
    archived again (in the rollup's transaction, with the marks it clears)."""
    conn.execute(
        "DELETE FROM archived_days WHERE project_id = %(p)s AND day = ANY(%(d)s::date[])",
        {"p": project_id, "d": list(days)},
    )
    conn.execute(
        "INSERT INTO archive_pending (project_id, day) SELECT %(p)s, d "
        "FROM unnest(%(d)s::date[]) AS d WHERE EXISTS (SELECT 1 FROM projects WHERE id = %(p)s) "
        "ON CONFLICT DO NOTHING",
        {"p": project_id, "d": list(days)},
    )


def ready_days(*, before: date, limit: int) -> list[tuple[UUID, date]]:
    """Pending days before ``before`` with no dirty hour (everything in them rolled up), oldest
    first."""
    with connection() as conn:
        rows = conn.execute(
            "SELECT w.project_id, w.day FROM archive_pending w WHERE w.day < %(b)s "
            f"AND {_clean('w.project_id', 'w.day')} ORDER BY w.day, w.project_id LIMIT %(n)s",
            {"b": before, "n": limit},
        ).fetchall()
    return [(r["project_id"], r["day"]) for r in rows]  # type: ignore[misc]


def day_is_clean(conn: psycopg.Connection[Any], *, project_id: UUID, day: date) -> bool:
    row = conn.execute(
        f"SELECT {_clean('%(p)s', '%(d)s::date')} AS clean",
        {"p": project_id, "d": day},
    ).fetchone()
    return bool(row and row["clean"])


def record_day(
    conn: psycopg.Connection[Any],
    *,
    project_id: UUID,
    day: date,
    object_key: str | None,
    events: int,
    size: int,
    prop_columns: Sequence[str] = (),
) -> None:
    """The day is archived as ``object_key`` (None: it has no events, nothing to read); it no
    longer waits. A file it replaces becomes an orphan (trigger of migration 0017)."""
    if object_key is None:
        conn.execute(
            "DELETE FROM archived_days WHERE project_id = %(p)s AND day = %(d)s",
            {"p": project_id, "d": day},
        )
    else:
        conn.execute(
            "INSERT INTO archived_days (project_id, day, object, events, bytes, prop_columns) "
            "VALUES (%(p)s, %(d)s, %(o)s, %(n)s, %(b)s, %(c)s) "
            "ON CONFLICT (project_id, day) DO UPDATE SET object = excluded.object, "
            "events = excluded.events, bytes = excluded.bytes, "
            "prop_columns = excluded.prop_columns, written_at = now()",
            {
                "p": project_id,
                "d": day,
                "o": object_key,
                "n": events,
                "b": size,
                "c": list(prop_columns),
            },
        )
    conn.execute(
        "DELETE FROM archive_pending WHERE project_id = %(p)s AND day = %(d)s",
        {"p": project_id, "d": day},
    )


def old_orphans(*, grace: timedelta, limit: int) -> list[str]:
    """Files no row has named for ``grace`` (by the database's clock, which wrote the time)."""
    with connection() as conn:
        rows = conn.execute(
            "SELECT object FROM archive_orphans WHERE orphaned_at < now() - %s "
            "ORDER BY orphaned_at LIMIT %s",
            (grace, limit),
        ).fetchall()
    return [str(r["object"]) for r in rows]


def forget_orphans(objects: Sequence[str]) -> None:
    with connection() as conn:
        conn.execute("DELETE FROM archive_orphans WHERE object = ANY(%s)", (list(objects),))


def all_objects() -> list[str]:
    with connection() as conn:
        rows = conn.execute("SELECT object FROM archived_days").fetchall()
    return [str(r["object"]) for r in rows]


def forget_objects(objects: Sequence[str]) -> None:
    """These files are gone: their days are read from Postgres and wait to be written again."""
    with connection() as conn:
        conn.execute(
            "INSERT INTO archive_pending (project_id, day) SELECT project_id, day "
            "FROM archived_days WHERE object = ANY(%(o)s) ON CONFLICT DO NOTHING",
            {"o": list(objects)},
        )
        conn.execute("DELETE FROM archived_days WHERE object = ANY(%(o)s)", {"o": list(objects)})
