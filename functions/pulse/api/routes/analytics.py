"""/api/v1/analytics/{project_id}/...: the dashboard's numbers, for the project's owner or a
share session of the project (the raw data only when its link allows it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response

from pulse.analytics import csv_export, filters, periods, service
from pulse.api.deps import Claims, Viewer, ViewerDep
from pulse.data.dimensions import DIMENSIONS, PROPERTY, Match
from pulse.models.inputs import NO_NUL
from pulse.models.outputs import ErrorOut, VisitorsNowOut

router = APIRouter(
    prefix="/analytics/{project_id}",
    tags=["analytics"],
    responses={
        401: {"model": ErrorOut, "description": "Missing, invalid, expired or revoked token"},
        403: {"model": ErrorOut, "description": "Raw data a share link does not include"},
        404: {"model": ErrorOut, "description": "No such project of yours"},
        422: {"model": ErrorOut, "description": "Bad parameters"},
    },
)


From = Annotated[str | None, Query(alias="from", description="ISO 8601 start")]
To = Annotated[str | None, Query(description="ISO 8601 end (exclusive)")]
RangeName = Annotated[str | None, Query(alias="range", description="24h, 7d (default), 30d or 90d")]
TimeZone = Annotated[str | None, Query(description="IANA time zone, default UTC")]


class Range:
    """The common query: ``from``/``to`` (ISO 8601, half-open) or ``range``, and ``tz``; the
    caller may read the project's reports."""

    NEEDS_RAW = False

    def __init__(
        self,
        project_id: UUID,
        viewer: ViewerDep,
        from_: From = None,
        to: To = None,
        range_: RangeName = None,
        tz: TimeZone = None,
    ) -> None:
        viewer.authorize(project_id, needs_raw=self.NEEDS_RAW)
        self.project_id = project_id
        self.now = datetime.now(UTC)
        self.period = periods.parse_period(start=from_, end=to, range_=range_, tz=tz, now=self.now)


class RawRange(Range):
    """The common query of a report of raw data (events, users and their properties, the
    sessions list): a share session reads it only when its link allows it."""

    NEEDS_RAW = True


class OwnerRange(Range):
    """The common query of a report only the project's owner reads (funnels, retention): a
    share session's token is refused (401), as on every route that takes an account's token."""

    def __init__(
        self,
        project_id: UUID,
        claims: Claims,
        from_: From = None,
        to: To = None,
        range_: RangeName = None,
        tz: TimeZone = None,
    ) -> None:
        super().__init__(project_id, Viewer(user_id=claims.user_id), from_, to, range_, tz)


def _filters(
    project_id: UUID,
    viewer: ViewerDep,
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
    match = filters.parse(filter_)
    if match.on_properties:  # event properties are raw data to a share link
        viewer.authorize(project_id, needs_raw=True)
    return match


Common = Annotated[Range, Depends()]
RawCommon = Annotated[RawRange, Depends()]
OwnerCommon = Annotated[OwnerRange, Depends()]
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
def sessions(q: RawCommon, f: Filters, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    return service.sessions(q.project_id, q.period, limit, cursor, q.now, f)


@router.get("/users")
def users(q: RawCommon, f: Filters, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    return service.users(q.project_id, q.period, limit, cursor, f)


@router.get("/users/{distinct_id:path}")
def user(
    q: RawCommon,
    # A path parameter of its own to the end: a distinct id may contain "/".
    distinct_id: Annotated[str, Path(min_length=1, max_length=200, pattern=NO_NUL)],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return service.user(q.project_id, distinct_id, q.period, limit, cursor)


@router.get("/events")
def events(
    q: RawCommon,
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
    viewer: ViewerDep,
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
    if property_ is not None:  # an event property's values are raw data to a share link
        viewer.authorize(q.project_id, needs_raw=True)
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


@router.get("/visitors-now")
def visitors_now(project_id: UUID, viewer: ViewerDep) -> VisitorsNowOut:
    """Unique sessions with an event in the last five minutes, exact (also pushed on the live
    feed as ``visitors_now`` messages)."""
    viewer.authorize(project_id)
    return VisitorsNowOut.model_validate(service.visitors_now(project_id))


class ExportRange(Range):
    """The common query of an export; the raw reports need a share link that allows them."""

    def __init__(
        self,
        project_id: UUID,
        report: Annotated[csv_export.Report, Path(description="The report to export")],
        viewer: ViewerDep,
        from_: From = None,
        to: To = None,
        range_: RangeName = None,
        tz: TimeZone = None,
    ) -> None:
        self.NEEDS_RAW = report in csv_export.RAW_REPORTS
        self.report = report
        super().__init__(project_id, viewer, from_, to, range_, tz)


@router.get(
    "/export/{report}",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The report as CSV (the rows of its JSON answer; docs/api.md); "
            "a paged report's `x-next-cursor` names its next page",
            "headers": {"x-next-cursor": {"schema": {"type": "string"}}},
        }
    },
)
def export(
    q: Annotated[ExportRange, Depends()],
    f: Filters,
    event: EventFilter = None,
    interval: Literal["hour", "day"] = "day",
    limit: Annotated[
        int | None,
        Query(ge=1, le=1000, description="default: the report's; up to 1,000 rows a page"),
    ] = None,
    cursor: Cursor = None,
    distinct_id: IdFilter = None,
    session_id: IdFilter = None,
) -> Response:
    """One report as CSV, with the parameters of its JSON route (and the same answer). The
    paged reports (`sessions`, `users`, `events`) name their next page in `x-next-cursor`: ask
    again with `cursor` = that value until an answer has none; a page asked with a cursor has
    no header row, so the pages joined in order are one CSV file."""
    data = service.report(
        q.report,
        q.project_id,
        q.period,
        q.now,
        event=event,
        interval=interval,
        limit=limit,
        cursor=cursor,
        distinct_id=distinct_id,
        session_id=session_id,
        match=f,
    )
    name = f"pulse-{q.report}-{q.now:%Y%m%dT%H%M%SZ}.csv"
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    if data.get("next_cursor"):
        headers["x-next-cursor"] = data["next_cursor"]
    return Response(
        csv_export.render(q.report, data, header=cursor is None),
        media_type="text/csv; charset=utf-8",
        headers=headers,
    )


@router.get(
    "/events.csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "One page of the range's raw events as CSV, oldest first; "
            "`x-next-cursor` names the next page (absent on the last one)",
            "headers": {"x-next-cursor": {"schema": {"type": "string"}}},
        }
    },
)
def events_csv(q: RawCommon, cursor: Cursor = None) -> Response:
    """Every raw event of the range as CSV, in pages of at most 5 MB (the API's response limit
    in AWS): ask again with `cursor` = the `x-next-cursor` header until there is none. The
    pages joined in order are one CSV file (the header comes with the first)."""
    text, following = service.raw_events_csv(q.project_id, q.period, cursor)
    headers = {
        "content-disposition": f'attachment; filename="pulse-events-{q.now:%Y%m%dT%H%M%SZ}.csv"'
    }
    if following:
        headers["x-next-cursor"] = following
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
