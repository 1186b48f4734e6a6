"""Issue 13, "Found by a probe": each thing an attacker tried, through the real handlers."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from pulse.auth import login_limits
from pulse.settings import get_settings
from tests.integration import test_ingest_pipeline as pipeline
from tests.integration.conftest import ApiCall
from tests.integration.test_ingest_pipeline import drain, events_of, ingest, now_iso, process

# The ingest pipeline's fixtures: the moto stream, and a project with the domain shop.example.
kinesis = pipeline.kinesis
project = pipeline.project

LOGIN = "/api/v1/auth/login"


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


# Ingest 500s -----------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [260, 1000])
def test_deep_properties_are_refused_not_a_500(kinesis, project, depth: int) -> None:
    raw = '{"events":[{"event":"x","properties":' + '{"a":' * depth + "1" + "}" * depth + "}]}"
    res = ingest(None, key=project["api_key"], raw=raw)
    assert res.status in (400, 422), res.body
    assert drain(kinesis) == []


@pytest.mark.parametrize(
    "stamp", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"], ids=["year1", "year9999"]
)
@pytest.mark.parametrize("field", ["timestamp", "sent_at"])
def test_timestamps_at_the_ends_of_time_are_refused_not_a_500(
    kinesis, project, field: str, stamp: str
) -> None:
    body: dict[str, Any] = {"events": [{"event": "x"}]}
    if field == "timestamp":
        body["events"][0]["timestamp"] = stamp
    else:
        body["sent_at"] = stamp
    res = ingest(body, key=project["api_key"])
    assert res.status == 422, res.body
    assert drain(kinesis) == []


@pytest.mark.parametrize(
    "origin", ["https://www.shop-a.example:99999", "https://www.shop.example:abc", "http://[::1"]
)
def test_a_malformed_origin_is_403_not_a_500(kinesis, project, origin: str) -> None:
    res = ingest({"events": [{"event": "x"}]}, key=project["api_key"], origin=origin)
    assert res.status == 403, res.body
    assert drain(kinesis) == []


# Login -----------------------------------------------------------------------------------------


def _login(api: ApiCall, email: str, password: str, ip: str) -> Any:
    return api("POST", LOGIN, body={"email": email, "password": password}, source_ip=ip)


def test_an_attackers_failures_do_not_lock_the_owner_out_from_their_own_address(
    api: ApiCall, new_user
) -> None:
    user = new_user()  # logged in from 198.51.100.7, the owner's address
    for i in range(4 * get_settings().login_max_failures_per_email):
        _login(api, user["email"], "wrong-password-1", f"203.0.113.{i % 200 + 1}")
    for _ in range(get_settings().login_max_failures_per_email):
        _login(api, user["email"], "wrong-password-1", "203.0.113.250")
    res = _login(api, user["email"], user["password"], "198.51.100.7")
    assert res.status == 200, res.body


def test_failures_from_one_address_lock_that_address_for_that_email(api: ApiCall, new_user) -> None:
    user = new_user()
    ip = "203.0.113.9"
    for _ in range(get_settings().login_max_failures_per_email):
        assert _login(api, user["email"], "wrong-password-1", ip).status == 401
    res = _login(api, user["email"], user["password"], ip)
    assert res.status == 429
    assert 0 < int(res.headers["retry-after"]) <= get_settings().login_window_s


def test_an_email_under_attack_from_everywhere_gets_a_short_backoff_not_a_lockout(
    api: ApiCall, new_user
) -> None:
    """Many addresses failing for one email slow it down for a few seconds, and no longer:
    the owner gets in once the backoff has passed, however long the attack goes on."""
    user = new_user()
    for i in range(4 * get_settings().login_max_failures_per_email):
        _login(api, user["email"], "wrong-password-1", f"192.0.2.{i + 1}")
    res = _login(api, user["email"], "wrong-password-1", "198.51.100.60")
    if res.status == 429:
        assert int(res.headers["retry-after"]) <= login_limits.MAX_EMAIL_BACKOFF_S
    login_limits.forget_email_backoff(email=user["email"])  # the backoff has passed
    assert _login(api, user["email"], user["password"], "198.51.100.60").status == 200


def _own_event_loop() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())


def test_twelve_concurrent_wrong_logins_for_one_email_hit_the_limit(api: ApiCall, new_user) -> None:
    from concurrent.futures import ThreadPoolExecutor

    user = new_user()
    ip = "203.0.113.77"
    # Mangum runs the app on the calling thread's event loop: each worker gets its own.
    with ThreadPoolExecutor(max_workers=12, initializer=_own_event_loop) as pool:
        statuses = list(
            pool.map(lambda _: _login(api, user["email"], "wrong-password-1", ip).status, range(12))
        )
    limit = get_settings().login_max_failures_per_email
    assert statuses.count(401) == limit, statuses
    assert statuses.count(429) == 12 - limit, statuses


# Registration ----------------------------------------------------------------------------------


def test_a_taken_email_gets_the_same_answer_as_a_new_one(api: ApiCall, new_user) -> None:
    user = new_user()
    fresh = f"fresh-{uuid.uuid4().hex[:8]}@example.com"
    new = api("POST", "/api/v1/auth/register", body={"email": fresh, "password": "abcdefg-12"})
    taken = api(
        "POST", "/api/v1/auth/register", body={"email": user["email"], "password": "abcdefg-12"}
    )
    assert new.status == taken.status == 202
    assert new.json().keys() == taken.json().keys()
    # The taken email keeps its owner's password.
    assert _login(api, user["email"], "abcdefg-12", "198.51.100.61").status == 401
    assert _login(api, user["email"], user["password"], "198.51.100.61").status == 200


@pytest.fixture
def register_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("PULSE_REGISTER_MAX_PER_IP", "3")
    get_settings.cache_clear()
    yield 3
    monkeypatch.undo()
    get_settings.cache_clear()


def test_registration_is_rate_limited_per_address(api: ApiCall, register_limit: int) -> None:
    ip = "203.0.113.123"
    statuses = [
        api(
            "POST",
            "/api/v1/auth/register",
            body={"email": f"bulk{i}-{uuid.uuid4().hex[:6]}@example.com", "password": "abcdefg-12"},
            source_ip=ip,
        ).status
        for i in range(register_limit + 1)
    ]
    assert statuses[:-1] == [202] * register_limit
    assert statuses[-1] == 429


# Logout ----------------------------------------------------------------------------------------


def test_logout_without_a_refresh_token_ends_the_login(api: ApiCall, new_user) -> None:
    user = new_user()
    assert api("POST", "/api/v1/auth/logout", token=user["access_token"]).status == 204
    res = api("POST", "/api/v1/auth/refresh", body={"refresh_token": user["refresh_token"]})
    assert res.status == 401


def test_a_failed_logout_revokes_nothing(api: ApiCall, new_user) -> None:
    me, other = new_user(), new_user()
    res = api(
        "POST",
        "/api/v1/auth/logout",
        token=me["access_token"],
        body={"refresh_token": other["refresh_token"]},
    )
    assert res.status == 401
    assert api("GET", "/api/v1/auth/me", token=me["access_token"]).status == 200
    assert api("GET", "/api/v1/auth/me", token=other["access_token"]).status == 200


def test_refresh_token_reuse_cuts_off_that_logins_access_tokens(api: ApiCall, new_user) -> None:
    user = new_user()
    pair = api("POST", "/api/v1/auth/refresh", body={"refresh_token": user["refresh_token"]})
    assert pair.status == 200
    reused = api("POST", "/api/v1/auth/refresh", body={"refresh_token": user["refresh_token"]})
    assert reused.status == 401
    assert api("GET", "/api/v1/auth/me", token=user["access_token"]).status == 401
    assert api("GET", "/api/v1/auth/me", token=pair.json()["access_token"]).status == 401


# Other endpoints' 5xx --------------------------------------------------------------------------


def _cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


@pytest.fixture
def owned(api: ApiCall, new_user) -> dict[str, Any]:
    user = new_user()
    proj = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "P"}).json()
    return {**proj, "token": user["access_token"]}


@pytest.mark.parametrize(
    "path", ["events", "users/someone", "users", "sessions"], ids=lambda p: p.split("/")[0]
)
@pytest.mark.parametrize(
    "cursor",
    [
        _cursor("2026-11-30T00:00:00+00:00", "not-a-uuid"),
        _cursor("2026-11-30T00:00:00+00:00", "a\x00b"),
        _cursor("0001-01-01T00:00:00+00:00", str(uuid.uuid4())),
        _cursor("9999-12-31T23:59:59+00:00", str(uuid.uuid4())),
        _cursor("0001-01-01T00:00:00+14:00", str(uuid.uuid4())),
        _cursor(1, 2),
        "!!!",
    ],
)
def test_a_hand_made_cursor_is_422(api: ApiCall, owned, path: str, cursor: str) -> None:
    if "not-a-uuid" in base64.urlsafe_b64decode(cursor + "==").decode(errors="replace"):
        if path in ("users", "sessions"):  # their cursors hold a distinct or session id
            pytest.skip("any text is a distinct id or a session id")
    res = api(
        "GET",
        f"/api/v1/analytics/{owned['id']}/{path}",
        token=owned["token"],
        query=f"cursor={quote(cursor)}",
    )
    assert res.status == 422, res.body


@pytest.mark.parametrize(
    "path, query",
    [
        ("events", "event=a%00b"),
        ("events", "session_id=a%00b"),
        ("events", "distinct_id=a%00b"),
        ("overview", "event=a%00b"),
        ("timeseries", "event=a%00b"),
        ("users/a%00b", ""),
    ],
)
def test_a_nul_in_a_parameter_is_422(api: ApiCall, owned, path: str, query: str) -> None:
    res = api("GET", f"/api/v1/analytics/{owned['id']}/{path}", token=owned["token"], query=query)
    assert res.status == 422, res.body


def test_a_nul_in_the_login_email_is_refused(api: ApiCall) -> None:
    res = api("POST", LOGIN, body={"email": "a\x00@example.com", "password": "x"})
    assert res.status in (401, 422), res.body


def test_a_nul_in_a_project_name_is_422(api: ApiCall, owned) -> None:
    for method, path in (
        ("POST", "/api/v1/projects"),
        ("PATCH", f"/api/v1/projects/{owned['id']}"),
    ):
        res = api(method, path, token=owned["token"], body={"name": "a\x00b"})
        assert res.status == 422, res.body


@pytest.mark.parametrize(
    "start, end",
    [
        ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z"),
        ("0001-01-01T00:00:00+14:00", "0001-01-02T00:00:00Z"),
        ("9999-12-30T00:00:00Z", "9999-12-31T23:59:59Z"),
        ("9999-12-31T00:00:00-12:00", "9999-12-31T23:00:00-12:00"),
    ],
)
@pytest.mark.parametrize("path", ["overview", "timeseries", "top-events", "events", "sessions"])
def test_a_range_near_year_1_or_9999_is_422(
    api: ApiCall, owned, path: str, start: str, end: str
) -> None:
    res = api(
        "GET",
        f"/api/v1/analytics/{owned['id']}/{path}",
        token=owned["token"],
        query=f"from={quote(start)}&to={quote(end)}",
    )
    assert res.status == 422, res.body


# Deleting a project ----------------------------------------------------------------------------


def test_events_in_the_stream_for_a_deleted_project_are_not_stored(
    kinesis, project, api: ApiCall, db
) -> None:
    res = ingest({"events": [{"event": "late"}]}, key=project["api_key"])
    assert res.status == 202
    assert api("DELETE", f"/api/v1/projects/{project['id']}", token=project["token"]).status == 204
    assert process(drain(kinesis)) == {"batchItemFailures": []}
    assert events_of(db, project["id"]) == []
    for table in ("rollup_dirty_hours", "presence_hourly", "session_hourly"):
        count = db.execute(
            f"SELECT count(*) FROM {table} WHERE project_id = %s", (project["id"],)
        ).fetchone()
        assert count == (0,), table


def test_a_delete_running_while_the_processor_writes_leaves_no_event(
    kinesis, project, database: str, db
) -> None:
    """The delete has removed the project and its events but not committed yet when the
    processor writes: the write waits for it, then finds the project gone."""
    import threading

    import psycopg

    assert ingest({"events": [{"event": "racing"}]}, key=project["api_key"]).status == 202
    records = drain(kinesis)
    with psycopg.connect(database) as deleting:
        deleting.execute("DELETE FROM projects WHERE id = %s", (project["id"],))
        deleting.execute("DELETE FROM events WHERE project_id = %s", (project["id"],))
        results: list[Any] = []
        writer = threading.Thread(target=lambda: results.append(process(records)))
        writer.start()
        writer.join(timeout=1.0)
        assert writer.is_alive()  # waiting for the delete's lock on the project
        deleting.commit()
    writer.join(timeout=10)
    assert results == [{"batchItemFailures": []}]
    assert events_of(db, project["id"]) == []
    assert db.execute(
        "SELECT count(*) FROM rollup_dirty_hours WHERE project_id = %s", (project["id"],)
    ).fetchone() == (0,)


def test_deleting_a_project_leaves_nothing_in_redis_either(kinesis, project, api: ApiCall) -> None:
    from pulse.cache import get_redis
    from pulse.processor import live

    assert ingest({"events": [{"event": "seen"}]}, key=project["api_key"]).status == 202
    assert process(drain(kinesis)) == {"batchItemFailures": []}
    redis = get_redis()
    pattern = f"*{project['id']}*"
    assert list(redis.scan_iter(match=pattern))  # live counters and recent events
    assert api("DELETE", f"/api/v1/projects/{project['id']}", token=project["token"]).status == 204
    assert redis.llen(live.recent_key(project["id"])) == 0
    assert [k for k in redis.scan_iter(match=pattern) if "apikey" not in k] == []


def test_the_dashboard_api_grants_no_cross_origin_access(api: ApiCall, new_user) -> None:
    """The dashboard reaches the API on its own origin (CloudFront forwards /api/*): no CORS
    grant at all, so never ``*`` with credentials."""
    user = new_user()
    evil = {"origin": "https://evil.example"}
    for method, token in (("GET", user["access_token"]), ("OPTIONS", None)):
        res = api(method, "/api/v1/projects", token=token, headers=evil)
        assert "access-control-allow-origin" not in res.headers, method
        assert "access-control-allow-credentials" not in res.headers, method


# Small ones ------------------------------------------------------------------------------------


def test_a_distinct_id_with_a_slash_can_be_looked_up(kinesis, project, api: ApiCall) -> None:
    body = {"events": [{"event": "x", "distinct_id": "team/alice"}]}
    assert ingest(body, key=project["api_key"]).status == 202
    assert process(drain(kinesis)) == {"batchItemFailures": []}
    res = api(
        "GET",
        f"/api/v1/analytics/{project['id']}/users/{quote('team/alice', safe='')}",
        token=project["token"],
    )
    assert res.status == 200, res.body
    assert res.json()["distinct_id"] == "team/alice"


def test_the_api_answers_with_security_headers(api: ApiCall, new_user) -> None:
    user = new_user()
    for res in (
        api("GET", "/api/v1/auth/me", token=user["access_token"]),
        api("GET", "/api/v1/no-such-route"),
    ):
        assert res.headers["x-content-type-options"] == "nosniff"
        assert res.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in res.headers["content-security-policy"]


SECRET = "card-4111111111111111"


def _record(project_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "project_id": project_id,
        "received_at": datetime.now(UTC).isoformat(),
        "events": [
            {
                "id": str(uuid.uuid4()),
                "event": "x",
                "properties": {"card": SECRET},
                "timestamp": now_iso(),
            }
        ],
        **overrides,
    }


def _run_processor(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    from pulse.handlers.processor import handler
    from tests.apigw import LambdaContextStub
    from tests.kinesis_events import stream_event

    return handler(stream_event([json.dumps(p).encode() for p in payloads]), LambdaContextStub())


def _logged(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged, as the Lambda's log lines show it (the Powertools JSON, with its
    extras and any traceback) and as plain text."""
    from pulse.observability import logger

    out = capfd.readouterr()
    lines = [logger.registered_formatter.format(r) for r in caplog.records]
    extras = [repr(vars(r)) for r in caplog.records]
    return "\n".join([out.out, out.err, caplog.text, *lines, *extras])


def test_a_record_the_database_refuses_is_logged_without_its_values(
    project, db, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    record = _record(project["id"])
    record["events"][0]["properties"]["k"] = "a\x00b"  # what ingest would have refused
    assert len(_run_processor([record])["batchItemFailures"]) == 1
    assert SECRET not in _logged(capfd, caplog)


def test_a_failed_write_is_logged_without_the_rows_the_driver_quotes(
    project, db, monkeypatch, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Postgres ends an error during a COPY (a statement timeout, say) with the line it was
    reading: the processor's log line must not pass it on."""
    import psycopg

    from pulse.exceptions import DataLayerError
    from pulse.processor import service

    def timing_out(chunks: Any, **_: Any) -> Any:
        for _chunk in chunks:
            pass
        try:
            raise psycopg.errors.QueryCanceled(
                "canceling statement due to statement timeout\nCONTEXT: COPY events, line 1,"
                f' column properties: "{{""card"": ""{SECRET}""}}"'
            )
        except psycopg.Error as exc:
            raise DataLayerError("database error: QueryCanceled") from exc

    monkeypatch.setattr(service, "stream_events", timing_out)
    caplog.set_level(logging.DEBUG)
    assert len(_run_processor([_record(project["id"])])["batchItemFailures"]) == 1
    logged = _logged(capfd, caplog)
    assert "bulk write failed" in logged and "QueryCanceled" in logged
    assert SECRET not in logged


def test_a_malformed_record_is_logged_without_its_values(
    project, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = _run_processor([_record(project["id"], v=SECRET)])
    assert len(result["batchItemFailures"]) == 1
    assert SECRET not in _logged(capfd, caplog)
