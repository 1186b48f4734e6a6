"""Funnels: saved per project (/api/v1/projects/{project_id}/funnels, owner only) and computed
over a range (/api/v1/analytics/{project_id}/funnels/...)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from pulse.analytics import funnels
from pulse.analytics.service import owned_project
from pulse.api.deps import Claims
from pulse.api.routes.analytics import OwnerCommon
from pulse.models.funnels import (
    FunnelCreateIn,
    FunnelListOut,
    FunnelOut,
    FunnelQueryIn,
    FunnelResultOut,
    FunnelUpdateIn,
)
from pulse.models.outputs import ErrorOut

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut, "description": "The body is not JSON"},
    401: {"model": ErrorOut, "description": "Missing, invalid, expired or revoked token"},
    404: {"model": ErrorOut, "description": "No such project of yours, or no such funnel in it"},
    422: {"model": ErrorOut, "description": "Bad parameters or body"},
}


def _owned(project_id: UUID, claims: Claims) -> UUID:
    """404 for a project not the caller's, before the body or the funnel id is looked at."""
    owned_project(claims.user_id, project_id)
    return project_id


OwnedProject = Annotated[UUID, Depends(_owned)]

saved = APIRouter(prefix="/projects/{project_id}/funnels", tags=["funnels"], responses=_ERRORS)
computed = APIRouter(prefix="/analytics/{project_id}/funnels", tags=["funnels"], responses=_ERRORS)


@saved.post("", status_code=201)
def create_funnel(project_id: OwnedProject, body: FunnelCreateIn, claims: Claims) -> FunnelOut:
    return FunnelOut.of(funnels.create(claims.user_id, project_id, body))


@saved.get("")
def list_funnels(project_id: OwnedProject, claims: Claims) -> FunnelListOut:
    return FunnelListOut(
        funnels=[FunnelOut.of(f) for f in funnels.list_for(claims.user_id, project_id)]
    )


@saved.get("/{funnel_id}")
def get_funnel(project_id: OwnedProject, funnel_id: UUID, claims: Claims) -> FunnelOut:
    return FunnelOut.of(funnels.get(claims.user_id, project_id, funnel_id))


@saved.patch("/{funnel_id}")
def update_funnel(
    project_id: OwnedProject, funnel_id: UUID, body: FunnelUpdateIn, claims: Claims
) -> FunnelOut:
    return FunnelOut.of(funnels.update(claims.user_id, project_id, funnel_id, body))


@saved.delete("/{funnel_id}", status_code=204)
def delete_funnel(project_id: OwnedProject, funnel_id: UUID, claims: Claims) -> Response:
    funnels.delete(claims.user_id, project_id, funnel_id)
    return Response(status_code=204)


@computed.post("/query")
def query_funnel(q: OwnerCommon, body: FunnelQueryIn) -> FunnelResultOut:
    """An ad-hoc funnel over the range: computed, not saved."""
    return funnels.compute_adhoc(q.project_id, q.period, body)


@computed.get("/{funnel_id}")
def saved_funnel_result(q: OwnerCommon, funnel_id: UUID, claims: Claims) -> FunnelResultOut:
    """A saved funnel over the range."""
    return funnels.compute_saved(claims.user_id, q.project_id, funnel_id, q.period)
