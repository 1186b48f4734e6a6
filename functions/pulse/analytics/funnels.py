"""Funnels: saved definitions per project (owner only) and their conversion over a period."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from pulse.analytics.periods import Period
from pulse.analytics.service import owned_project
from pulse.data import funnels as sql
from pulse.db.connection import snapshot
from pulse.exceptions import NotFoundError
from pulse.models.funnels import (
    CountBy,
    FunnelCreateIn,
    FunnelQueryIn,
    FunnelResultOut,
    FunnelRow,
    FunnelStep,
    FunnelStepResult,
    FunnelUpdateIn,
    window_seconds,
    window_text,
)


def _found(row: FunnelRow | None) -> FunnelRow:
    if row is None:
        raise NotFoundError("funnel not found")
    return row


def create(owner_id: UUID, project_id: UUID, body: FunnelCreateIn) -> FunnelRow:
    owned_project(owner_id, project_id)
    return sql.insert_funnel(
        project_id=project_id,
        name=body.name,
        steps=body.steps,
        window_s=window_seconds(body.window),
        count_by=body.by,
    )


def list_for(owner_id: UUID, project_id: UUID) -> list[FunnelRow]:
    owned_project(owner_id, project_id)
    return sql.list_funnels(project_id=project_id)


def get(owner_id: UUID, project_id: UUID, funnel_id: UUID) -> FunnelRow:
    owned_project(owner_id, project_id)
    return _found(sql.get_funnel(project_id=project_id, funnel_id=funnel_id))


def update(owner_id: UUID, project_id: UUID, funnel_id: UUID, body: FunnelUpdateIn) -> FunnelRow:
    owned_project(owner_id, project_id)
    return _found(
        sql.update_funnel(
            project_id=project_id,
            funnel_id=funnel_id,
            name=body.name,
            steps=body.steps,
            window_s=window_seconds(body.window) if body.window is not None else None,
            count_by=body.by,
        )
    )


def delete(owner_id: UUID, project_id: UUID, funnel_id: UUID) -> None:
    owned_project(owner_id, project_id)
    if not sql.delete_funnel(project_id=project_id, funnel_id=funnel_id):
        raise NotFoundError("funnel not found")


def compute(
    project_id: UUID,
    period: Period,
    *,
    steps: list[FunnelStep],
    window_s: int,
    count_by: CountBy,
    funnel_id: UUID | None = None,
) -> FunnelResultOut:
    with snapshot():  # the archive's list of days and the events read beside it: one moment
        counts = sql.funnel_counts(
            project_id=project_id,
            start=period.start,
            end=period.end,
            steps=steps,
            window=timedelta(seconds=window_s),
            count_by=count_by,
        )
    first = counts[0][0]
    results = []
    previous = first
    for step, (n, median) in zip(steps, counts, strict=True):
        results.append(
            FunnelStepResult(
                step=step,
                count=n,
                conversion_from_first=n / first if first else 0.0,
                conversion_from_previous=n / previous if previous else 0.0,
                drop_off=previous - n,
                median_seconds_from_previous=median,
            )
        )
        previous = n
    return FunnelResultOut(
        funnel_id=funnel_id,
        by=count_by,
        window=window_text(window_s),
        start=period.start,
        end=period.end,
        steps=results,
    )


def compute_saved(
    owner_id: UUID, project_id: UUID, funnel_id: UUID, period: Period
) -> FunnelResultOut:
    row = get(owner_id, project_id, funnel_id)
    return compute(
        project_id,
        period,
        steps=row.steps,
        window_s=row.window_s,
        count_by=row.count_by,
        funnel_id=row.id,
    )


def compute_adhoc(project_id: UUID, period: Period, body: FunnelQueryIn) -> FunnelResultOut:
    return compute(
        project_id,
        period,
        steps=body.steps,
        window_s=window_seconds(body.window),
        count_by=body.by,
    )
