"""Accounts through the real "api" Lambda handler, real Postgres and Redis."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from pulse.settings import get_settings
from tests.integration.conftest import ApiCall


def _register(api: ApiCall, email: str, password: str = "s3cure-enough") -> Any:
    return api("POST", "/api/v1/auth/register", body={"email": email, "password": password})


def test_register_accepts_and_the_account_can_log_in(api: ApiCall) -> None:
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    res = _register(api, email)
    assert res.status == 202
    body = res.json()
    assert body["email"] == email and body["status"] == "accepted"
    login = api("POST", "/api/v1/auth/login", body={"email": email, "password": "s3cure-enough"})
    assert login.status == 200, login.body
    me = api("GET", "/api/v1/auth/me", token=login.json()["access_token"]).json()
    assert me["email"] == email
    uuid.UUID(me["id"])


def test_register_answers_a_taken_email_the_same_and_keeps_its_password(api: ApiCall) -> None:
    email = f"Taken-{uuid.uuid4().hex[:6]}@Example.com"
    first = _register(api, email)
    again = _register(api, email.upper(), "other-password-2")
    assert first.status == again.status == 202
    assert first.json() == again.json()  # the emails are stored lower-case
    ok = api("POST", "/api/v1/auth/login", body={"email": email, "password": "s3cure-enough"})
    assert ok.status == 200


def test_register_explains_each_broken_password_rule(api: ApiCall) -> None:
    res = _register(api, "short@example.com", "abc")
    assert res.status == 422
    error = res.json()["error"]
    assert error["code"] == "invalid_input"
    [detail] = error["details"]
    assert detail["field"] == "password"
    assert "at least 8 characters" in detail["message"]
    assert "at least one digit" in detail["message"]


def test_register_refuses_a_malformed_email(api: ApiCall) -> None:
    res = _register(api, "not-an-email")
    assert res.status == 422
    assert res.json()["error"]["details"][0]["field"] == "email"


def test_login_gives_a_bearer_pair(api: ApiCall, new_user) -> None:
    user = new_user()
    assert user["token_type"] == "bearer"
    assert user["expires_in"] == get_settings().access_token_ttl_s
    me = api("GET", "/api/v1/auth/me", token=user["access_token"])
    assert me.status == 200
    assert me.json()["email"] == user["email"]


def test_login_with_a_wrong_password_is_401(api: ApiCall, new_user) -> None:
    user = new_user()
    res = api("POST", "/api/v1/auth/login", body={"email": user["email"], "password": "nope-1234"})
    assert res.status == 401
    assert res.json()["error"]["message"] == "incorrect email or password"


def test_login_for_an_unknown_email_is_the_same_401(api: ApiCall) -> None:
    res = api(
        "POST", "/api/v1/auth/login", body={"email": "ghost@example.com", "password": "whatever-1"}
    )
    assert res.status == 401
    assert res.json()["error"]["message"] == "incorrect email or password"


def test_repeated_failures_for_one_email_from_one_address_are_rate_limited(
    api: ApiCall, new_user
) -> None:
    user = new_user()
    limit = get_settings().login_max_failures_per_email
    for _ in range(limit):
        res = api(
            "POST",
            "/api/v1/auth/login",
            body={"email": user["email"], "password": "bad"},
            source_ip="203.0.113.1",
        )
        assert res.status == 401
    res = api(
        "POST",
        "/api/v1/auth/login",
        body={"email": user["email"], "password": user["password"]},
        source_ip="203.0.113.1",
    )
    assert res.status == 429
    assert 0 < int(res.headers["retry-after"]) <= get_settings().login_window_s
    assert res.json()["error"]["code"] == "rate_limited"


def test_repeated_failures_from_one_ip_are_rate_limited(api: ApiCall) -> None:
    limit = get_settings().login_max_failures_per_ip
    ip = "192.0.2.77"
    for i in range(limit):
        res = api(
            "POST",
            "/api/v1/auth/login",
            body={"email": f"spray{i}@example.com", "password": "bad"},
            source_ip=ip,
        )
        assert res.status == 401
    res = api(
        "POST",
        "/api/v1/auth/login",
        body={"email": "fresh@example.com", "password": "bad"},
        source_ip=ip,
    )
    assert res.status == 429
    other_ip = api(
        "POST",
        "/api/v1/auth/login",
        body={"email": "fresh@example.com", "password": "bad"},
        source_ip="192.0.2.78",
    )
    assert other_ip.status == 401


def test_refresh_rotates_and_refuses_a_reused_token(api: ApiCall, new_user) -> None:
    user = new_user()
    first = api("POST", "/api/v1/auth/refresh", body={"refresh_token": user["refresh_token"]})
    assert first.status == 200
    pair = first.json()
    assert pair["refresh_token"] != user["refresh_token"]
    assert api("GET", "/api/v1/auth/me", token=pair["access_token"]).status == 200

    reused = api("POST", "/api/v1/auth/refresh", body={"refresh_token": user["refresh_token"]})
    assert reused.status == 401
    assert reused.headers["www-authenticate"].startswith("Bearer")
    # Reuse revokes the whole family: the token issued by the first rotation dies too.
    after = api("POST", "/api/v1/auth/refresh", body={"refresh_token": pair["refresh_token"]})
    assert after.status == 401


def test_an_access_token_is_not_a_refresh_token(api: ApiCall, new_user) -> None:
    user = new_user()
    res = api("POST", "/api/v1/auth/refresh", body={"refresh_token": user["access_token"]})
    assert res.status == 401


def test_logout_revokes_the_access_and_refresh_tokens(api: ApiCall, new_user) -> None:
    user = new_user()
    res = api(
        "POST",
        "/api/v1/auth/logout",
        token=user["access_token"],
        body={"refresh_token": user["refresh_token"]},
    )
    assert res.status == 204
    assert api("GET", "/api/v1/auth/me", token=user["access_token"]).status == 401
    refreshed = api("POST", "/api/v1/auth/refresh", body={"refresh_token": user["refresh_token"]})
    assert refreshed.status == 401


def _claims_for(user_id: str, **overrides: object) -> dict[str, object]:
    s = get_settings()
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": user_id,
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "iat": now,
        "exp": now + 60,
        "jti": "x",
        "typ": "access",
    }
    claims.update(overrides)
    return claims


def test_bad_tokens_are_401_with_www_authenticate(api: ApiCall, new_user) -> None:
    user = new_user()
    secret = get_settings().jwt_secret.get_secret_value()
    header, payload, signature = user["access_token"].split(".")
    tampered_sig = ("A" if signature[0] != "A" else "B") + signature[1:]
    bad_tokens = {
        "missing": None,
        "malformed": "not-a-jwt",
        "tampered": f"{header}.{payload}.{tampered_sig}",
        "expired": jwt.encode(
            _claims_for(user["id"], exp=int(time.time()) - 10), secret, algorithm="HS256"
        ),
        "wrong audience": jwt.encode(
            _claims_for(user["id"], aud="someone-else"), secret, algorithm="HS256"
        ),
        "wrong issuer": jwt.encode(_claims_for(user["id"], iss="evil"), secret, algorithm="HS256"),
        "other key": jwt.encode(_claims_for(user["id"]), "x" * 48, algorithm="HS256"),
        "alg none": jwt.encode(_claims_for(user["id"]), None, algorithm="none"),
    }
    for name, token in bad_tokens.items():
        res = api("GET", "/api/v1/projects", token=token)
        assert res.status == 401, name
        assert res.headers["www-authenticate"].startswith("Bearer"), name
        assert res.json()["error"]["code"] == "unauthorized", name
    good = jwt.encode(_claims_for(user["id"]), secret, algorithm="HS256")
    assert api("GET", "/api/v1/projects", token=good).status == 200
