"""/api/v1/projects: the caller's own projects."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from pulse.api.deps import Claims
from pulse.domain import projects
from pulse.models.inputs import ProjectCreateIn, ProjectUpdateIn
from pulse.models.outputs import ErrorOut, ProjectListOut, ProjectOut

router = APIRouter(
    prefix="/projects",
    tags=["projects"],
    responses={
        400: {"model": ErrorOut, "description": "The body is not JSON"},
        401: {"model": ErrorOut, "description": "Missing, invalid, expired or revoked token"},
        404: {"model": ErrorOut, "description": "No such project of yours"},
    },
)


@router.post("", status_code=201)
def create_project(body: ProjectCreateIn, claims: Claims) -> ProjectOut:
    return ProjectOut.of(projects.create(claims.user_id, body))


@router.get("")
def list_projects(claims: Claims) -> ProjectListOut:
    return ProjectListOut(projects=[ProjectOut.of(p) for p in projects.list_for(claims.user_id)])


@router.get("/{project_id}")
def get_project(project_id: UUID, claims: Claims) -> ProjectOut:
    return ProjectOut.of(projects.get(claims.user_id, project_id))


@router.patch("/{project_id}")
def update_project(project_id: UUID, body: ProjectUpdateIn, claims: Claims) -> ProjectOut:
    return ProjectOut.of(projects.update(claims.user_id, project_id, body))


@router.delete("/{project_id}", status_code=204)
def delete_project(project_id: UUID, claims: Claims) -> Response:
    projects.delete(claims.user_id, project_id)
    return Response(status_code=204)


@router.post("/{project_id}/rotate-key")
def rotate_key(project_id: UUID, claims: Claims) -> ProjectOut:
    return ProjectOut.of(projects.rotate_key(claims.user_id, project_id))
