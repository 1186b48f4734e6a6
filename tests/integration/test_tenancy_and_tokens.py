"""Issue 13, abuse: one user against another's project (every endpoint of the OpenAPI
document, so that a new endpoint is covered without a change here), every kind of bad token,
and the rate limits under concurrent requests. The WebSocket side of tenancy (connect,
subscribe, backfill) is in test_realtime.py."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jwt
import pytest

from pulse.settings import get_settings
from tests.apigw import http_event
from tests.integration import test_ingest_pipeline as pipeline
from tests.integration.conftest import ApiCall
from tests.integration.test_ingest_pipeline import drain, events_of, ingest, process

kinesis = pipeline.kinesis

OPENAPI = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
# Every operation of the document that names a project.
PROJECT_OPERATIONS = [
    (method.upper(), path)
    for path, item in OPENAPI["paths"].items()
    for method in item
    if "{project_id}" in path
]
BODIES = {"PATCH": {"name": "taken over", "domain": None}, "POST": {}}


@pytest.fixture
def victim(api: ApiCall, new_user) -> dict[str, Any]:
    user = new_user()
    project = api(
        "POST", "/api/v1/projects", token=user["access_token"], body={"name": "Victim's"}
    ).json()
    return {**user, "project": project}


@pytest.fixture
def attacker(api: ApiCall, new_user) -> dict[str, Any]:
    user = new_user()
    project = api(
        "POST", "/api/v1/projects", token=user["access_token"], body={"name": "Attacker's"}
    ).json()
    return {**user, "project": project}


def test_the_document_has_project_operations_to_check() -> None:
    assert len(PROJECT_OPERATIONS) >= 14  # projects (4) and analytics (10)


@pytest.mark.parametrize("method, path", PROJECT_OPERATIONS)
def test_another_users_token_gets_404_and_changes_nothing(
    api: ApiCall, victim, attacker, method: str, path: str
) -> None:
    url = (
        path.replace("{project_id}", victim["project"]["id"])
        .replace("{distinct_id}", "u1")
        .replace("{report}", "overview")
        .replace("{link_id}", "00000000-0000-4000-8000-000000000000")
    )
    res = api(method, url, token=attacker["access_token"], body=BODIES.get(method))
    assert res.status == 404, res.body
    assert res.json()["error"]["code"] == "not_found"
    # The project is as it was, key included.
    mine = api("GET", f"/api/v1/projects/{victim['project']['id']}", token=victim["access_token"])
    assert mine.status == 200
    assert mine.json() == victim["project"]


def test_an_api_key_is_not_a_bearer_token(api: ApiCall, victim) -> None:
    res = api(
        "GET", f"/api/v1/projects/{victim['project']['id']}", token=victim["project"]["api_key"]
    )
    assert res.status == 401


def test_another_projects_key_writes_only_to_its_own_project(kinesis, victim, attacker, db) -> None:
    body = {
        "api_key": attacker["project"]["api_key"],
        "project_id": victim["project"]["id"],  # not a field ingest reads
        "events": [{"event": "forged", "properties": {"project_id": victim["project"]["id"]}}],
    }
    assert ingest(body).status == 202
    assert process(drain(kinesis)) == {"batchItemFailures": []}
    assert events_of(db, victim["project"]["id"]) == []
    assert [e["event"] for e in events_of(db, attacker["project"]["id"])] == ["forged"]


# Tokens ------------------------------------------------------------------------------------------


def _claims(user_id: str, **overrides: Any) -> dict[str, Any]:
    s = get_settings()
    now = int(time.time())
    claims = {
        "sub": user_id,
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "iat": now,
        "exp": now + 60,
        "jti": "forged",
        "typ": "access",
    }
    claims.update(overrides)
    return claims


def _unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def _bad_tokens(user: dict[str, Any]) -> dict[str, str]:
    secret = get_settings().jwt_secret.get_secret_value()
    uid = user["id"]
    good_sig = jwt.encode(_claims(uid), secret, algorithm="HS256")
    header, payload, signature = good_sig.split(".")
    tampered = _claims(uid, sub="00000000-0000-0000-0000-000000000000")
    tampered_payload = base64.urlsafe_b64encode(json.dumps(tampered).encode()).rstrip(b"=")
    return {
        "expired": jwt.encode(_claims(uid, exp=int(time.time()) - 5), secret, algorithm="HS256"),
        "wrong signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "payload changed after signing": f"{header}.{tampered_payload.decode()}.{signature}",
        "signed with another key": jwt.encode(_claims(uid), "k" * 48, algorithm="HS256"),
        "alg none": _unsigned(_claims(uid), {"alg": "none", "typ": "JWT"}),
        "alg None spelled otherwise": _unsigned(_claims(uid), {"alg": "nOnE", "typ": "JWT"}),
        "algorithm swap to HS512": jwt.encode(_claims(uid), secret, algorithm="HS512"),
        "algorithm swap to HS384": jwt.encode(_claims(uid), secret, algorithm="HS384"),
        "wrong audience": jwt.encode(_claims(uid, aud="other-app"), secret, algorithm="HS256"),
        "wrong issuer": jwt.encode(_claims(uid, iss="evil"), secret, algorithm="HS256"),
        "no expiry": jwt.encode(
            {k: v for k, v in _claims(uid).items() if k != "exp"}, secret, algorithm="HS256"
        ),
        "not a uuid subject": jwt.encode(_claims(uid, sub="admin"), secret, algorithm="HS256"),
        "refresh token used as access": user["refresh_token"],
        "not a JWT": "abc.def",
    }


def test_bad_access_tokens_are_refused(api: ApiCall, new_user) -> None:
    user = new_user()
    for name, token in _bad_tokens(user).items():
        res = api("GET", "/api/v1/auth/me", token=token)
        assert res.status == 401, name
        assert res.json()["error"]["code"] == "unauthorized", name
    assert api("GET", "/api/v1/auth/me", token=user["access_token"]).status == 200


def test_an_access_token_used_as_a_refresh_token_is_refused(api: ApiCall, new_user) -> None:
    user = new_user()
    res = api("POST", "/api/v1/auth/refresh", body={"refresh_token": user["access_token"]})
    assert res.status == 401


def test_a_reused_refresh_token_is_refused_and_ends_the_login(api: ApiCall, new_user) -> None:
    user = new_user()
    assert (
        api("POST", "/api/v1/auth/refresh", body={"refresh_token": user["refresh_token"]}).status
        == 200
    )
    again = api("POST", "/api/v1/auth/refresh", body={"refresh_token": user["refresh_token"]})
    assert again.status == 401
    assert api("GET", "/api/v1/auth/me", token=user["access_token"]).status == 401


def test_tokens_after_logout_are_refused(api: ApiCall, new_user) -> None:
    user = new_user()
    assert api("POST", "/api/v1/auth/logout", token=user["access_token"]).status == 204
    assert api("GET", "/api/v1/auth/me", token=user["access_token"]).status == 401
    res = api("POST", "/api/v1/auth/refresh", body={"refresh_token": user["refresh_token"]})
    assert res.status == 401


# Rate limits under concurrent requests -----------------------------------------------------------


def _own_event_loop() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())  # Mangum runs on the thread's loop


def test_concurrent_wrong_logins_from_many_threads_check_at_most_the_limit(
    api: ApiCall, new_user
) -> None:
    user = new_user()
    ip = "203.0.113.99"
    with ThreadPoolExecutor(max_workers=16, initializer=_own_event_loop) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    api(
                        "POST",
                        "/api/v1/auth/login",
                        body={"email": user["email"], "password": "wrong-password-1"},
                        source_ip=ip,
                    ).status
                ),
                range(40),
            )
        )
    assert statuses.count(401) == get_settings().login_max_failures_per_email, statuses
    assert statuses.count(429) == 40 - get_settings().login_max_failures_per_email


def test_the_ingest_limit_holds_under_concurrent_requests(kinesis, victim) -> None:
    from pulse.handlers import ingest as ingest_handler
    from pulse.ingest.service import handle

    tight = dataclasses.replace(ingest_handler.settings, rate_limit_per_minute=10)
    event = http_event(
        "POST",
        "/api/v1/events/ingest",
        body={"events": [{"event": "x"}]},
        headers={"x-api-key": victim["project"]["api_key"]},
    )
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda _: handle(event, tight)["statusCode"], range(40)))
    # The minute's window may turn over during the run: at most one more window's worth.
    assert 10 <= statuses.count(202) <= 20, statuses
    assert statuses.count(202) + statuses.count(429) == 40, statuses
    assert len(drain(kinesis)) == statuses.count(202)
