"""The local WebSocket gateway: a real WebSocket server that emulates API Gateway's contract
(event shapes, handshake refusal, route selection, limits, the @connections management API)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from websockets.exceptions import ConnectionClosed, InvalidStatus

from localcloud.lambdas import LocalFunction
from pulse.wiring import Function, WebSocketRoute
from tests.apigw import load_fixture
from tests.integration import ws_stub
from tests.ws_support import RunningGateway, running_gateway, wait_until

STUB = Function(
    name="ws",
    handler="tests.integration.ws_stub.handler",
    description="stub",
    needs_database=False,
    needs_redis=False,
)
ROUTES = (
    WebSocketRoute("$connect", "ws"),
    WebSocketRoute("$disconnect", "ws"),
    WebSocketRoute("$default", "ws"),
)


def _functions() -> dict[str, LocalFunction]:
    return {"ws": LocalFunction(STUB, "us-east-1")}


@pytest.fixture
def gw() -> Iterator[RunningGateway]:
    ws_stub.EVENTS.clear()
    with running_gateway(ROUTES, _functions()) as running:
        yield running


def management(endpoint: str) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(retries={"total_max_attempts": 1}),
    )


def events_of(route_key: str) -> list[dict[str, Any]]:
    return [e for e in ws_stub.EVENTS if e["requestContext"]["routeKey"] == route_key]


def keys(d: dict[str, Any]) -> set[str]:
    return set(d)


def test_connect_event_has_the_shape_of_a_real_one_and_the_query(gw: RunningGateway) -> None:
    # Given a client with a query string, When it connects
    with gw.connect("project_id=p1&token=t1&token=t2", user_agent_header="probe/1.0"):
        pass
    # Then $connect got an event shaped like API Gateway's, with the query parameters
    (event,) = events_of("$connect")
    real = load_fixture("websocket_connect.json")
    assert keys(event) == keys(real)
    assert keys(event["requestContext"]) == keys(real["requestContext"])
    ctx = event["requestContext"]
    assert ctx["eventType"] == "CONNECT"
    assert ctx["stage"] == "live"
    assert ctx["domainName"] == f"127.0.0.1:{gw.port}"
    assert ctx["identity"] == {"sourceIp": "127.0.0.1"}
    assert len(ctx["connectionId"]) == 16 and ctx["connectionId"].endswith("=")
    assert event["queryStringParameters"] == {"project_id": "p1", "token": "t2"}
    assert event["multiValueQueryStringParameters"]["token"] == ["t1", "t2"]
    assert {k.lower(): v for k, v in event["headers"].items()}["user-agent"] == "probe/1.0"


def test_a_refusing_connect_refuses_the_handshake_with_its_status_and_body(
    gw: RunningGateway,
) -> None:
    for status in (401, 403):
        with pytest.raises(InvalidStatus) as refused:
            gw.connect(f"status={status}")
        assert refused.value.response.status_code == status
        assert json.loads(refused.value.response.body) == {"refused": True}
    # A refused connection never was one: no $disconnect, nothing to manage
    time.sleep(0.1)
    assert not events_of("$disconnect")
    assert not gw.gateway.connections


def test_a_connect_that_raises_is_a_500_handshake(gw: RunningGateway, monkeypatch) -> None:
    monkeypatch.setattr(ws_stub, "handler", lambda e, c: 1 / 0)
    gw.gateway.functions["ws"] = LocalFunction(STUB, "us-east-1")
    with pytest.raises(InvalidStatus) as refused:
        gw.connect()
    assert refused.value.response.status_code == 500


def test_the_subprotocol_the_connect_route_returns_is_accepted(gw: RunningGateway) -> None:
    with gw.connect("protocol=pulse.v1", subprotocols=["pulse.v1"]) as client:
        assert client.subprotocol == "pulse.v1"


def test_messages_go_to_default_with_the_message_shape(gw: RunningGateway) -> None:
    with gw.connect_with_id()[0] as client:
        client.send('{"action": "ping"}')
        client.send(b"\x00\x01binary")
        wait_until(lambda: len(events_of("$default")) == 2)
    text, binary = events_of("$default")
    real = load_fixture("websocket_message.json")
    assert keys(text) == keys(real)
    assert keys(text["requestContext"]) == keys(real["requestContext"])
    assert text["body"] == '{"action": "ping"}' and text["isBase64Encoded"] is False
    assert binary["isBase64Encoded"] is True and binary["body"] == "AAFiaW5hcnk="
    assert text["requestContext"]["messageId"] != binary["requestContext"]["messageId"]


def test_an_action_naming_a_route_selects_it() -> None:
    ws_stub.EVENTS.clear()
    routes = (*ROUTES, WebSocketRoute("chat", "ws"))
    with running_gateway(routes, _functions()) as gw, gw.connect() as client:
        client.send('{"action": "chat"}')
        client.send('{"action": "other"}')
        wait_until(lambda: len(ws_stub.EVENTS) >= 3)
    assert [e["requestContext"]["routeKey"] for e in ws_stub.EVENTS[1:3]] == ["chat", "$default"]


def test_without_a_default_route_an_unrouted_message_gets_forbidden() -> None:
    routes = (WebSocketRoute("$connect", "ws"),)
    with running_gateway(routes, _functions()) as gw, gw.connect_with_id()[0] as client:
        client.send('{"action": "nothing"}')
        reply = json.loads(client.recv(timeout=2))
    assert reply["message"] == "Forbidden"
    assert {"connectionId", "requestId"} <= set(reply)


def test_a_failing_message_handler_sends_an_error_and_keeps_the_connection(
    gw: RunningGateway,
) -> None:
    with gw.connect() as client:
        client.send('{"action": "boom"}')
        assert json.loads(client.recv(timeout=2))["message"] == "Internal server error"
        client.send('{"action": "ping"}')
        wait_until(lambda: len(events_of("$default")) == 2)


def test_deeply_nested_json_goes_to_default_and_keeps_the_connection(gw: RunningGateway) -> None:
    """Route selection reads the body as JSON; nesting too deep to read is not an action (it
    used to drop the connection without a close frame)."""
    nested = "[" * 16_000 + "]" * 16_000  # under the 32 KB frame limit
    with gw.connect() as client:
        client.send(nested)
        client.send('{"action": "ping"}')
        wait_until(lambda: len(events_of("$default")) == 2)
    assert events_of("$default")[0]["body"] == nested


def test_disconnect_event_carries_the_close_code(gw: RunningGateway) -> None:
    client, connection_id = gw.connect_with_id()
    client.close(code=1000, reason="bye")
    wait_until(lambda: len(events_of("$disconnect")) == 1)
    (event,) = events_of("$disconnect")
    real = load_fixture("websocket_disconnect.json")
    assert keys(event) == keys(real)
    assert keys(event["requestContext"]) == keys(real["requestContext"])
    ctx = event["requestContext"]
    assert ctx["connectionId"] == connection_id
    assert (ctx["disconnectStatusCode"], ctx["disconnectReason"]) == (1000, "bye")
    assert connection_id not in gw.gateway.connections


def test_a_frame_over_32_kb_closes_the_connection_with_1009(gw: RunningGateway) -> None:
    client, connection_id = gw.connect_with_id()
    client.send("x" * (32 * 1024 + 1))
    with pytest.raises(ConnectionClosed) as closed:
        client.recv(timeout=2)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    wait_until(lambda: len(events_of("$disconnect")) == 1)
    assert events_of("$disconnect")[0]["requestContext"]["disconnectStatusCode"] == 1009


def test_a_message_up_to_128_kb_in_32_kb_frames_is_delivered_whole(gw: RunningGateway) -> None:
    # Given a 120 KB message sent as 4 frames of at most 32 KB
    body = '{"action":"big","pad":"' + "y" * (120 * 1024 - 30) + '"}'
    frames = [body[i : i + 30 * 1024] for i in range(0, len(body), 30 * 1024)]
    with gw.connect() as client:
        client.send(frames)
        wait_until(lambda: len(events_of("$default")) == 1)
    assert events_of("$default")[0]["body"] == body


def test_a_message_over_128_kb_closes_the_connection_with_1009(gw: RunningGateway) -> None:
    chunk = "z" * (30 * 1024)
    client = gw.connect()
    client.send([chunk] * 5)  # 150 KB, each frame under 32 KB
    with pytest.raises(ConnectionClosed) as closed:
        client.recv(timeout=2)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert not events_of("$default")


def test_the_connection_limit_closes_with_going_away_and_then_it_is_gone() -> None:
    ws_stub.EVENTS.clear()
    with running_gateway(ROUTES, _functions(), max_connection_s=0.3) as gw:
        client, connection_id = gw.connect_with_id()
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # messages do not extend a connection past its limit
                client.send('{"action": "ping"}')
                time.sleep(0.05)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        wait_until(lambda: len(events_of("$disconnect")) == 1)
        with pytest.raises(management(gw.management_url).exceptions.GoneException):
            management(gw.management_url).get_connection(ConnectionId=connection_id)


def test_an_idle_connection_is_closed_and_messages_keep_it_open() -> None:
    with running_gateway(ROUTES, _functions(), idle_timeout_s=0.4) as gw:
        busy, quiet = gw.connect(), gw.connect()
        for _ in range(8):  # 0.8 s, a message every 0.1 s
            busy.send('{"action": "ping"}')
            time.sleep(0.1)
        with pytest.raises(ConnectionClosed) as closed:
            quiet.recv(timeout=1)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        busy.send('{"action": "ping"}')  # still open
        busy.close()


def test_management_api_post_get_delete_through_boto3(gw: RunningGateway) -> None:
    client, connection_id = gw.connect_with_id(user_agent_header="dash/2")
    api = management(gw.management_url)
    # post_to_connection: the client receives the data as a text message
    api.post_to_connection(ConnectionId=connection_id, Data=b'{"type":"pong"}')
    assert client.recv(timeout=2) == '{"type":"pong"}'
    # get_connection
    info = api.get_connection(ConnectionId=connection_id)
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "dash/2"}
    assert info["ConnectedAt"] <= info["LastActiveAt"]
    # delete_connection closes the client, after which the connection is gone
    api.delete_connection(ConnectionId=connection_id)
    with pytest.raises(ConnectionClosed):
        client.recv(timeout=2)
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId=connection_id, Data=b"late")
    wait_until(lambda: len(events_of("$disconnect")) == 1)


def test_management_api_errors(gw: RunningGateway) -> None:
    client, connection_id = gw.connect_with_id()
    api = management(gw.management_url)
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId="Bm9uZXhpc3RlbnQ=", Data=b"x")
    with pytest.raises(api.exceptions.PayloadTooLargeException):
        api.post_to_connection(ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1))
    api.post_to_connection(ConnectionId=connection_id, Data=b"y" * (128 * 1024))
    assert len(client.recv(timeout=2)) == 128 * 1024
    wrong_stage = management(f"http://127.0.0.1:{gw.port}/prod")
    with pytest.raises(wrong_stage.exceptions.ForbiddenException):
        wrong_stage.post_to_connection(ConnectionId=connection_id, Data=b"x")
    client.close()


def test_a_closed_client_is_gone_at_once(gw: RunningGateway) -> None:
    client, connection_id = gw.connect_with_id()
    client.close()
    wait_until(lambda: connection_id not in gw.gateway.connections)
    api = management(gw.management_url)
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId=connection_id, Data=b"x")


def test_connection_ids_with_url_unsafe_characters_reach_their_connection(
    gw: RunningGateway,
) -> None:
    # AWS ids are base64 (``BFaT_fALIAMCKug=``); the path must decode any of them.
    client, connection_id = gw.connect_with_id()
    odd = "ab+/cd==EF_-gh=="
    gw.gateway.connections[odd] = gw.gateway.connections.pop(connection_id)
    management(gw.management_url).post_to_connection(ConnectionId=odd, Data=b"hi")
    assert client.recv(timeout=2) == "hi"
    client.close()


def test_an_unknown_path_on_the_websocket_port_is_refused(gw: RunningGateway) -> None:
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as refused:
        connect(f"{gw.url}/elsewhere", open_timeout=5)
    assert refused.value.response.status_code == 403
    with connect(f"{gw.url}/live", open_timeout=5):
        pass
