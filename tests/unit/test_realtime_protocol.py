"""The WebSocket protocol: message splitting and size limits, client messages, event shapes."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import orjson
import pytest

from localcloud.ws_gateway import RouteSelector, _connect_response
from pulse.data.events import feed_item_json
from pulse.exceptions import InvalidInputError, MalformedRequestError
from pulse.realtime import protocol
from pulse.realtime.events import WebSocketRequest
from pulse.wiring import WebSocketRoute
from tests.apigw import load_fixture

PROJECT = "6f1c8e2a-0a5e-4d0b-9a53-2f7f8a1f3c11"


def feed_item(size: int = 0, name: str = "page_view") -> str:
    props = json.dumps({"pad": "p" * size}) if size else "{}"
    ts = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
    row = (PROJECT, str(uuid.uuid4()), name, "u1", props, "s1", "/x", None, None, None, ts, ts)
    return feed_item_json(row)


def decode(messages: list[bytes]) -> list[dict]:
    return [orjson.loads(m) for m in messages]


def test_a_small_batch_is_one_message_with_every_event_in_order() -> None:
    items = [feed_item() for _ in range(5)]
    (message,) = decode(protocol.events_messages(PROJECT, items))
    assert message["type"] == "events" and message["project_id"] == PROJECT
    assert [e["uuid"] for e in message["events"]] == [json.loads(i)["uuid"] for i in items]
    assert set(message["events"][0]) == {
        "uuid",
        "event",
        "properties",
        "distinct_id",
        "session_id",
        "page_url",
        "timestamp",
    }
    assert "backfill" not in message


def test_a_batch_over_a_frame_is_split_into_frames_losing_nothing() -> None:
    # Given 300 events of ~600 bytes (~200 KB in all)
    items = [feed_item(500) for _ in range(300)]
    # When packed into messages
    messages = protocol.events_messages(PROJECT, items)
    # Then each fits a 32 KB frame, and together they hold every event once, in order
    assert len(messages) >= 6
    assert all(len(m) <= protocol.FRAME_BYTES for m in messages)
    uuids = [e["uuid"] for m in decode(messages) for e in m["events"]]
    assert uuids == [json.loads(i)["uuid"] for i in items]
    # and are filled: no two neighbours could have been one message
    sizes = [len(m) for m in messages]
    assert all(a + b > protocol.FRAME_BYTES for a, b in zip(sizes, sizes[1:], strict=False))


def test_an_event_larger_than_a_frame_goes_alone_and_whole() -> None:
    small, big, small2 = feed_item(), feed_item(40 * 1024), feed_item()
    messages = protocol.events_messages(PROJECT, [small, big, small2])
    assert len(messages) == 3
    middle = decode(messages)[1]
    assert protocol.FRAME_BYTES < len(messages[1]) <= protocol.MESSAGE_BYTES
    assert middle["events"][0]["properties"]["pad"] == "p" * 40 * 1024
    assert "truncated" not in middle["events"][0]


def test_an_event_over_the_message_limit_loses_its_properties_with_a_marker() -> None:
    huge = feed_item(200 * 1024)
    (message,) = protocol.events_messages(PROJECT, [huge])
    assert len(message) <= protocol.MESSAGE_BYTES
    (event,) = orjson.loads(message)["events"]
    assert event["properties"] == {} and event["truncated"] is True
    assert event["uuid"] == json.loads(huge)["uuid"] and event["event"] == "page_view"


def test_an_event_that_cannot_fit_even_without_properties_is_dropped() -> None:
    huge_name, fine = feed_item(name="n" * (200 * 1024)), feed_item()
    (message,) = decode(protocol.events_messages(PROJECT, [huge_name, fine]))
    assert [e["uuid"] for e in message["events"]] == [json.loads(fine)["uuid"]]


def test_limits_can_be_given_and_backfill_is_marked() -> None:
    items = [feed_item(100) for _ in range(20)]
    messages = protocol.events_messages(PROJECT, items, frame_bytes=1024, backfill=True)
    assert all(len(m) <= 1024 for m in messages)
    assert all(m["backfill"] is True for m in decode(messages))
    assert sum(len(m["events"]) for m in decode(messages)) == 20


def test_no_events_no_messages() -> None:
    assert protocol.events_messages(PROJECT, []) == []


def test_server_messages_echo_the_request_id() -> None:
    assert orjson.loads(protocol.pong("7")) == {"type": "pong", "id": "7"}
    assert orjson.loads(protocol.pong()) == {"type": "pong"}
    err = orjson.loads(protocol.error("unknown_action", "no", request_id="a", action="x"))
    assert err == {
        "type": "error",
        "code": "unknown_action",
        "message": "no",
        "action": "x",
        "id": "a",
    }
    counters = orjson.loads(
        protocol.counters(PROJECT, hour="h", events=3, sessions=2, by_event={"a": 3})
    )
    assert counters == {
        "type": "counters",
        "project_id": PROJECT,
        "hour": "h",
        "events": 3,
        "sessions": 2,
        "by_event": {"a": 3},
    }


@pytest.mark.parametrize("body", [None, "", "not json", "[1,2]", '"ping"'])
def test_a_message_that_is_not_a_json_object_is_malformed(body: str | None) -> None:
    with pytest.raises(MalformedRequestError):
        protocol.parse_client_message(body)


@pytest.mark.parametrize(
    "body",
    [
        "{}",
        '{"action": ""}',
        '{"action": 5}',
        '{"action": "backfill", "limit": 0}',
        '{"action": "backfill", "limit": 101}',
        '{"action": "subscribe", "project_id": "nope"}',
    ],
)
def test_a_message_with_wrong_fields_is_invalid(body: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        protocol.parse_client_message(body)
    assert not isinstance(raised.value, MalformedRequestError)
    assert raised.value.details


def test_a_valid_message_parses_with_defaults() -> None:
    msg = protocol.parse_client_message(f'{{"action":"backfill","project_id":"{PROJECT}"}}')
    assert (msg.action, str(msg.project_id), msg.limit, msg.id) == (
        "backfill",
        PROJECT,
        protocol.DEFAULT_BACKFILL,
        None,
    )
    assert protocol.parse_client_message('{"action":"whatever","extra":1}').action == "whatever"


def test_requests_read_from_the_real_event_shapes() -> None:
    connect = WebSocketRequest.from_event(load_fixture("websocket_connect.json"))
    assert (connect.event_type, connect.route_key) == ("CONNECT", "$connect")
    assert connect.connection_id == "BFHPhfCWIAMCKlQ="
    assert connect.query["project_id"] == "00000000-0000-0000-0000-000000000000"
    assert (connect.stage, connect.source_ip) == ("live", "198.51.100.7")
    assert connect.domain_name == "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"

    message = WebSocketRequest.from_event(load_fixture("websocket_message.json"))
    assert (message.event_type, message.body) == ("MESSAGE", '{"action": "ping"}')
    assert message.query == {}

    disconnect = WebSocketRequest.from_event(load_fixture("websocket_disconnect.json"))
    assert (disconnect.event_type, disconnect.disconnect_status_code) == ("DISCONNECT", 1005)


def test_a_base64_body_is_decoded_and_a_binary_one_is_empty() -> None:
    event = load_fixture("websocket_message.json")
    event.update(body=base64.b64encode(b'{"action":"ping"}').decode(), isBase64Encoded=True)
    assert WebSocketRequest.from_event(event).body == '{"action":"ping"}'
    event["body"] = base64.b64encode(b"\xff\xfe").decode()
    assert WebSocketRequest.from_event(event).body == ""


def test_local_route_selection_follows_the_action() -> None:
    selector = RouteSelector((WebSocketRoute("$default", "ws"), WebSocketRoute("chat", "chat")))
    assert selector.select('{"action":"chat"}').function == "chat"  # type: ignore[union-attr]
    assert selector.select('{"action":"other"}').route_key == "$default"  # type: ignore[union-attr]
    assert selector.select('{"action":"$connect"}').route_key == "$default"  # type: ignore[union-attr]
    assert selector.select("not json").route_key == "$default"  # type: ignore[union-attr]
    assert RouteSelector(()).select('{"action":"chat"}') is None


def test_connect_responses_are_read_as_api_gateway_reads_them() -> None:
    assert _connect_response(None) == (200, {}, b"")
    assert _connect_response({"statusCode": 403, "body": "no"}) == (403, {}, b"no")
    status, headers, body = _connect_response(
        {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "p"}}
    )
    assert (status, headers, body) == (200, {"sec-websocket-protocol": "p"}, b"")
