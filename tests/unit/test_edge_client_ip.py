"""The visitor's IP behind the stack's CloudFront distribution (pulse.edge): CloudFront's
``true-client-ip`` is believed only when the request carries the stack's edge secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from starlette.requests import Request

from pulse import edge
from pulse.api.deps import source_ip
from tests.apigw import http_event

SECRET = "s3cr3t-edge-value-0123456789abcdef0123456789abcdef0123456789ab"
EDGE_IP = "130.176.1.10"  # what API Gateway sees: a CloudFront edge
VISITOR = "203.0.113.50"


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(edge.EDGE_SECRET_ARN_SETTING, raising=False)
    monkeypatch.delenv(edge.EDGE_SECRET_SETTING, raising=False)
    edge.reset()
    yield
    edge.reset()


def through_cloudfront(
    *, secret: str | None = SECRET, viewer: str | None = VISITOR, source: str = EDGE_IP
) -> dict[str, Any]:
    headers = {}
    if secret is not None:
        headers[edge.EDGE_SECRET_HEADER] = secret
    if viewer is not None:
        headers[edge.CLIENT_IP_HEADER] = viewer
    return http_event("POST", "/api/v1/events/ingest", headers=headers, source_ip=source)


def test_a_request_through_our_distribution_is_the_visitors() -> None:
    assert edge.client_ip(through_cloudfront(), SECRET) == VISITOR


def test_ipv6_visitors_are_normalised() -> None:
    event = through_cloudfront(viewer=" 2001:DB8:0:0::7 ")
    assert edge.client_ip(event, SECRET) == "2001:db8::7"


@pytest.mark.parametrize(
    "event",
    [
        through_cloudfront(secret=None),  # a direct call naming an IP of its choice
        through_cloudfront(secret="guessed"),
        through_cloudfront(secret=SECRET[:-1]),
        through_cloudfront(secret=SECRET + "x"),
    ],
    ids=["no secret", "wrong secret", "prefix", "longer"],
)
def test_without_the_secret_the_header_is_ignored(event: dict[str, Any]) -> None:
    assert edge.client_ip(event, SECRET) == EDGE_IP


@pytest.mark.parametrize("viewer", [None, "", "not-an-ip", "1.2.3.4, 5.6.7.8", "1.2.3.4:443"])
def test_a_missing_or_malformed_viewer_address_falls_back_to_the_source(
    viewer: str | None,
) -> None:
    assert edge.client_ip(through_cloudfront(viewer=viewer), SECRET) == EDGE_IP


def test_with_no_secret_configured_it_is_the_source_ip_whatever_the_headers() -> None:
    assert edge.client_ip(through_cloudfront(), None) == EDGE_IP
    assert edge.client_ip(through_cloudfront(), "") == EDGE_IP
    assert edge.client_ip({}, SECRET) == ""


def test_the_secret_comes_from_the_environment_when_no_arn_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert edge.edge_secret() is None
    monkeypatch.setenv(edge.EDGE_SECRET_SETTING, SECRET)
    assert edge.edge_secret() == SECRET


def test_the_secret_is_read_from_secrets_manager_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        arn = sm.create_secret(Name="pulse/edge-secret", SecretString=SECRET)["ARN"]
        monkeypatch.setenv(edge.EDGE_SECRET_ARN_SETTING, arn)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        assert edge.edge_secret() == SECRET
        sm.put_secret_value(SecretId=arn, SecretString="changed")
        assert edge.edge_secret() == SECRET  # read once per execution environment


def test_an_unreadable_secret_means_source_ip_and_is_never_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv(
            edge.EDGE_SECRET_ARN_SETTING,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:pulse/missing-AbCdEf",
        )
        with caplog.at_level(logging.WARNING):
            assert edge.edge_secret() is None
            # and the next request does not wait on Secrets Manager again at once
            assert edge.edge_secret() is None
    out = capsys.readouterr()
    assert "edge secret unavailable" in out.out + out.err + caplog.text
    assert edge.client_ip(through_cloudfront(), edge.edge_secret()) == EDGE_IP


def test_the_api_counts_logins_under_the_visitors_ip(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the API behind our distribution, with the edge secret configured
    monkeypatch.setenv(edge.EDGE_SECRET_SETTING, SECRET)

    def request(event: dict[str, Any]) -> Request:
        return Request({"type": "http", "aws.event": event, "headers": []})

    # Then the login limits see the visitor, and a direct caller its own address
    assert source_ip(request(through_cloudfront())) == VISITOR
    assert source_ip(request(through_cloudfront(secret=None, source="198.51.100.9"))) == (
        "198.51.100.9"
    )
