"""The analytics reports: parameters in, response models out; exact at every moment."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from pulse.analytics import csv_export, periods
from pulse.analytics.periods import Period
from pulse.analytics.splits import splits_of
from pulse.data import analytics as sql
from pulse.data import bots, projects
from pulse.data import sessions as sessions_sql
from pulse.data.dimensions import DIMENSIONS, EVERY_EVENT, PROPERTY, Match
from pulse.db.connection import snapshot
from pulse.exceptions import InvalidInputError, NotFoundError
from pulse.realtime import visitors

# A cursor's key is a uuid, a session id or a distinct id, none of them longer than this.
MAX_CURSOR_KEY = 256


def owned_project(owner_id: UUID, project_id: UUID) -> None:
    if projects.get_project(project_id=project_id, owner_id=owner_id) is None:
        raise NotFoundError("project not found")


P = ParamSpec("P")
R = TypeVar("R")


def _one_snapshot(report: Callable[P, R]) -> Callable[P, R]:
    """The report reads the database as of one moment: its rollups and the queue of events not
    rolled up yet are read by several statements, and a rollup committing between two of them
    would otherwise count its events twice or not at all."""

    @functools.wraps(report)
    def read(*args: P.args, **kwargs: P.kwargs) -> R:
        with snapshot():
            return report(*args, **kwargs)

    return read


@_one_snapshot
def overview(
    project_id: UUID,
    period: Period,
    event: str | None,
    now: datetime,
    match: Match = EVERY_EVENT,
) -> dict[str, Any]:
    prev = period.previous()
    cur_split, prev_split = splits_of(
        project_id, [(period.start, period.end), (prev.start, prev.end)], now, match
    )
    stats = sql.bucket_stats(
        project_id=project_id,
        splits=[cur_split, prev_split],
        event=event,
        match=match,
        with_top=True,
    )

    def block(st: dict[str, Any]) -> dict[str, Any]:
        if event is not None:
            top = {"name": event, "count": st["count"]} if st["count"] else None
        else:
            top = {"name": st["top"][0], "count": st["top"][1]} if st["top"] else None
        return {
            "total_events": st["count"],
            "unique_sessions": st["s"],
            "unique_users": st["u"],
            "top_event": top,
        }

    out = {**block(stats[0]), "previous": block(stats[1])}
    for where, span in ((out, period), (out["previous"], prev)):
        where["bots_filtered"] = bots.bots_filtered(
            project_id=project_id, start=span.start, end=span.end
        )
    return out


@_one_snapshot
def timeseries(
    project_id: UUID,
    period: Period,
    interval: periods.Interval,
    event: str | None,
    now: datetime,
    match: Match = EVERY_EVENT,
) -> dict[str, Any]:
    bks = periods.buckets(period, interval)
    splits = splits_of(project_id, [(b.start, b.end) for b in bks], now, match)
    stats = sql.bucket_stats(project_id=project_id, splits=splits, event=event, match=match)
    return {
        "interval": interval,
        "points": [
            {"bucket": b.label.isoformat(), "count": st["count"], "unique_sessions": st["s"]}
            for b, st in zip(bks, stats, strict=True)
        ],
    }


@_one_snapshot
def top_events(
    project_id: UUID, period: Period, limit: int, now: datetime, match: Match = EVERY_EVENT
) -> dict[str, Any]:
    [split] = splits_of(project_id, [(period.start, period.end)], now, match)
    return {"events": sql.top_events(project_id=project_id, split=split, limit=limit, match=match)}


def encode_cursor(at: datetime, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), key]).encode()).decode()


def _bad_cursor() -> InvalidInputError:
    return InvalidInputError(
        "cursor: is not a cursor this API gave out",
        details=[{"field": "cursor", "message": "is not a cursor this API gave out"}],
    )


def decode_cursor(cursor: str | None, *, key_is_uuid: bool = False) -> tuple[datetime, str] | None:
    """The position a ``next_cursor`` names; anything this API did not give out is a 422."""
    if not cursor:
        return None
    try:
        at, key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("no time zone")
        when = when.astimezone(UTC)
    except (ValueError, TypeError, OverflowError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(key, str) or "\x00" in key or len(key) > MAX_CURSOR_KEY:
        raise _bad_cursor()
    if not periods.in_range(when):
        raise _bad_cursor()
    if key_is_uuid:
        try:
            key = str(UUID(key))
        except ValueError as exc:
            raise _bad_cursor() from exc
    return when, key


def _page(rows: list[dict[str, Any]], limit: int, at: str, key: str) -> str | None:
    if len(rows) < limit:
        return None
    last = rows[-1]
    return encode_cursor(last[at], str(last[key]))


@_one_snapshot
def sessions(
    project_id: UUID,
    period: Period,
    limit: int,
    cursor: str | None,
    now: datetime,
    match: Match = EVERY_EVENT,
) -> dict[str, Any]:
    after = decode_cursor(cursor)
    [split] = splits_of(project_id, [(period.start, period.end)], now, match)
    summary, rows = sessions_sql.session_report(
        project_id=project_id, split=split, limit_pages=10, limit=limit, after=after, match=match
    )
    for r in rows:
        r["duration_s"] = (r["ended_at"] - r["started_at"]).total_seconds()
    return {**summary, "list": rows, "next_cursor": _page(rows, limit, "started_at", "session_id")}


def users(
    project_id: UUID,
    period: Period,
    limit: int,
    cursor: str | None,
    match: Match = EVERY_EVENT,
) -> dict[str, Any]:
    rows = sql.recent_users(
        project_id=project_id,
        start=period.start,
        end=period.end,
        limit=limit,
        after=decode_cursor(cursor),
        match=match,
    )
    return {"users": rows, "next_cursor": _page(rows, limit, "last_seen", "distinct_id")}


def user(
    project_id: UUID, distinct_id: str, period: Period, limit: int, cursor: str | None
) -> dict[str, Any]:
    decode_cursor(cursor, key_is_uuid=True)  # a bad cursor is a 422 even for an unknown user
    found = sql.user_list(
        project_id=project_id,
        start=period.start,
        end=period.end,
        limit=1,
        after=None,
        distinct_id=distinct_id,
    )
    if not found:
        raise NotFoundError("no events from this user in the range")
    page = events(
        project_id, period, limit, cursor, event=None, distinct_id=distinct_id, session_id=None
    )
    return {**found[0], **page}


def events(
    project_id: UUID,
    period: Period,
    limit: int,
    cursor: str | None,
    *,
    event: str | None,
    distinct_id: str | None,
    session_id: str | None,
    match: Match = EVERY_EVENT,
) -> dict[str, Any]:
    rows = sql.event_list(
        project_id=project_id,
        start=period.start,
        end=period.end,
        limit=limit,
        after=decode_cursor(cursor, key_is_uuid=True),
        event=event,
        distinct_id=distinct_id,
        session_id=session_id,
        match=match,
    )
    return {"events": rows, "next_cursor": _page(rows, limit, "timestamp", "uuid")}


def _bad_dimension(message: str, field: str = "dimension") -> InvalidInputError:
    return InvalidInputError(f"{field}: {message}", details=[{"field": field, "message": message}])


@_one_snapshot
def breakdown(
    project_id: UUID,
    period: Period,
    dimension: str | None,
    limit: int,
    now: datetime,
    match: Match = EVERY_EVENT,
    prop: str | None = None,
) -> dict[str, Any]:
    """The top values of a dimension (or of the event property ``prop``), each with its count,
    unique sessions and unique users; a bad dimension or property name is a 422."""
    names = ", ".join([*DIMENSIONS, PROPERTY])
    if prop is not None:
        if dimension not in (None, PROPERTY):
            raise _bad_dimension("give dimension=property (or no dimension) with property")
        if not prop or len(prop) > 255 or "\x00" in prop:
            raise _bad_dimension("a property name is 1 to 255 characters", "property")
    elif dimension is None:
        raise _bad_dimension(f"required: one of {names}")
    elif dimension == PROPERTY:
        raise _bad_dimension("dimension=property needs property=<name>", "property")
    elif dimension not in DIMENSIONS:
        raise _bad_dimension(f"unknown dimension {dimension[:80]!r}; one of {names}")
    [split] = splits_of(project_id, [(period.start, period.end)], now, match)
    if prop is not None:
        rows = sql.property_breakdown(
            project_id=project_id, split=split, key=prop, limit=limit, match=match
        )
        return {"dimension": PROPERTY, "property": prop, "counted": "events", "items": rows}
    dim = DIMENSIONS[str(dimension)]
    rows = sql.breakdown(
        project_id=project_id, split=split, dimension=dim, limit=limit, match=match
    )
    return {"dimension": dim.name, "property": None, "counted": dim.counted, "items": rows}


def visitors_now(project_id: UUID, now: datetime | None = None) -> dict[str, Any]:
    """Unique sessions with an event in the last five minutes (``pulse.realtime.visitors``)."""
    v = visitors.count([str(project_id)], now=now)[str(project_id)]
    return {
        "visitors": v.visitors,
        "window_s": visitors.WINDOW_S,
        "at": v.at,
        "next_change_at": v.next_change_at,
    }


# Each list's page size when an export does not give one: the JSON routes' defaults.
DEFAULT_LIMITS = {"top-events": 10, "pages": 10, "referrers": 10, "utm-sources": 10}
DEFAULT_LIST_LIMIT = 50
BREAKDOWN_OF = {"pages": "page", "referrers": "referrer", "utm-sources": "utm_source"}


def report(
    name: str,
    project_id: UUID,
    period: Period,
    now: datetime,
    *,
    event: str | None = None,
    interval: periods.Interval = "day",
    limit: int | None = None,
    cursor: str | None = None,
    distinct_id: str | None = None,
    session_id: str | None = None,
    match: Match = EVERY_EVENT,
) -> dict[str, Any]:
    """One report by its name (``pulse.analytics.csv_export.REPORTS``), as its JSON route
    answers it for the same parameters and filters (``match``)."""
    size = limit or DEFAULT_LIMITS.get(name, DEFAULT_LIST_LIMIT)
    if name == "overview":
        return overview(project_id, period, event, now, match)
    if name == "timeseries":
        return timeseries(project_id, period, interval, event, now, match)
    if name == "top-events":
        return top_events(project_id, period, size, now, match)
    if name in BREAKDOWN_OF:
        return breakdown(project_id, period, BREAKDOWN_OF[name], size, now, match)
    if name == "sessions":
        return sessions(project_id, period, size, cursor, now, match)
    if name == "users":
        return users(project_id, period, size, cursor, match)
    if name == "events":
        return events(
            project_id,
            period,
            size,
            cursor,
            event=event,
            distinct_id=distinct_id,
            session_id=session_id,
            match=match,
        )
    if name == "visitors-now":
        return visitors_now(project_id)
    raise InvalidInputError(f"report: no such report {name!r}")


def raw_events_csv(project_id: UUID, period: Period, cursor: str | None) -> tuple[str, str | None]:
    """One page of the range's raw events as CSV (the header on the first page only), and the
    cursor of the next page (None on the last)."""
    after = decode_cursor(cursor, key_is_uuid=True)
    rows = sql.iter_events(
        project_id=project_id,
        start=period.start,
        end=period.end,
        after=after,
        columns=csv_export.EVENT_COLUMNS,
    )
    with closing(rows):
        page = csv_export.events_page(rows, header=after is None)
    following = encode_cursor(*page.next_after) if page.next_after else None
    return page.text, following
