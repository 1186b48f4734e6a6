"""/api/v1/analytics/{project_id}/retention: cohorts by first-seen day or week, owner only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pulse.analytics import retention
from pulse.api.routes.analytics import EventFilter, OwnerCommon
from pulse.models.outputs import ErrorOut
from pulse.models.retention import RetentionOut, RetentionPeriod

router = APIRouter(
    prefix="/analytics/{project_id}",
    tags=["analytics"],
    responses={
        401: {"model": ErrorOut, "description": "Missing, invalid, expired or revoked token"},
        404: {"model": ErrorOut, "description": "No such project of yours"},
        422: {"model": ErrorOut, "description": "Bad parameters"},
    },
)


@router.get("/retention")
def retention_triangle(
    q: OwnerCommon,
    period: Annotated[RetentionPeriod, Query(description="Cohort and return period")] = "day",
    return_event: EventFilter = None,
) -> RetentionOut:
    return retention.retention(q.project_id, q.period, period, return_event, q.now)
