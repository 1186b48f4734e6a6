"""SQL for the events aggregate: idempotent bulk writes and the rollup dirty marks."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

from pulse.db.connection import connection

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
)
_COLUMN_LIST = ", ".join(f'"{c}"' for c in COLUMNS)
# A replay of an event can carry a timestamp a little off the first copy's (the client's clock
# skew is measured again on each retry); look this far either side for an existing copy.
DEDUP_WINDOW = timedelta(hours=2)

EventRow = tuple[Any, ...]  # in COLUMNS order

_partitions_ready: set[str] = set()


def _months(rows: Sequence[EventRow]) -> set[str]:
    return {row[10].strftime("%Y-%m") for row in rows}


def _ensure_partitions(conn: psycopg.Connection[Any], rows: Sequence[EventRow]) -> None:
    missing = _months(rows) - _partitions_ready
    if not missing:
        return
    lo = min(row[10] for row in rows)
    hi = max(row[10] for row in rows)
    conn.execute("SELECT pulse_ensure_event_partitions(%s, %s)", (lo, hi + timedelta(seconds=1)))
    _partitions_ready.update(missing)


def _existing_ids(
    conn: psycopg.Connection[Any], rows: Sequence[EventRow]
) -> set[tuple[UUID, UUID]]:
    by_project: dict[UUID, list[EventRow]] = {}
    for row in rows:
        by_project.setdefault(row[0], []).append(row)
    found: set[tuple[UUID, UUID]] = set()
    for project_id, group in by_project.items():
        lo = min(r[10] for r in group) - DEDUP_WINDOW
        hi = max(r[10] for r in group) + DEDUP_WINDOW
        cur = conn.execute(
            "SELECT id FROM events WHERE project_id = %s AND id = ANY(%s) "
            'AND "timestamp" >= %s AND "timestamp" < %s',
            (project_id, [r[1] for r in group], lo, hi),
        )
        found.update((project_id, r["id"]) for r in cur)
    return found


def _copy(conn: psycopg.Connection[Any], rows: Sequence[EventRow]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY events ({_COLUMN_LIST}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_skipping_conflicts(conn: psycopg.Connection[Any], rows: Sequence[EventRow]) -> None:
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO events ({_COLUMN_LIST}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
            rows,
        )


def _mark_dirty(conn: psycopg.Connection[Any], hours: Iterable[tuple[UUID, datetime]]) -> None:
    pairs = sorted(set(hours))
    if not pairs:
        return
    conn.execute(
        "INSERT INTO rollup_dirty_hours (project_id, hour) "
        "SELECT * FROM unnest(%s::uuid[], %s::timestamptz[]) "
        "ON CONFLICT (project_id, hour) DO UPDATE SET marked_at = now()",
        ([p for p, _ in pairs], [h for _, h in pairs]),
    )


def write_events(rows: Sequence[EventRow]) -> list[EventRow]:
    """Write the rows that are not stored yet, in one transaction; returns the rows written.

    Idempotent on (project_id, id): duplicates inside ``rows`` and rows already stored (by an
    earlier delivery of the same record, or a client retry) are skipped.
    """
    unique: dict[tuple[UUID, UUID], EventRow] = {}
    for row in rows:
        unique.setdefault((row[0], row[1]), row)
    candidates = list(unique.values())
    if not candidates:
        return []
    with connection() as conn:
        _ensure_partitions(conn, candidates)
        existing = _existing_ids(conn, candidates)
        fresh = [r for r in candidates if (r[0], r[1]) not in existing]
        if fresh:
            try:
                with conn.transaction():
                    _copy(conn, fresh)
            except psycopg.errors.UniqueViolation:
                # A copy with the very same timestamp arrived concurrently: go row by row.
                _insert_skipping_conflicts(conn, fresh)
            _mark_dirty(
                conn,
                ((r[0], r[10].replace(minute=0, second=0, microsecond=0)) for r in fresh),
            )
    return fresh


def feed_item_json(row: EventRow) -> str:
    """One row as the live feed shows it, as JSON text: ``{"uuid", "event", "properties",
    "distinct_id", "session_id", "page_url", "timestamp"}``. Built from the row's properties
    JSON text as it is, without parsing it again (this runs for every event written)."""
    dumps = json.dumps
    return (
        f'{{"uuid":"{row[1]}","event":{dumps(row[2])},"properties":{row[4]},'
        f'"distinct_id":{dumps(row[3])},"session_id":{dumps(row[5])},'
        f'"page_url":{dumps(row[6])},"timestamp":"{row[10].isoformat()}"}}'
    )
