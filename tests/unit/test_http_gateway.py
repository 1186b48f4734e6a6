"""The local API Gateway's route selection, event shape and response handling."""

from __future__ import annotations

import base64
import json

from localcloud.http_gateway import MatchedRoute, RouteTable, _response_parts, build_event
from pulse.wiring import HttpRoute
from tests.apigw import load_fixture

ROUTES = (
    HttpRoute("ANY", "/api/v1/{proxy+}", "api"),
    HttpRoute("POST", "/api/v1/events/ingest", "ingest"),
    HttpRoute("OPTIONS", "/api/v1/events/ingest", "ingest"),
)


def test_exact_routes_win_over_greedy_ones() -> None:
    table = RouteTable(ROUTES)
    assert table.match("POST", "/api/v1/events/ingest").route.function == "ingest"
    assert table.match("GET", "/api/v1/events/ingest").route.function == "api"
    matched = table.match("GET", "/api/v1/projects/abc")
    assert matched.route.function == "api"
    assert matched.path_parameters == {"proxy": "projects/abc"}
    assert table.match("GET", "/elsewhere") is None
    assert table.match("GET", "/api/v1") is None


def _scope(method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": headers,
        "client": ("203.0.113.9", 50000),
        "http_version": "1.1",
    }


def test_event_has_the_shape_of_a_real_http_api_event() -> None:
    matched = MatchedRoute(ROUTES[0], {"proxy": "projects"})
    scope = _scope(
        "POST",
        "/api/v1/projects",
        b"a=1&a=2&b=",
        [
            (b"Content-Type", b"application/json"),
            (b"X-Many", b"1"),
            (b"x-many", b"2"),
            (b"cookie", b"s=1; t=2"),
        ],
    )
    event = build_event(
        scope=scope, body=b'{"name":"x"}', matched=matched, domain_name="127.0.0.1:8000"
    )
    real = load_fixture("http_api_request.json")
    assert set(real) - {"body"} <= set(event) | {"cookies"}
    assert set(real["requestContext"]) == set(event["requestContext"])
    assert set(real["requestContext"]["http"]) == set(event["requestContext"]["http"])
    assert event["routeKey"] == "ANY /api/v1/{proxy+}"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["headers"]["x-many"] == "1,2"
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["requestContext"]["http"]["sourceIp"] == "203.0.113.9"
    assert event["body"] == '{"name":"x"}' and event["isBase64Encoded"] is False


def test_binary_bodies_are_base64() -> None:
    matched = MatchedRoute(ROUTES[0], {"proxy": "x"})
    scope = _scope("POST", "/api/v1/x", b"", [(b"content-type", b"application/octet-stream")])
    event = build_event(scope=scope, body=b"\x00\xff", matched=matched, domain_name="d")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"


def test_responses_are_read_as_api_gateway_reads_them() -> None:
    status, headers, body = _response_parts(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "cookies": ["a=1"],
            "body": "{}",
            "isBase64Encoded": False,
        }
    )
    assert status == 201 and body == b"{}"
    assert (b"content-type", b"application/json") in headers
    assert (b"set-cookie", b"a=1") in headers
    status, _, body = _response_parts({"hello": "world"})
    assert status == 200 and json.loads(body) == {"hello": "world"}
    _, _, body = _response_parts(
        {"statusCode": 200, "body": base64.b64encode(b"\x01").decode(), "isBase64Encoded": True}
    )
    assert body == b"\x01"
