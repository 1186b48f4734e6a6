"""/api/v1/auth: register, login, refresh, logout, me."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from pulse.api.deps import Claims, SourceIp
from pulse.auth.tokens import TokenPair
from pulse.domain import accounts
from pulse.models.inputs import LoginIn, LogoutIn, RefreshIn, RegisterIn
from pulse.models.outputs import ErrorOut, RegistrationOut, TokenPairOut, UserOut

router = APIRouter(
    prefix="/auth",
    tags=["auth"],
    responses={400: {"model": ErrorOut, "description": "The body is not JSON"}},
)
_401: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing, invalid, expired or revoked token"}
}


def _pair_out(pair: TokenPair) -> TokenPairOut:
    return TokenPairOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post(
    "/register",
    status_code=202,
    responses={422: {"model": ErrorOut}, 429: {"model": ErrorOut, "description": "Rate limited"}},
)
def register(body: RegisterIn, ip: SourceIp) -> RegistrationOut:
    """The same answer whether the email was free or taken (no account enumeration)."""
    accounts.register(body, source_ip=ip)
    return RegistrationOut(email=str(body.email).lower())


@router.post(
    "/login",
    responses={401: {"model": ErrorOut}, 429: {"model": ErrorOut, "description": "Rate limited"}},
)
def login(body: LoginIn, ip: SourceIp) -> TokenPairOut:
    return _pair_out(accounts.login(body, source_ip=ip))


@router.post("/refresh", responses=_401)
def refresh(body: RefreshIn) -> TokenPairOut:
    return _pair_out(accounts.refresh(body.refresh_token))


@router.post("/logout", status_code=204, responses=_401)
def logout(claims: Claims, body: LogoutIn | None = None) -> Response:
    accounts.logout(claims, body.refresh_token if body else None)
    return Response(status_code=204)


@router.get("/me", responses=_401)
def me(claims: Claims) -> UserOut:
    return UserOut.of(accounts.current_user(claims.user_id))
