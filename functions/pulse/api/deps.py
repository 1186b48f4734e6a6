"""FastAPI dependencies: the caller's identity and source IP."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pulse import edge
from pulse.auth import tokens
from pulse.exceptions import AuthenticationError

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
