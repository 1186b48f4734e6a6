"""FastAPI dependencies: the caller's identity (an account, or a share session) and source IP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pulse import edge
from pulse.auth import share_tokens, tokens
from pulse.data import projects
from pulse.domain import sharing
from pulse.exceptions import AuthenticationError, NotFoundError

_bearer = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/login")


def access_claims(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> tokens.AccessClaims:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("missing bearer token")
    return tokens.verify_access(credentials.credentials)


def source_ip(request: Request) -> str:
    """The caller's IP: API Gateway's ``sourceIp``, or the visitor's behind our CloudFront
    distribution (``pulse.edge``)."""
    event: dict[str, Any] = request.scope.get("aws.event") or {}
    ip = edge.client_ip(event, edge.edge_secret())
    if ip:
        return ip
    return request.client.host if request.client else "unknown"


Claims = Annotated[tokens.AccessClaims, Depends(access_claims)]
SourceIp = Annotated[str, Depends(source_ip)]


@dataclass(frozen=True)
class Viewer:
    """Who reads a project's reports: its owner (an access token) or a share session."""

    user_id: UUID | None = None
    share: share_tokens.ShareClaims | None = None

    def authorize(self, project_id: UUID, *, needs_raw: bool = False) -> None:
        """A 404 for a project that is not the viewer's; a 403 for raw data a share link does
        not include; a 401 for a share session whose link was revoked."""
        if self.share is not None:
            sharing.authorize(self.share, project_id, needs_raw=needs_raw)
            return
        assert self.user_id is not None
        if projects.get_project(project_id=project_id, owner_id=self.user_id) is None:
            raise NotFoundError("project not found")


def viewer(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Viewer:
    """An account's access token, else a share-session token; refused with the access token's
    own error when it is neither."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("missing bearer token")
    try:
        return Viewer(user_id=tokens.verify_access(credentials.credentials).user_id)
    except AuthenticationError as error:
        try:
            return Viewer(share=share_tokens.verify(credentials.credentials))
        except AuthenticationError:
            raise error from None


ViewerDep = Annotated[Viewer, Depends(viewer)]
