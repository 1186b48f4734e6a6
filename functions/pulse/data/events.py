"""SQL for the events aggregate: idempotent bulk writes and the rollup dirty marks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson
import psycopg
from psycopg import sql

from pulse.db.connection import connection
from pulse.exceptions import RefusedDataError

COLUMNS = (
    "project_id",
    "id",
    "event",
    "distinct_id",
    "properties",
    "session_id",
    "page_url",
    "referrer",
    "user_agent",
    "ip_hash",
    "timestamp",
    "received_at",
    "browser",
    "os",
    "device",
    "country",
)
_COLUMN_LIST = ", ".join(f'"{c}"' for c in COLUMNS)
# A replay of an event can carry a timestamp a little off the first copy's (the client's clock
# skew is measured again on each retry); look this far either side for an existing copy.
DEDUP_WINDOW = timedelta(hours=2)

# One event in COLUMNS order: ids and text as str, ``properties`` as JSON text, the two times as
# aware datetimes (positions 10 and 11), then what the visit is (browser, os, device, country).
# A row may leave those four off (a writer that does not know them): they are stored as null.
EventRow = tuple[Any, ...]
_VISIT_COLUMNS = 4
_NO_VISIT = (None,) * _VISIT_COLUMNS
COPY_CHUNK_ROWS = 500
_SPECIAL = re.compile(r"[\\\t\n\r]")
_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

_partitions_ready: set[str] = set()

# What the content of a row makes the database refuse: a value a column cannot hold (a NUL
# character in text or jsonb, …), a broken constraint, a row over a size limit (an index entry
# too large). A duplicate key is not one of them: it is the idempotency check.
_REFUSALS = (
    psycopg.errors.DataError,
    psycopg.errors.IntegrityError,
    psycopg.errors.ProgramLimitExceeded,
    psycopg.errors.StatementTooComplex,
)


@contextmanager
def _refusals() -> Iterator[None]:
    """Raise ``RefusedDataError`` for an error the rows' content caused (inside ``connection()``,
    which would make it a plain ``DataLayerError``)."""
    try:
        yield
    except psycopg.errors.UniqueViolation:
        raise
    except _REFUSALS as exc:
        raise RefusedDataError(
            f"the database refused a row: {type(exc).__name__} (SQLSTATE {exc.sqlstate})"
        ) from exc


def _months_between(lo: datetime, hi: datetime) -> set[str]:
    lo, hi = lo.astimezone(UTC), hi.astimezone(UTC)
    months, year, month = set(), lo.year, lo.month
    while (year, month) <= (hi.year, hi.month):
        months.add(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _ensure_partitions(conn: psycopg.Connection[Any], lo: datetime, hi: datetime) -> None:
    """Make the monthly partitions that rows timed from ``lo`` to ``hi`` need (known ones are
    remembered per process, so this is usually free).

    Called between transactions, it commits them and then remembers them: the other threads skip
    the call on the strength of what is remembered, so it must be there for them, and a rollback
    must not take away a partition the process believes in. Called inside a transaction, it makes
    them in that transaction and remembers nothing."""
    missing = _months_between(lo, hi) - _partitions_ready
    if not missing:
        return
    between = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    conn.execute("SELECT pulse_ensure_event_partitions(%s, %s)", (lo, hi + timedelta(seconds=1)))
    if between:
        conn.commit()
        _partitions_ready.update(missing)


def _partition_names(lo: datetime, hi: datetime) -> list[str]:
    """The monthly partitions holding ``lo`` to ``hi``, named as
    ``pulse_ensure_event_partitions`` names them (``events_YYYYMM``)."""
    return [f"events_{month.replace('-', '')}" for month in sorted(_months_between(lo, hi))]


def _stored_copies(
    conn: psycopg.Connection[Any], rows: Sequence[EventRow], *, per_month: int
) -> Iterator[tuple[str, list[EventRow], list[tuple[str, datetime]]]]:
    """Per project of the rows: the project, its rows, and up to ``per_month`` stored copies
    (id, timestamp) of each of their ids, in the months within ``DEDUP_WINDOW`` of their
    timestamps.

    Each month's partition is asked by name, one index probe per id on ``(project_id, id)``
    (``LATERAL … LIMIT`` keeps the planner to that shape). Left to choose, it reads every row
    the project has in the month (or in a time range) whenever its statistics have not seen the
    newest rows yet, which is always the case for a young or fast-growing project: 7–30 ms
    where the probes take 0.2 ms for 125 ids.
    """
    grouped: dict[str, list[EventRow]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    for project_id, group in grouped.items():
        lo = min(r[10] for r in group) - DEDUP_WINDOW
        hi = max(r[10] for r in group) + DEDUP_WINDOW
        _ensure_partitions(conn, lo, hi)
        query = sql.SQL(" UNION ALL ").join(
            sql.SQL(
                'SELECT i.id::text AS id, stored."timestamp" FROM unnest(%(ids)s::uuid[]) AS i(id) '
                'CROSS JOIN LATERAL (SELECT e."timestamp" FROM {} AS e '
                "WHERE e.project_id = %(project)s AND e.id = i.id LIMIT %(limit)s) AS stored"
            ).format(sql.Identifier(name))
            for name in _partition_names(lo, hi)
        )
        # The ids are checked canonical UUIDs: one array literal is far cheaper to send than a
        # list psycopg adapts item by item.
        ids = "{" + ",".join(str(r[1]) for r in group) + "}"
        cur = conn.execute(query, {"project": project_id, "ids": ids, "limit": per_month})
        yield project_id, group, [(r["id"], r["timestamp"]) for r in cur]


def _existing_ids(conn: psycopg.Connection[Any], rows: Sequence[EventRow]) -> set[tuple[str, str]]:
    """Which of the rows' (project_id, id) are stored already."""
    return {
        (project_id, event_id)
        for project_id, _, copies in _stored_copies(conn, rows, per_month=1)
        for event_id, _ in copies
    }


def _copied_twice(conn: psycopg.Connection[Any], rows: Sequence[EventRow]) -> list[EventRow]:
    """Those of the rows just written (in this transaction) that have an earlier copy stored
    at another timestamp: a retry whose timestamps moved."""
    twice: list[EventRow] = []
    for _, group, copies in _stored_copies(conn, rows, per_month=2):
        stored: dict[str, set[datetime]] = {}
        for event_id, ts in copies:
            stored.setdefault(event_id, set()).add(ts)
        twice.extend(r for r in group if stored.get(str(r[1]), set()) - {r[10]})
    return twice


def _delete_rows(conn: psycopg.Connection[Any], rows: Sequence[EventRow]) -> None:
    """Delete exactly these rows (by primary key), and their entries in the rollup queue."""
    keys = ([r[0] for r in rows], [r[10] for r in rows], [r[1] for r in rows])
    for table in ("events", "rollup_queue"):
        conn.execute(
            f'DELETE FROM {table} WHERE (project_id, "timestamp", id) IN '
            "(SELECT * FROM unnest(%s::uuid[], %s::timestamptz[], %s::uuid[]))",
            keys,
        )


def _text(value: Any) -> str:
    """One value in COPY's text format (the slow, general path)."""
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _full(row: EventRow) -> EventRow:
    """The row with all of COLUMNS (the visit's four as null when left off)."""
    return row if len(row) == len(COLUMNS) else (*row, *_NO_VISIT)


def _row_text(row: EventRow, received_text: str) -> str:
    # The common case first: ids are checked UUIDs, properties are orjson output (no raw tab,
    # newline or carriage return; a backslash only in JSON escapes), and most free text has
    # nothing COPY would misread; one search over all of it decides.
    (
        project_id,
        event_id,
        name,
        distinct_id,
        props,
        session_id,
        page_url,
        referrer,
        user_agent,
        ip_hash,
        ts,
        _,
        browser,
        os,
        device,
        country,
    ) = _full(row)
    free_text = (
        name,
        distinct_id,
        session_id,
        page_url,
        referrer,
        user_agent,
        ip_hash,
        browser,
        os,
        device,
    )
    if _SPECIAL.search("\x00".join(t for t in free_text if t)) is not None:
        return "\t".join(map(_text, _full(row))) + "\n"
    if "\\" in props:
        props = props.replace("\\", "\\\\")
    return (
        f"{project_id}\t{event_id}\t{name}\t{distinct_id or _NULL}\t{props}\t"
        f"{session_id or _NULL}\t{page_url or _NULL}\t{referrer or _NULL}\t"
        f"{user_agent or _NULL}\t{ip_hash or _NULL}\t{ts.isoformat()}\t{received_text}\t"
        f"{browser or _NULL}\t{os or _NULL}\t{device or _NULL}\t{country or _NULL}\n"
    )


def copy_text(rows: Sequence[EventRow]) -> str:
    """Rows as the text COPY reads them."""
    lines = []
    received_at, received_text = None, ""
    for row in rows:
        if row[11] is not received_at:  # the events of one record share it: format it once
            received_at = row[11]
            received_text = received_at.isoformat()
        lines.append(_row_text(row, received_text))
    return "".join(lines)


def _copy(
    conn: psycopg.Connection[Any],
    chunks: Iterable[Sequence[EventRow]],
    while_copying: Callable[[Sequence[EventRow]], None] | None = None,
) -> None:
    """COPY rows chunk by chunk, formatting each while the server parses the ones before it (on
    the other core; the socket takes a chunk without waiting). ``while_copying`` gets every row
    once all chunks are sent, while the server is still busy with them. A writer thread
    (``QueuedLibpqWriter``) measured slower: its start and hand-offs cost more than they hide."""
    copied: list[EventRow] = []
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY events ({_COLUMN_LIST}) FROM STDIN") as copy,
    ):
        for chunk in chunks:
            if chunk:
                copy.write(copy_text(chunk))
                copied.extend(chunk)
        if while_copying is not None and copied:
            while_copying(copied)


def _chunked(rows: Sequence[EventRow]) -> Iterator[Sequence[EventRow]]:
    for start in range(0, len(rows), COPY_CHUNK_ROWS):
        yield rows[start : start + COPY_CHUNK_ROWS]


def _insert_skipping_conflicts(conn: psycopg.Connection[Any], rows: Sequence[EventRow]) -> None:
    placeholders = (
        "%s::uuid, %s::uuid, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s"
    )
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO events ({_COLUMN_LIST}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
            [_full(row) for row in rows],
        )


def _mark_dirty(conn: psycopg.Connection[Any], hours: Iterable[tuple[str, datetime]]) -> None:
    pairs = sorted(set(hours))
    if not pairs:
        return
    conn.execute(
        "INSERT INTO rollup_dirty_hours (project_id, hour) "
        "SELECT * FROM unnest(%s::uuid[], %s::timestamptz[]) "
        "ON CONFLICT (project_id, hour) DO UPDATE"
        " SET marked_at = now(), version = nextval('rollup_dirty_version')",
        ([p for p, _ in pairs], [h for _, h in pairs]),
    )


def _hour_numbers(rows: Iterable[EventRow]) -> set[tuple[str, int]]:
    """(project_id, hours since the epoch) of each row: integer arithmetic, as this runs for
    every row written (``datetime.replace`` costs three times as much)."""
    return {(r[0], int(r[10].timestamp()) // 3600) for r in rows}


def _hours(numbers: Iterable[tuple[str, int]]) -> set[tuple[str, datetime]]:
    return {(p, datetime.fromtimestamp(h * 3600, UTC)) for p, h in numbers}


def _unique(rows: Iterable[EventRow], seen: dict[tuple[str, str], EventRow]) -> list[EventRow]:
    """The rows whose (project_id, id) is not in ``seen`` yet (added to it as they pass)."""
    out = []
    for row in rows:
        key = (row[0], row[1])
        if key not in seen:
            seen[key] = row
            out.append(row)
    return out


def _deleted_projects(conn: psycopg.Connection[Any], rows: Sequence[EventRow]) -> set[str]:
    """The projects of ``rows`` that no longer exist, whose rows this transaction has just
    written and now deletes again: events still in the stream when their project was deleted
    must not outlive it.

    The projects that do exist are locked (``FOR SHARE``) until the commit, so a deletion
    running at the same time either commits first (and the project is gone here) or waits for
    this commit and then deletes these rows with the rest of the project's events.
    """
    projects = sorted({r[0] for r in rows})
    if not projects:
        return set()
    alive = {
        str(r["id"])
        for r in conn.execute(
            "SELECT id FROM projects WHERE id = ANY(%s::uuid[]) ORDER BY id FOR SHARE",
            (projects,),
        ).fetchall()
    }
    gone = set(projects) - alive
    if gone:
        for table in ("events", "rollup_queue"):
            conn.execute(f"DELETE FROM {table} WHERE project_id = ANY(%s::uuid[])", (sorted(gone),))
    return gone


def _write_checked(
    conn: psycopg.Connection[Any],
    rows: Sequence[EventRow],
    while_copying: Callable[[Sequence[EventRow]], None] | None,
) -> list[EventRow]:
    """Look every row's id up and write those not stored yet (the careful path)."""
    candidates = _unique(rows, {})
    if not candidates:
        return []
    _ensure_partitions(conn, min(r[10] for r in candidates), max(r[10] for r in candidates))
    existing = _existing_ids(conn, candidates)
    fresh = [r for r in candidates if (r[0], r[1]) not in existing]
    if fresh:
        try:
            with conn.transaction():
                _copy(conn, _chunked(fresh), while_copying)
        except psycopg.errors.UniqueViolation:
            # A copy with the very same timestamp arrived concurrently: go row by row.
            _insert_skipping_conflicts(conn, fresh)
        gone = _deleted_projects(conn, fresh)
        fresh = [r for r in fresh if r[0] not in gone]
        _mark_dirty(conn, _hours(_hour_numbers(fresh)))
    return fresh


def write_events(
    rows: Sequence[EventRow],
    *,
    while_copying: Callable[[Sequence[EventRow]], None] | None = None,
) -> list[EventRow]:
    """Write the rows that are not stored yet, in one transaction; returns the rows written.

    Idempotent on (project_id, id): duplicates inside ``rows`` and rows already stored (by an
    earlier delivery of the same record, or a client retry) are skipped. ``while_copying`` gets
    the rows being written while the server is still taking them in (CPU work done there costs
    no time); it is not called when the write has to fall back to row-by-row inserts. Raises
    ``RefusedDataError`` when the database refuses a row's content (nothing is written then).
    """
    with connection() as conn, _refusals():
        return _write_checked(conn, rows, while_copying)


# The months a fresh batch's rows fall in: the ingest function accepts timestamps up to 31 days
# back and 1 hour ahead; a row outside these makes the COPY fail and the careful path run.
_STREAM_PAST = timedelta(days=32)
_STREAM_AHEAD = timedelta(hours=2)


def stream_events(
    chunks: Iterable[tuple[Sequence[EventRow], Sequence[EventRow]]],
    *,
    while_copying: Callable[[Sequence[EventRow]], None] | None = None,
) -> list[EventRow]:
    """Write a batch arriving in chunks, in one transaction; returns the rows written.

    Each chunk is ``(trusted, to_check)``, and all of it goes straight into a ``COPY`` that is
    already running while the caller decodes the next chunk. Trusted rows are the same, byte for
    byte, in every delivery of their event (Kinesis redeliveries, a client retry with the same
    timestamps), so the primary key is their duplicate check. The rows to check may be a retry
    whose timestamps moved, which the key cannot see: after the ``COPY`` they are looked up by
    id, and those with an earlier copy stored at another timestamp are deleted again, before the
    commit. If the primary key turns a row down (a redelivery), or a row has no partition, the
    whole batch is written again the careful way (``write_events``). ``while_copying`` gets the
    rows while the server is still taking them in. Raises ``RefusedDataError`` when the database
    refuses a row's content (nothing is written then).
    """
    seen: dict[tuple[str, str], EventRow] = {}
    to_check: list[EventRow] = []
    hours: set[tuple[str, int]] = set()
    chunks = iter(chunks)

    def new_rows() -> Iterator[list[EventRow]]:
        for trusted, check in chunks:
            fresh = _unique(trusted, seen)
            checked = _unique(check, seen)
            to_check.extend(checked)
            hours.update(_hour_numbers(fresh + checked))
            yield fresh + checked

    now = datetime.now(UTC)
    with connection() as conn, _refusals():
        _ensure_partitions(conn, now - _STREAM_PAST, now + _STREAM_AHEAD)
        try:
            with conn.transaction():
                _copy(conn, new_rows(), while_copying)
                written = list(seen.values())
                if to_check:
                    twice = _copied_twice(conn, to_check)
                    if twice:
                        _delete_rows(conn, twice)
                        dropped = {(r[0], r[1]) for r in twice}
                        written = [r for r in written if (r[0], r[1]) not in dropped]
                gone = _deleted_projects(conn, written)
                if gone:
                    written = [r for r in written if r[0] not in gone]
                    hours = {h for h in hours if h[0] not in gone}
                _mark_dirty(conn, _hours(hours))
            return written
        except (psycopg.errors.UniqueViolation, psycopg.errors.CheckViolation):
            rows = list(seen.values())
            for trusted, check in chunks:  # whatever was not read before the failure
                rows.extend(trusted)
                rows.extend(check)
            return _write_checked(conn, rows, while_copying)


class Written(NamedTuple):
    """A freshly written event, as the live feed, counters and fan-out need it."""

    project_id: str
    hour: str  # "YYYY-MM-DDTHH:00:00Z", UTC
    event: str
    session_id: str | None
    row: EventRow

    @property
    def feed(self) -> str:
        """The feed item, JSON text (see ``feed_item_json``), built when someone needs it."""
        return feed_item_json(self.row)


def feed_item_json(row: EventRow) -> str:
    """One row as the live feed shows it, as JSON text: ``{"uuid", "event", "properties",
    "distinct_id", "session_id", "page_url", "timestamp"}``. Built from the row's properties
    JSON text as it is, without parsing it again (this runs for every event written)."""
    dumps = orjson.dumps
    return (
        f'{{"uuid":"{row[1]}","event":{dumps(row[2]).decode()},"properties":{row[4]},'
        f'"distinct_id":{dumps(row[3]).decode()},"session_id":{dumps(row[5]).decode()},'
        f'"page_url":{dumps(row[6]).decode()},"timestamp":"{row[10].isoformat()}"}}'
    )


def written_items(rows: Sequence[EventRow]) -> list[Written]:
    """Rows as ``Written`` items, oldest first within each project."""
    labels: dict[int, str] = {}
    out = []
    for row in sorted(rows, key=_project_then_time):
        hour = int(row[10].timestamp()) // 3600
        label = labels.get(hour)
        if label is None:
            label = labels[hour] = datetime.fromtimestamp(hour * 3600, UTC).strftime(
                "%Y-%m-%dT%H:00:00Z"
            )
        out.append(Written(str(row[0]), label, row[2], row[5], row))
    return out


def _project_then_time(row: EventRow) -> tuple[str, datetime]:
    return str(row[0]), row[10]


class HourCounts(NamedTuple):
    """What the live counters of one project's hour are made of, as stored."""

    by_event: dict[str, int]
    session_ids: list[str]


def hour_counts(*, project_id: str, hour: datetime) -> HourCounts:
    """The events of the hour starting at ``hour``, counted by name, and its session ids."""
    with connection() as conn:
        rows = conn.execute(
            "SELECT event, count(*) AS n FROM events WHERE project_id = %(p)s"
            ' AND "timestamp" >= %(start)s AND "timestamp" < %(end)s GROUP BY event',
            {"p": project_id, "start": hour, "end": hour + timedelta(hours=1)},
        ).fetchall()
        sessions = conn.execute(
            "SELECT DISTINCT session_id FROM events WHERE project_id = %(p)s"
            ' AND "timestamp" >= %(start)s AND "timestamp" < %(end)s AND session_id IS NOT NULL',
            {"p": project_id, "start": hour, "end": hour + timedelta(hours=1)},
        ).fetchall()
    return HourCounts(
        {str(r["event"]): int(r["n"]) for r in rows},  # type: ignore[call-overload]
        [str(r["session_id"]) for r in sessions],
    )
