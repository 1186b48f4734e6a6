"""/api/v1/analytics/{project_id}/...: the dashboard's numbers, owner only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query

from pulse.analytics import filters, periods, service
from pulse.api.deps import Claims
from pulse.data.dimensions import DIMENSIONS, PROPERTY, Match
from pulse.models.inputs import NO_NUL
from pulse.models.outputs import ErrorOut

router = APIRouter(
    prefix="/analytics/{project_id}",
    tags=["analytics"],
    responses={
        401: {"model": ErrorOut, "description": "Missing, invalid, expired or revoked token"},
        404: {"model": ErrorOut, "description": "No such project of yours"},
        422: {"model": ErrorOut, "description": "Bad parameters"},
    },
)


class Range:
    """The common query: ``from``/``to`` (ISO 8601, half-open) or ``range``, and ``tz``."""

    def __init__(
        self,
        project_id: UUID,
        claims: Claims,
        from_: Annotated[str | None, Query(alias="from", description="ISO 8601 start")] = None,
        to: Annotated[str | None, Query(description="ISO 8601 end (exclusive)")] = None,
        range_: Annotated[
            str | None, Query(alias="range", description="24h, 7d (default), 30d or 90d")
        ] = None,
        tz: Annotated[str | None, Query(description="IANA time zone, default UTC")] = None,
    ) -> None:
        service.owned_project(claims.user_id, project_id)
        self.project_id = project_id
        self.now = datetime.now(UTC)
        self.period = periods.parse_period(start=from_, end=to, range_=range_, tz=tz, now=self.now)


def _filters(
    filter_: Annotated[
        list[str] | None,
        Query(
            alias="filter",
            description="field:value, repeatable (AND): a dimension of an event ("
            + ", ".join(filters.FILTERABLE)
            + ") or prop.<name> for an event property, e.g. country:DE, page:/pricing, "
            "prop.plan:pro. The report is computed over the matching events only.",
        ),
    ] = None,
) -> Match:
    return filters.parse(filter_)


Common = Annotated[Range, Depends()]
Filters = Annotated[Match, Depends(_filters)]
Limit = Annotated[int, Query(ge=1, le=100)]
EventFilter = Annotated[str | None, Query(min_length=1, max_length=255, pattern=NO_NUL)]
Cursor = Annotated[str | None, Query(description="next_cursor of a page")]
IdFilter = Annotated[str | None, Query(max_length=200, pattern=NO_NUL)]


@router.get("/overview")
def overview(q: Common, f: Filters, event: EventFilter = None) -> dict[str, Any]:
    return service.overview(q.project_id, q.period, event, q.now, f)


@router.get("/timeseries")
def timeseries(
    q: Common, f: Filters, interval: Literal["hour", "day"] = "day", event: EventFilter = None
) -> dict[str, Any]:
    return service.timeseries(q.project_id, q.period, interval, event, q.now, f)


@router.get("/top-events")
def top_events(q: Common, f: Filters, limit: Limit = 10) -> dict[str, Any]:
    return service.top_events(q.project_id, q.period, limit, q.now, f)


@router.get("/sessions")
def sessions(q: Common, f: Filters, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    return service.sessions(q.project_id, q.period, limit, cursor, q.now, f)


@router.get("/users")
def users(q: Common, f: Filters, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    return service.users(q.project_id, q.period, limit, cursor, f)


@router.get("/users/{distinct_id:path}")
def user(
    q: Common,
    # A path parameter of its own to the end: a distinct id may contain "/".
    distinct_id: Annotated[str, Path(min_length=1, max_length=200, pattern=NO_NUL)],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return service.user(q.project_id, distinct_id, q.period, limit, cursor)


@router.get("/events")
def events(
    q: Common,
    f: Filters,
    limit: Limit = 50,
    cursor: Cursor = None,
    event: EventFilter = None,
    distinct_id: IdFilter = None,
    session_id: IdFilter = None,
) -> dict[str, Any]:
    return service.events(
        q.project_id,
        q.period,
        limit,
        cursor,
        event=event,
        distinct_id=distinct_id,
        session_id=session_id,
        match=f,
    )


@router.get("/breakdown")
def breakdown(
    q: Common,
    f: Filters,
    dimension: Annotated[
        str | None,
        Query(
            max_length=100,
            description="One of "
            + ", ".join([*DIMENSIONS, PROPERTY])
            + " (property: give property=<name>; may be left out then)",
        ),
    ] = None,
    property_: Annotated[
        str | None,
        Query(alias="property", max_length=255, description="An event property's name"),
    ] = None,
    limit: Limit = 10,
) -> dict[str, Any]:
    return service.breakdown(q.project_id, q.period, dimension, limit, q.now, f, property_)


@router.get("/pages")
def pages(q: Common, f: Filters, limit: Limit = 10) -> dict[str, Any]:
    """The same as ``breakdown?dimension=page``."""
    return service.breakdown(q.project_id, q.period, "page", limit, q.now, f)


@router.get("/referrers")
def referrers(q: Common, f: Filters, limit: Limit = 10) -> dict[str, Any]:
    """The same as ``breakdown?dimension=referrer``."""
    return service.breakdown(q.project_id, q.period, "referrer", limit, q.now, f)


@router.get("/utm-sources")
def utm_sources(q: Common, f: Filters, limit: Limit = 10) -> dict[str, Any]:
    """The same as ``breakdown?dimension=utm_source``."""
    return service.breakdown(q.project_id, q.period, "utm_source", limit, q.now, f)
