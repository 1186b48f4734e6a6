"""Share-session JWTs: what a share link's visitor presents after opening it (and giving its
password, if it has one). Signed with the API's secret like access tokens, but with an audience
of their own (``{jwt_audience}:share``) and type ``share``, so that no route that takes an
account's access token ever takes one of these, and the other way round."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import jwt

from pulse.exceptions import AuthenticationError
from pulse.secrets import jwt_secret
from pulse.settings import get_settings

ALGORITHM = "HS256"
TYPE = "share"


@dataclass(frozen=True)
class ShareClaims:
    link_id: UUID
    project_id: UUID
    expires_at: int


def audience() -> str:
    return f"{get_settings().jwt_audience}:share"


def issue(*, link_id: UUID, project_id: UUID) -> tuple[str, int]:
    """A share session for the link: the token and how many seconds it lasts."""
    settings = get_settings()
    now = int(time.time())
    ttl = settings.share_session_ttl_s
    claims = {
        "sub": str(link_id),
        "pid": str(project_id),
        "iss": settings.jwt_issuer,
        "aud": audience(),
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(12),
        "typ": TYPE,
    }
    return jwt.encode(claims, jwt_secret(), algorithm=ALGORITHM), ttl


def verify(token: str) -> ShareClaims:
    """The claims of a valid share-session token (signature, audience, type, expiry). Whether
    its link still exists is the caller's check (``pulse.domain.sharing.live_link``)."""
    settings = get_settings()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            jwt_secret(),
            algorithms=[ALGORITHM],
            audience=audience(),
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "pid", "iss", "aud", "typ"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("share session has expired; open the link again") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationError("token is invalid") from exc
    if claims.get("typ") != TYPE:
        raise AuthenticationError("token is invalid")
    try:
        return ShareClaims(UUID(str(claims["sub"])), UUID(str(claims["pid"])), int(claims["exp"]))
    except ValueError as exc:
        raise AuthenticationError("token is invalid") from exc
