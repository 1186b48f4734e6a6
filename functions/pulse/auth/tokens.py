"""Access and refresh JWTs (PyJWT, HS256 only) and the refresh-token state kept in Redis.

Refresh tokens rotate: each use deletes the token's Redis entry and issues a new pair in the same
family (one login). Access tokens carry their family too (``fam``). A refresh token whose entry is
gone (already used, or revoked) is refused, and presenting one revokes its whole family, access
tokens included, so a stolen-and-replayed token logs out both holders. Logging out revokes the
caller's access token and its family, so the refresh token of that login stops working too.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import jwt

from pulse.cache import get_redis, key
from pulse.exceptions import AuthenticationError
from pulse.secrets import jwt_secret
from pulse.settings import get_settings

ALGORITHMS = ["HS256"]
TokenType = Literal["access", "refresh"]


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class AccessClaims:
    user_id: UUID
    jti: str
    expires_at: int
    family: str = ""


def _encode(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, jwt_secret(), algorithm=ALGORITHMS[0])


def _decode(token: str, expected: TokenType) -> dict[str, Any]:
    settings = get_settings()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            jwt_secret(),
            algorithms=ALGORITHMS,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "jti", "iss", "aud", "typ"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("token has expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationError("token is invalid") from exc
    if claims.get("typ") != expected:
        raise AuthenticationError(
            f"not an {expected} token" if expected == "access" else f"not a {expected} token"
        )
    try:
        UUID(str(claims["sub"]))
    except ValueError as exc:
        raise AuthenticationError("token is invalid") from exc
    return claims


def _base_claims(user_id: UUID, typ: TokenType, ttl_s: int) -> dict[str, Any]:
    settings = get_settings()
    now = int(time.time())
    return {
        "sub": str(user_id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
        "jti": secrets.token_urlsafe(16),
        "typ": typ,
    }


def issue_pair(user_id: UUID, *, family: str | None = None) -> TokenPair:
    settings = get_settings()
    access = _base_claims(user_id, "access", settings.access_token_ttl_s)
    refresh = _base_claims(user_id, "refresh", settings.refresh_token_ttl_s)
    refresh["fam"] = access["fam"] = family or secrets.token_urlsafe(16)
    get_redis().set(key("rt", refresh["jti"]), refresh["fam"], ex=settings.refresh_token_ttl_s)
    return TokenPair(
        access_token=_encode(access),
        refresh_token=_encode(refresh),
        expires_in=settings.access_token_ttl_s,
    )


def verify_access(token: str) -> AccessClaims:
    claims = _decode(token, "access")
    family = str(claims.get("fam") or "")
    checks = [key("revoked_access", claims["jti"])]
    if family:
        checks.append(key("rt_family_revoked", family))
    if get_redis().exists(*checks):
        raise AuthenticationError("token has been revoked")
    return AccessClaims(
        user_id=UUID(claims["sub"]), jti=claims["jti"], expires_at=claims["exp"], family=family
    )


def _family_revoked(family: str) -> bool:
    return bool(get_redis().exists(key("rt_family_revoked", family)))


def _revoke_family(family: str) -> None:
    get_redis().set(key("rt_family_revoked", family), "1", ex=get_settings().refresh_token_ttl_s)


def rotate(refresh_token: str) -> tuple[UUID, TokenPair]:
    """Spend a refresh token for a new pair; a reused or revoked one is refused."""
    claims = _decode(refresh_token, "refresh")
    family = str(claims.get("fam", ""))
    if not family or _family_revoked(family):
        raise AuthenticationError("refresh token has been revoked")
    if get_redis().getdel(key("rt", claims["jti"])) is None:
        _revoke_family(family)
        raise AuthenticationError("refresh token was already used or revoked")
    user_id = UUID(claims["sub"])
    return user_id, issue_pair(user_id, family=family)


def revoke(access: AccessClaims, refresh_token: str | None) -> None:
    """Log out: the access token stops working now, and so does its login (the refresh family),
    with or without the refresh token. A refresh token that is not the caller's is refused
    before anything is revoked."""
    refresh_claims = _decode(refresh_token, "refresh") if refresh_token else None
    if refresh_claims is not None and UUID(refresh_claims["sub"]) != access.user_id:
        raise AuthenticationError("refresh token belongs to another user")
    remaining = max(1, access.expires_at - int(time.time()))
    redis = get_redis()
    redis.set(key("revoked_access", access.jti), "1", ex=remaining)
    families = {access.family}
    if refresh_claims is not None:
        redis.delete(key("rt", refresh_claims["jti"]))
        families.add(str(refresh_claims.get("fam", "")))
    for family in families - {""}:
        _revoke_family(family)
