"""Reports that read every matching event of their range (filtered reports, property and
filtered breakdowns, funnels) read the archived days of the range from their Parquet files with
DuckDB, and only the rest (today, days not archived yet, days with late events) from the events
table; both halves meet in DuckDB, which counts them as one set of events.

Every function returns None when no archived day overlaps the range, or a file cannot be read:
the caller then reads Postgres alone, as it does without an archive. The list of archived days
and the events read from Postgres come from the caller's snapshot (``connection()``), so the two
halves are of one moment. Distinct sessions and users are counted by the 64-bit hashes of their
ids (``hashtextextended``), as ``bucket_stats`` counts them."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import psycopg

from pulse.archive.store import get_store
from pulse.data import archive as sql
from pulse.data.dimensions import EVERY_EVENT, PROPERTY_PREFIX, QUEUE_COLUMNS, Match
from pulse.observability import logger

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY = timedelta(days=1)

Interval = tuple[int, datetime, datetime]  # (bucket index, start, end)


def _micros(span: timedelta) -> int:
    return span // timedelta(microseconds=1)


def _us(t: datetime) -> int:
    """A time as the archive keeps it: microseconds since the epoch."""
    return _micros(t - _EPOCH)


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


@dataclass(frozen=True)
class File:
    path: Path  # a local copy
    prop_columns: tuple[str, ...]  # the properties it also has as columns p0, p1, …


@dataclass(frozen=True)
class Sources:
    # The archived days' files: those lying wholly in one interval, by its index (their events
    # need no look at their time), and the others.
    whole: dict[int, list[File]]
    cut: list[File]
    raw: list[tuple[datetime, datetime]]  # the rest of the intervals: read from Postgres


def _sources(
    conn: psycopg.Connection[Any], project_id: UUID, ivs: Sequence[Interval]
) -> Sources | None:
    store = get_store()
    ivs = [iv for iv in ivs if iv[1] < iv[2]]
    if store is None or not ivs:
        return None
    first = min(a for _, a, _ in ivs).astimezone(UTC).date()
    last = (max(b for _, _, b in ivs) - timedelta(microseconds=1)).astimezone(UTC).date()
    days = sql.readable_days(conn, project_id=project_id, first=first, last=last)
    if not days:
        return None
    archived = {d.day for d in days}
    raw: list[tuple[datetime, datetime]] = []
    for _, a, b in sorted(ivs, key=lambda iv: iv[1]):
        t = a
        while t < b:
            day = t.astimezone(UTC).date()
            piece_end = min(b, _midnight(day) + _DAY)
            if day not in archived:
                if raw and raw[-1][1] >= t:
                    raw[-1] = (raw[-1][0], max(raw[-1][1], piece_end))
                else:
                    raw.append((t, piece_end))
            t = piece_end
    whole: dict[int, list[File]] = {}
    cut: list[File] = []
    for d in days:
        lo, hi = _midnight(d.day), _midnight(d.day) + _DAY
        meets = [(i, a, b) for i, a, b in ivs if a < hi and b > lo]
        if not meets:
            continue
        file = File(store.local_path(d.object), d.prop_columns)
        if len(meets) == 1 and meets[0][1] <= lo and meets[0][2] >= hi:
            whole.setdefault(meets[0][0], []).append(file)
        else:
            cut.append(file)
    if not whole and not cut:
        return None
    return Sources(whole, cut, raw)


# A value an event is broken down by: a column of the archive, or a property.
Value = tuple[Literal["column", "prop"], str]


def _prop(key: str, prop_columns: Sequence[str]) -> tuple[str, list[Any]]:
    """A property's value in a file: its own column when the file has one, else the map's."""
    if key in prop_columns:
        return f"ev.p{list(prop_columns).index(key)}", []
    return "ev.props[?]", [key]


def _duck_match(match: Match, prop_columns: Sequence[str]) -> tuple[str, list[Any]]:
    """The filters as DuckDB SQL over an archived event of a file with these property
    columns, and its parameters."""
    terms: list[str] = []
    params: list[Any] = []
    for field, value in match.terms:
        if field.startswith(PROPERTY_PREFIX):
            expr, more = _prop(field[len(PROPERTY_PREFIX) :], prop_columns)
            terms.append(f"{expr} = ?")
            params += [*more, value]
        else:
            if field != "event" and field not in QUEUE_COLUMNS:
                raise ValueError(f"no archived column for the filter {field!r}")
            terms.append(f'ev."{field}" = ?')
            params.append(value)
    return " AND ".join(terms) or "true", params


def _layouts(files: Sequence[File], keys: Sequence[str]) -> dict[tuple[int, ...], list[File]]:
    """The files grouped by where they keep ``keys`` (the column of each, or -1: the map)."""
    groups: dict[tuple[int, ...], list[File]] = {}
    for f in files:
        at = tuple(f.prop_columns.index(k) if k in f.prop_columns else -1 for k in keys)
        groups.setdefault(at, []).append(f)
    return groups


@contextmanager
def _events(
    conn: psycopg.Connection[Any],
    project_id: UUID,
    ivs: Sequence[Interval],
    match: Match,
    columns: Sequence[str],
    *,
    pg_where: str = "true",
    duck_where: str = "true",
    args: dict[str, Any] | None = None,
    duck_params: Sequence[Any] = (),
    value: Value | None = None,
) -> Iterator[tuple[str, list[Any]] | None]:
    """``WITH x AS (…)``: the ``columns`` (names of ``pulse.data.archive.COLUMNS``) and the
    interval's ``idx`` of the events of the intervals that match ``match`` and the extra
    conditions (``pg_where`` over an event ``e`` for Postgres, ``duck_where`` over an archived
    event ``ev`` for DuckDB); and its parameters. None: read Postgres alone. Only the columns
    asked for are read, from the files and from Postgres. ``value``: one more column ``v``, a
    column's or a property's value, worked out where the event is read (Postgres sends the
    value, not the properties; a file gives its column for the property if it has one)."""
    from pulse.archive import duck

    src = _sources(conn, project_id, ivs)
    if src is None:
        yield None
        return
    wanted = [c for c in sql.NAMES if c in columns]
    with_ts = ["ts", *(c for c in wanted if c != "ts")]
    file_cols = ", ".join(f"ev.{c}" for c in wanted)
    cols = file_cols + (", ev.v" if value else "")
    keys = [f[len(PROPERTY_PREFIX) :] for f, _ in match.terms if f.startswith(PROPERTY_PREFIX)]
    if value is not None and value[0] == "prop":
        keys.append(value[1])
    pg_args = {**match.args(), **(args or {})}
    pg_value = None
    if value is not None:
        if value[0] == "prop":
            pg_value, pg_args["archive_vk"] = "e.properties->>%(archive_vk)s", value[1]
        else:
            pg_value = sql.COLUMN_SQL[value[1]]
    values = ", ".join(f"({i}, {_us(a)}, {_us(b)})" for i, a, b in ivs if a < b)

    def read(files: Sequence[File], lead: str, join: str) -> list[tuple[str, list[Any]]]:
        out = []
        for _, group in sorted(_layouts(files, keys).items()):
            layout = group[0].prop_columns
            where, params = _duck_match(match, layout)
            value_sql, value_params = "", list[Any]()
            if value is not None:
                expr, value_params = (
                    _prop(value[1], layout) if value[0] == "prop" else (f'ev."{value[1]}"', [])
                )
                value_sql = f", {expr} AS v"
            out.append(
                (
                    f"SELECT {lead}, {file_cols}{value_sql} "
                    f"FROM ({duck.parquet_rows([f.path for f in group])}) ev {join}"
                    f"WHERE ({where}) AND ({duck_where})",
                    [*value_params, *params, *duck_params],
                )
            )
        return out

    with tempfile.TemporaryDirectory(prefix="pulse-report-") as tmp:
        parts: list[tuple[str, list[Any]]] = []
        for idx, files in sorted(src.whole.items()):
            parts += read(files, f"{idx} AS idx", "")
        if src.cut:
            parts += read(src.cut, "iv.idx", "JOIN iv ON ev.ts >= iv.a AND ev.ts < iv.b ")
        if src.raw:
            csv_path = Path(tmp) / "raw.csv"
            with csv_path.open("wb") as out:
                for chunk in sql.copy_events(
                    conn,
                    project_id=project_id,
                    ranges=src.raw,
                    where=f"{match.sql} AND {pg_where}",
                    args=pg_args,
                    columns=with_ts,
                    value=pg_value,
                ):
                    out.write(chunk)
            if csv_path.stat().st_size:
                parts.append(
                    (
                        f"SELECT iv.idx, {cols} "
                        f"FROM ({duck.csv_rows(csv_path, with_ts, value=value is not None)}) ev "
                        "JOIN iv ON ev.ts >= iv.a AND ev.ts < iv.b",
                        [],
                    )
                )
        yield (
            f"WITH iv(idx, a, b) AS (VALUES {values}), "
            f"x AS ({' UNION ALL '.join(q for q, _ in parts)}) ",
            [p for _, ps in parts for p in ps],
        )


def _run(query: str, params: list[Any]) -> list[tuple[Any, ...]] | None:
    import duckdb

    from pulse.archive import duck

    try:
        return duck.cursor().execute(query, params).fetchall()
    except duckdb.IOException:
        logger.warning("an archive file could not be read; reading Postgres", exc_info=True)
        return None


def bucket_stats(
    conn: psycopg.Connection[Any],
    *,
    project_id: UUID,
    ivs: Sequence[Interval],
    buckets: int,
    event: str | None,
    match: Match,
    with_top: bool,
) -> list[dict[str, Any]] | None:
    """What ``pulse.data.analytics.bucket_stats`` gives for a filtered report."""
    with _events(
        conn,
        project_id,
        ivs,
        match,
        ["event", "sh", "uh"],
        pg_where="(%(ae)s::text IS NULL OR e.event = %(ae)s)",
        args={"ae": event},
        duck_where="true" if event is None else "event = ?",
        duck_params=[] if event is None else [event],
    ) as read:
        if read is None:
            return None
        with_x, params = read
        by_event = " UNION ALL SELECT idx, event, count(*), 0, 0 FROM x GROUP BY idx, event"
        rows = _run(
            with_x + "SELECT idx, NULL AS event, count(*), count(DISTINCT sh), count(DISTINCT uh) "
            "FROM x GROUP BY idx" + (by_event if with_top else ""),
            params,
        )
    if rows is None:
        return None
    out: list[dict[str, Any]] = [{"count": 0, "s": 0, "u": 0} for _ in range(buckets)]
    counts: list[dict[str, int]] = [{} for _ in range(buckets)]
    for idx, name, n, s, u in rows:
        if name is None:
            out[idx].update(count=int(n), s=int(s), u=int(u))
        else:
            counts[idx][name] = int(n)
    if with_top:
        for o, c in zip(out, counts, strict=True):
            best = min(c.items(), key=lambda kv: (-kv[1], kv[0]), default=None)
            o["top"] = best if best and best[1] > 0 else None
    return out


def top_events(
    conn: psycopg.Connection[Any],
    *,
    project_id: UUID,
    ivs: Sequence[Interval],
    limit: int,
    match: Match,
) -> list[dict[str, Any]] | None:
    """What ``pulse.data.analytics.top_events`` gives for a filtered report."""
    with _events(conn, project_id, ivs, match, ["event", "uh"]) as read:
        if read is None:
            return None
        with_x, params = read
        rows = _run(
            with_x + "SELECT event, count(*) AS n, count(DISTINCT uh) FROM x GROUP BY event "
            "ORDER BY n DESC, event LIMIT ?",
            [*params, limit],
        )
    if rows is None:
        return None
    return [{"name": n, "count": int(c), "unique_users": int(u)} for n, c, u in rows]


def breakdown(
    conn: psycopg.Connection[Any],
    *,
    project_id: UUID,
    ivs: Sequence[Interval],
    column: str | None,
    prop: str | None,
    page_views_only: bool,
    limit: int,
    match: Match,
) -> list[dict[str, Any]] | None:
    """What ``pulse.data.analytics._raw_breakdown`` gives: the values of a page-view dimension
    (``column``) or of the property ``prop``, counted most (then by value), with their exact
    unique sessions and users."""
    where = "event = 'page_view'" if page_views_only else "true"
    pg_where = "e.event = 'page_view'" if page_views_only else "true"
    if prop is not None:
        pg_where += " AND e.properties->>%(ak)s IS NOT NULL"
    with _events(
        conn,
        project_id,
        ivs,
        match,
        ["sh", "uh"],
        pg_where=pg_where,
        args={"ak": prop},
        duck_where=where,
        value=("column", column) if column is not None else ("prop", str(prop)),
    ) as read:
        if read is None:
            return None
        with_x, params = read
        rows = _run(
            with_x + "SELECT v, count(*) AS n, count(DISTINCT sh), count(DISTINCT uh) FROM "
            "x WHERE v IS NOT NULL GROUP BY v "
            "ORDER BY n DESC, v LIMIT ?",
            [*params, limit],
        )
    if rows is None:
        return None
    return [
        {"value": v, "count": int(n), "unique_sessions": int(s), "unique_users": int(u)}
        for v, n, s, u in rows
    ]


def funnel_counts(
    conn: psycopg.Connection[Any],
    *,
    project_id: UUID,
    start: datetime,
    end: datetime,
    steps: Sequence[tuple[str, str | None, tuple[str, str] | None]],
    pg_matches: Sequence[str],
    pg_args: dict[str, Any],
    window: timedelta,
    by_user: bool,
) -> list[tuple[int, float | None]] | None:
    """What ``pulse.data.funnels.funnel_counts`` gives, the same way: ``steps`` are (event,
    page or None, (property, value) or None), ``pg_matches`` the same as SQL over an event ``e``
    with their parameters in ``pg_args``. The actor is the session's or the user's hash."""
    duck_matches: list[str] = []
    duck_params: list[Any] = []
    for event, page, prop in steps:
        terms, params = ["event = ?"], [event]
        if page is not None:
            terms.append("page = ?")
            params.append(page)
        if prop is not None:
            terms.append("props[?] = ?")
            params += list(prop)
        duck_matches.append("(" + " AND ".join(terms) + ")")
        duck_params.append(params)
    actor = "uh" if by_user else "sh"
    with _events(
        conn,
        project_id,
        [(0, start, end)],
        EVERY_EVENT,
        [
            "ts",
            "event",
            actor,
            *(["page"] if any(page is not None for _, page, _ in steps) else []),
            *(["props"] if any(prop is not None for _, _, prop in steps) else []),
        ],
        pg_where=f"e.{'distinct_id' if by_user else 'session_id'} IS NOT NULL "
        f"AND ({' OR '.join(pg_matches)})",
        args=pg_args,
        duck_where=f"{actor} IS NOT NULL AND ({' OR '.join(duck_matches)})",
        duck_params=[p for ps in duck_params for p in ps],
    ) as read:
        if read is None:
            return None
        with_x, params = read
        flags = ", ".join(f"{m} AS s{k}" for k, m in enumerate(duck_matches))
        ctes = [
            f"m AS MATERIALIZED (SELECT {actor} AS a, ts AS t, {flags} FROM x)",
            "f0 AS (SELECT a, min(t) AS t1, min(t) AS t, NULL::DOUBLE AS d FROM m WHERE s0 "
            "GROUP BY a)",
        ]
        for k in range(1, len(steps)):
            ctes.append(
                f"f{k} AS (SELECT a, t1, t, (t - tp) / 1000000.0 AS d FROM ("
                f" SELECT f.a, f.t1, f.t AS tp, min(m.t) AS t FROM f{k - 1} f"
                f" JOIN m ON m.a = f.a AND m.s{k} AND m.t > f.t AND m.t <= f.t1 + {_micros(window)}"
                " GROUP BY f.a, f.t1, f.t))"
            )
        selects = " UNION ALL ".join(
            f"SELECT {k} AS k, count(*) AS n, quantile_cont(d, 0.5) AS median FROM f{k}"
            for k in range(len(steps))
        )
        rows = _run(
            with_x + ", " + ", ".join(ctes) + " " + selects,
            [*params, *(p for ps in duck_params for p in ps)],
        )
    if rows is None:
        return None
    got = {int(k): (int(n), None if median is None else float(median)) for k, n, median in rows}
    return [got[k] for k in range(len(steps))]
