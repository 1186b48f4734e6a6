"""Share links: the owner's /api/v1/projects/{project_id}/share-links, and the public
/api/v1/share/session that opens one (see pulse.domain.sharing)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from pulse.api.deps import Claims, SourceIp
from pulse.domain import sharing
from pulse.models.inputs import ShareLinkCreateIn, ShareSessionIn
from pulse.models.outputs import (
    ErrorOut,
    ShareLinkCreatedOut,
    ShareLinkListOut,
    ShareLinkOut,
    ShareSessionOut,
)

SHARE_VIEW_PATH = "/share/#"

router = APIRouter(
    prefix="/projects/{project_id}/share-links",
    tags=["sharing"],
    responses={
        400: {"model": ErrorOut, "description": "The body is not JSON"},
        401: {"model": ErrorOut, "description": "Missing, invalid, expired or revoked token"},
        404: {"model": ErrorOut, "description": "No such project (or link) of yours"},
    },
)


@router.post("", status_code=201)
def create_link(project_id: UUID, body: ShareLinkCreateIn, claims: Claims) -> ShareLinkCreatedOut:
    row, token = sharing.create(
        claims.user_id,
        project_id,
        label=body.label,
        password=body.password,
        allow_raw=body.allow_raw,
    )
    return ShareLinkCreatedOut(
        **ShareLinkOut.of(row).model_dump(), token=token, path=SHARE_VIEW_PATH + token
    )


@router.get("")
def list_links(project_id: UUID, claims: Claims) -> ShareLinkListOut:
    return ShareLinkListOut(
        links=[ShareLinkOut.of(r) for r in sharing.list_for(claims.user_id, project_id)]
    )


@router.delete("/{link_id}", status_code=204)
def revoke_link(project_id: UUID, link_id: UUID, claims: Claims) -> Response:
    sharing.revoke(claims.user_id, project_id, link_id)
    return Response(status_code=204)


public = APIRouter(
    prefix="/share",
    tags=["sharing"],
    responses={
        400: {"model": ErrorOut, "description": "The body is not JSON"},
        401: {"model": ErrorOut, "description": "The link's password is missing or wrong"},
        404: {"model": ErrorOut, "description": "No such link (or it was revoked)"},
        429: {"model": ErrorOut, "description": "Too many wrong passwords; see Retry-After"},
    },
)


@public.post("/session")
def open_session(body: ShareSessionIn, ip: SourceIp) -> ShareSessionOut:
    """Open a share link: a share-session token that reads the project's reports (and its raw
    data if the link allows it), nothing else."""
    session = sharing.open_session(body.token, body.password, ip=ip)
    return ShareSessionOut(
        access_token=session.access_token,
        expires_in=session.expires_in,
        project_id=session.link.project_id,
        project_name=session.project_name,
        allow_raw=session.link.allow_raw,
    )
