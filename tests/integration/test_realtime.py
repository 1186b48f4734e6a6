"""The "ws" function with real API Gateway WebSocket events, real Postgres and Redis, and the
processor's fan-out, both answering through the local gateway's real management API."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from websockets.sync.client import ClientConnection

from pulse import settings as pulse_settings
from pulse.cache import get_redis
from pulse.data.events import written_items
from pulse.processor import live
from pulse.realtime import fanout, push, registry
from pulse.wiring import WebSocketRoute
from tests.apigw import LambdaContextStub
from tests.integration.conftest import ApiCall, configure_ws
from tests.kinesis_events import stream_event
from tests.ws_support import RunningGateway, running_gateway, wait_until, ws_event


@pytest.fixture
def owner(api: ApiCall, new_user) -> dict[str, Any]:
    """A user with two projects."""
    user = new_user()
    projects = [
        api("POST", "/api/v1/projects", token=user["access_token"], body={"name": n}).json()
        for n in ("Shop", "Blog")
    ]
    return {**user, "projects": projects, "project": projects[0]}


def connect_event(project_id: str | None, token: str | None, connection_id: str) -> dict:
    query = {k: v for k, v in {"project_id": project_id, "token": token}.items() if v is not None}
    return ws_event(
        "connect",
        connection_id=connection_id,
        queryStringParameters=query or None,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} or None,
    )


def message_event(connection_id: str, body: Any) -> dict:
    raw = body if isinstance(body, str) else json.dumps(body)
    return ws_event("message", connection_id=connection_id, body=raw)


def recv(client: ClientConnection, timeout: float = 2.0) -> dict[str, Any]:
    return json.loads(client.recv(timeout=timeout))


# $connect / $disconnect ------------------------------------------------------------------------


def test_connect_registers_the_connection_for_two_hours(ws, owner) -> None:
    conn_id = "BFHPhfCWIAMCKlQ="
    project_id = owner["project"]["id"]
    res = ws(connect_event(project_id, owner["access_token"], conn_id))
    assert res["statusCode"] == 200
    redis = get_redis()
    assert redis.hget(registry.conn_key(conn_id), "user_id") == owner["id"]
    assert redis.smembers(registry.conn_projects_key(conn_id)) == {project_id}
    assert conn_id in registry.listeners([project_id])[project_id]
    for key in (registry.conn_key(conn_id), registry.project_key(project_id)):
        assert 7190 <= redis.ttl(key) <= 7200
    # $disconnect forgets it
    assert ws(ws_event("disconnect", connection_id=conn_id))["statusCode"] == 200
    assert not redis.exists(registry.conn_key(conn_id), registry.conn_projects_key(conn_id))
    assert registry.listeners([project_id]) == {}


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("not-a-jwt", 401), ("refresh", 401), ("other-user", 403)],
)
def test_connect_is_refused_without_a_valid_token_of_the_owner(
    ws, owner, new_user, token, status
) -> None:
    given = {
        None: None,
        "not-a-jwt": "not-a-jwt",
        "refresh": owner["refresh_token"],
        "other-user": new_user()["access_token"],
    }[token]
    conn_id = f"refused{status}{uuid.uuid4().hex[:6]}="
    res = ws(connect_event(owner["project"]["id"], given, conn_id))
    assert res["statusCode"] == status
    assert json.loads(res["body"])["error"]["code"] in ("unauthorized", "forbidden")
    assert not get_redis().exists(registry.conn_key(conn_id))
    assert registry.listeners([owner["project"]["id"]]) == {}


def test_connect_with_a_revoked_token_is_refused(ws, api, owner) -> None:
    api("POST", "/api/v1/auth/logout", token=owner["access_token"], body={})
    res = ws(connect_event(owner["project"]["id"], owner["access_token"], "revoked0000001="))
    assert res["statusCode"] == 401


@pytest.mark.parametrize(("project_id", "status"), [(None, 400), ("nope", 400)])
def test_connect_without_a_project_id_is_a_bad_request(ws, owner, project_id, status) -> None:
    res = ws(connect_event(project_id, owner["access_token"], "noproject00001="))
    assert res["statusCode"] == status


def test_connect_to_a_project_that_does_not_exist_is_forbidden(ws, owner) -> None:
    res = ws(connect_event(str(uuid.uuid4()), owner["access_token"], "ghostproject01="))
    assert res["statusCode"] == 403


# $default ------------------------------------------------------------------------------------


@pytest.fixture
def live_client(
    gateway: RunningGateway, ws, owner
) -> Iterator[tuple[ClientConnection, str, dict[str, Any]]]:
    """A real client on the local gateway, registered by the ws function for the owner's
    first project."""
    client, conn_id = gateway.connect_with_id()
    assert ws(connect_event(owner["project"]["id"], owner["access_token"], conn_id)) == {
        "statusCode": 200
    }
    yield client, conn_id, owner
    client.close()


def test_ping_gets_pong_through_the_management_api(ws, live_client) -> None:
    client, conn_id, _ = live_client
    assert ws(message_event(conn_id, {"action": "ping", "id": "1"})) == {"statusCode": 200}
    assert recv(client) == {"type": "pong", "id": "1"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "dance"}, "unknown_action"),
        ("{not json", "bad_request"),
        ({"action": "backfill", "limit": 1000}, "invalid_input"),
    ],
)
def test_a_bad_message_gets_an_error_and_keeps_the_connection(ws, live_client, body, code) -> None:
    client, conn_id, owner = live_client
    ws(message_event(conn_id, body))
    reply = recv(client)
    assert reply["type"] == "error" and reply["code"] == code
    assert conn_id in registry.listeners([owner["project"]["id"]])[owner["project"]["id"]]
    ws(message_event(conn_id, {"action": "ping"}))
    assert recv(client)["type"] == "pong"


def test_subscribe_to_own_project_then_unsubscribe(ws, live_client) -> None:
    client, conn_id, owner = live_client
    blog = owner["projects"][1]["id"]
    ws(message_event(conn_id, {"action": "subscribe", "project_id": blog, "id": "s"}))
    assert recv(client) == {"type": "subscribed", "project_id": blog, "id": "s"}
    assert conn_id in registry.listeners([blog])[blog]
    ws(message_event(conn_id, {"action": "unsubscribe", "project_id": blog}))
    assert recv(client) == {"type": "unsubscribed", "project_id": blog}
    assert registry.listeners([blog]) == {}


def test_subscribe_to_someone_elses_project_is_refused(ws, api, new_user, live_client) -> None:
    client, conn_id, _ = live_client
    other = new_user()
    theirs = api(
        "POST", "/api/v1/projects", token=other["access_token"], body={"name": "Theirs"}
    ).json()["id"]
    ws(message_event(conn_id, {"action": "subscribe", "project_id": theirs}))
    reply = recv(client)
    assert (reply["type"], reply["code"]) == ("error", "forbidden")
    assert registry.listeners([theirs]) == {}
    ws(message_event(conn_id, {"action": "backfill", "project_id": theirs}))
    assert recv(client)["code"] == "forbidden"


def _row(project_id: str, n: int, ts: datetime | None = None, pad: int = 0) -> tuple:
    ts = ts or datetime.now(UTC)
    props = json.dumps({"n": n, "pad": "x" * pad})
    return (project_id, str(uuid.uuid4()), "page_view", f"u{n}", props, f"s{n % 3}",
            f"/p/{n}", None, "UA", "h" * 32, ts, ts)  # fmt: skip


def test_backfill_sends_the_last_events_oldest_first_and_the_counters(ws, live_client) -> None:
    client, conn_id, owner = live_client
    project_id = owner["project"]["id"]
    rows = [_row(project_id, n) for n in range(10)]
    live.publish(written_items(rows))
    ws(message_event(conn_id, {"action": "backfill", "limit": 4}))
    events, counters = recv(client), recv(client)
    assert events["type"] == "events" and events["backfill"] is True
    assert [e["properties"]["n"] for e in events["events"]] == [6, 7, 8, 9]
    assert counters["type"] == "counters" and counters["project_id"] == project_id
    assert (counters["events"], counters["sessions"]) == (10, 3)
    assert counters["by_event"] == {"page_view": 10}


def test_a_message_from_an_unregistered_connection_says_so(ws, gateway) -> None:
    client, conn_id = gateway.connect_with_id()
    ws(message_event(conn_id, {"action": "backfill"}))
    assert recv(client)["code"] == "not_registered"
    client.close()


def test_a_reply_to_a_vanished_client_forgets_it(ws, gateway, live_client) -> None:
    client, conn_id, owner = live_client
    client.close()
    wait_until(lambda: conn_id not in gateway.gateway.connections)
    ws(message_event(conn_id, {"action": "ping"}))
    assert registry.get(conn_id) is None
    assert registry.listeners([owner["project"]["id"]]) == {}


def test_without_a_setting_replies_go_to_the_events_domain_and_stage(
    monkeypatch, ws, gateway, owner
) -> None:
    # Given no management URL: the endpoint comes from the event (https://{domainName}/{stage})
    configure_ws(monkeypatch, "")
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(push, "post", lambda e, c, d: calls.append((e, c)) or push.PushResult.OK)
    ws(message_event("BFaT_fALIAMCKug=", {"action": "ping"}))
    assert calls == [
        ("https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/live", "BFaT_fALIAMCKug=")
    ]


# Fan-out -------------------------------------------------------------------------------------


def test_a_push_before_the_handshake_completes_does_not_forget_the_connection(
    monkeypatch, ws_handler, owner
) -> None:
    # Given a gateway whose $connect runs the real ws function, and a batch fanned out right
    # after $connect registered the connection, before the gateway completes the handshake
    # (the gateway answers that push GoneException, as API Gateway does)
    project_id = owner["project"]["id"]
    reports: list[fanout.FanoutReport] = []

    class ConnectThenFanOut:
        def invoke(self, event: dict[str, Any], **_: Any) -> Any:
            result = ws_handler(event, LambdaContextStub(function_name="pulse-ws"))
            if event["requestContext"]["eventType"] == "CONNECT":
                reports.append(fanout.fan_out(written_items([_row(project_id, 1)])))
            return result

    routes = (WebSocketRoute("$connect", "ws"),)
    with running_gateway(routes, {"ws": ConnectThenFanOut()}) as running:  # type: ignore[dict-item]
        configure_ws(monkeypatch, running.management_url)
        client, conn_id = running.connect_with_id(
            f"project_id={project_id}&token={owner['access_token']}"
        )
        assert [(r.connections, r.gone) for r in reports] == [(1, 1)]
        # Then the connection stays registered, and the next batch reaches it
        assert registry.listeners([project_id]) == {project_id: [conn_id]}
        report = fanout.fan_out(written_items([_row(project_id, 2)]))
        assert report.delivered == 1
        assert recv(client)["events"][0]["properties"]["n"] == 2
        client.close()
    pulse_settings.get_settings.cache_clear()
    push.reset_clients()


def _register(project_id: str, conn_id: str, *, age_s: int = 60) -> None:
    """Register a connection as its ``$connect`` did ``age_s`` ago (past the handshake)."""
    registry.register(connection_id=conn_id, user_id=str(uuid.uuid4()), project_id=project_id)
    get_redis().hset(registry.conn_key(conn_id), "registered_at", int(time.time()) - age_s)


def test_fan_out_reaches_every_listener_and_forgets_the_gone(gateway) -> None:
    project_id, quiet = str(uuid.uuid4()), str(uuid.uuid4())
    a, a_id = gateway.connect_with_id()
    b, b_id = gateway.connect_with_id()
    other, other_id = gateway.connect_with_id()
    for conn_id in (a_id, b_id):
        _register(project_id, conn_id)
    _register(quiet, other_id)
    _register(project_id, "NeverConnected0=")
    rows = [_row(project_id, n) for n in range(3)]
    live.publish(written_items(rows))
    # When the processor fans out
    report = fanout.fan_out(written_items(rows))
    # Then both listeners get the events, then the counters; the other project's client nothing
    for client in (a, b):
        events, counters = recv(client), recv(client)
        assert [e["uuid"] for e in events["events"]] == [r[1] for r in rows]
        assert counters["type"] == "counters" and counters["events"] == 3
    with pytest.raises(TimeoutError):
        other.recv(timeout=0.2)
    # and the connection API Gateway does not know is forgotten
    assert (report.connections, report.delivered, report.gone) == (3, 2, 1)
    assert sorted(registry.listeners([project_id])[project_id]) == sorted([a_id, b_id])
    assert registry.get("NeverConnected0=") is None
    for client in (a, b, other):
        client.close()


def test_a_vanished_client_is_cleaned_up_on_the_next_push(gateway) -> None:
    project_id = str(uuid.uuid4())
    client, conn_id = gateway.connect_with_id()
    _register(project_id, conn_id)
    client.close()  # the browser tab went away; $disconnect never reached us
    wait_until(lambda: conn_id not in gateway.gateway.connections)
    assert registry.listeners([project_id]) == {project_id: [conn_id]}
    report = fanout.fan_out(written_items([_row(project_id, 1)]))
    assert report.gone == 1
    assert registry.listeners([project_id]) == {}
    assert not get_redis().exists(registry.conn_key(conn_id))


def test_a_big_batch_arrives_split_in_frames(gateway) -> None:
    project_id = str(uuid.uuid4())
    client, conn_id = gateway.connect_with_id()
    _register(project_id, conn_id)
    rows = [_row(project_id, n, pad=400) for n in range(200)]  # ~100 KB
    fanout.fan_out(written_items(rows))
    received: list[dict[str, Any]] = []
    while True:
        raw = client.recv(timeout=2)
        message = json.loads(raw)
        if message["type"] == "counters":
            break
        assert len(raw.encode()) <= 32 * 1024
        received.append(message)
    assert len(received) >= 4
    assert [e["uuid"] for m in received for e in m["events"]] == [r[1] for r in rows]
    client.close()


def test_no_listener_no_push(gateway, monkeypatch) -> None:
    monkeypatch.setattr(push, "post", lambda *a: pytest.fail("pushed with no listener"))
    assert fanout.fan_out(written_items([_row(str(uuid.uuid4()), 1)])).connections == 0


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A management endpoint that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/live"
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    server.close()


def test_a_hanging_endpoint_never_holds_the_fan_out_past_its_deadline(
    monkeypatch, black_hole
) -> None:
    configure_ws(monkeypatch, black_hole, PULSE_WEBSOCKET_FANOUT_DEADLINE_S="0.3")
    project_id = str(uuid.uuid4())
    for n in range(40):
        _register(project_id, f"hanging{n:08d}=")
    started = time.monotonic()
    report = fanout.fan_out(written_items([_row(project_id, 1)]))
    elapsed = time.monotonic() - started
    assert elapsed < 0.3 + 0.2, elapsed
    assert report.delivered == 0 and report.skipped + report.failed == 40
    # nothing is forgotten on a timeout: only a GoneException removes a connection
    assert len(registry.listeners([project_id])[project_id]) == 40
    pulse_settings.get_settings.cache_clear()


def test_the_processor_delivers_to_a_listener_and_a_dead_endpoint_never_fails_it(
    monkeypatch, gateway, owner, db, black_hole
) -> None:
    from pulse.handlers.processor import handler

    project_id = owner["project"]["id"]
    client, conn_id = gateway.connect_with_id()
    _register(project_id, conn_id)
    payload = {
        "v": 1,
        "project_id": project_id,
        "received_at": datetime.now(UTC).isoformat(),
        "events": [
            {"id": str(uuid.uuid4()), "event": "signup", "timestamp": datetime.now(UTC).isoformat()}
        ],
    }
    # A batch through the real processor handler reaches the client
    assert handler(stream_event([payload]), LambdaContextStub()) == {"batchItemFailures": []}
    message = recv(client)
    assert message["events"][0]["event"] == "signup"
    assert orjson.loads(client.recv(timeout=2))["type"] == "counters"
    # With the management API hanging, the batch still succeeds and is written
    configure_ws(monkeypatch, black_hole, PULSE_WEBSOCKET_FANOUT_DEADLINE_S="0.2")
    payload["events"] = [
        {"id": str(uuid.uuid4()), "event": "late", "timestamp": datetime.now(UTC).isoformat()}
    ]
    started = time.monotonic()
    assert handler(stream_event([payload], first_seq=2000), LambdaContextStub()) == {
        "batchItemFailures": []
    }
    assert time.monotonic() - started < 1.0
    count = db.execute("SELECT count(*) FROM events WHERE project_id = %s", (project_id,))
    assert count.fetchone()[0] == 2
    client.close()


def test_counters_go_out_at_most_once_a_second_per_project(gateway) -> None:
    project_id = str(uuid.uuid4())
    client, conn_id = gateway.connect_with_id()
    _register(project_id, conn_id)
    first = fanout.fan_out(written_items([_row(project_id, 1)]))
    second = fanout.fan_out(written_items([_row(project_id, 2)]))
    types = [recv(client)["type"] for _ in range(3)]
    assert types == ["events", "counters", "events"]
    assert (first.messages, second.messages) == (2, 1)
    client.close()


def _pushed_types(client: ClientConnection) -> list[tuple[str, Any]]:
    """What a client received so far: (type, visitors now if that is one)."""
    out = []
    while True:
        try:
            message = recv(client, timeout=0.3)
        except TimeoutError:
            return out
        out.append((message["type"], message.get("visitors")))


def test_a_count_that_dropped_with_time_is_pushed_when_it_rises_again(gateway) -> None:
    project_id = str(uuid.uuid4())
    client, conn_id = gateway.connect_with_id()
    _register(project_id, conn_id)
    # two sessions, one of them about to leave the five-minute window: 2 is pushed
    leaving = _row(project_id, 0, datetime.now(UTC) - timedelta(seconds=299))
    first = [leaving, _row(project_id, 1)]
    live.publish(written_items(first))
    fanout.fan_out(written_items(first))
    assert ("visitors_now", 2) in _pushed_types(client)
    # it leaves (the client asks then, and hears 1), and a new session brings the count back
    # to 2: that is a change for every client, and is pushed
    time.sleep(1.2)
    back = [_row(project_id, 2)]
    live.publish(written_items(back))
    fanout.fan_out(written_items(back))
    assert ("visitors_now", 2) in _pushed_types(client)
    client.close()
