"""Register, log in, refresh, log out."""

from __future__ import annotations

from uuid import UUID

from pulse.auth import login_limits, tokens
from pulse.auth.passwords import dummy_hash, hash_password, verify_password
from pulse.data import users
from pulse.exceptions import AuthenticationError, ConflictError
from pulse.models.inputs import LoginIn, RegisterIn
from pulse.models.stored import UserRow


def register(body: RegisterIn, *, source_ip: str) -> None:
    """Create the account; a taken email gets the very same answer (and costs the same hash),
    so that registration does not tell anyone which emails have accounts. The owner of a taken
    email keeps their password."""
    login_limits.reserve_registration(ip=source_ip)
    password_hash = hash_password(body.password)
    try:
        users.insert_user(email=str(body.email).lower(), password_hash=password_hash)
    except ConflictError:
        pass


def login(body: LoginIn, *, source_ip: str) -> tokens.TokenPair:
    email = body.email.strip().lower()
    login_limits.reserve_attempt(email=email, ip=source_ip)
    user = users.get_user_by_email(email=email)
    ok, new_hash = verify_password(body.password, user.password_hash if user else dummy_hash())
    if user is None or not ok:
        login_limits.record_failure(email=email, ip=source_ip)
        raise AuthenticationError("incorrect email or password")
    if new_hash:
        users.update_password_hash(user_id=user.id, password_hash=new_hash)
    login_limits.record_success(email=email, ip=source_ip)
    return tokens.issue_pair(user.id)


def refresh(refresh_token: str) -> tokens.TokenPair:
    user_id, pair = tokens.rotate(refresh_token)
    if users.get_user(user_id=user_id) is None:
        raise AuthenticationError("account no longer exists")
    return pair


def current_user(user_id: UUID) -> UserRow:
    user = users.get_user(user_id=user_id)
    if user is None:
        raise AuthenticationError("account no longer exists")
    return user


def logout(access: tokens.AccessClaims, refresh_token: str | None) -> None:
    tokens.revoke(access, refresh_token)
