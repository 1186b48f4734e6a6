"""The visitor's IP behind CloudFront: on `/api/*` a viewer-request function writes
`true-client-ip`, and the origin gets the stack's edge secret in `x-pulse-edge` from Secrets
Manager (a dynamic reference, never the value); the functions that read the header know the
same secret by its ARN (functions/pulse/edge.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from pulse import edge
from pulse_infra import names
from pulse_infra.constructs import hosting
from tests.infrastructure.synthesized import Synthesized, ref_id
from tests.infrastructure.test_hosting import behaviours, distribution, origin


def edge_secret_id(synth: Synthesized) -> str:
    return ref_id(synth.outputs[names.secret_output(names.EDGE_SECRET)]["Value"])


def api_origin(synth: Synthesized) -> dict[str, Any]:
    return origin(synth, behaviours(synth)["/api/*"]["TargetOriginId"])


def test_the_api_origin_gets_the_edge_secret_by_reference(real: Synthesized) -> None:
    headers = {h["HeaderName"]: h["HeaderValue"] for h in api_origin(real)["OriginCustomHeaders"]}
    value = json.dumps(headers[edge.EDGE_SECRET_HEADER])
    # A CloudFormation dynamic reference to this stack's edge secret: the value is resolved at
    # deploy time and never written into the template
    assert "{{resolve:secretsmanager:" in value
    assert edge_secret_id(real) in value
    secret = real.resources[edge_secret_id(real)]["Properties"]
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32
    # and the static origins get no such header
    default = origin(real, distribution(real)["DefaultCacheBehavior"]["TargetOriginId"])
    assert "OriginCustomHeaders" not in default


def test_the_functions_that_read_the_header_know_the_secret_by_arn_only(
    real: Synthesized,
) -> None:
    readers = {fn.name for fn in real.wiring.functions if names.EDGE_SECRET in fn.secrets}
    assert readers == {"api", "ingest"}
    for name, (_, props) in real.functions.items():
        env = props.get("Environment", {}).get("Variables", {})
        assert edge.EDGE_SECRET_SETTING not in env, name  # the value itself never
        if name in readers:
            assert ref_id(env[edge.EDGE_SECRET_ARN_SETTING]) == edge_secret_id(real)
            assert "secretsmanager:GetSecretValue" in real.actions_on(name, edge_secret_id(real))
        else:
            assert edge.EDGE_SECRET_ARN_SETTING not in env, name
            assert not real.actions_on(name, edge_secret_id(real)), name


def test_a_viewer_request_function_writes_the_visitors_address_on_api(real: Synthesized) -> None:
    (association,) = behaviours(real)["/api/*"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    fn = real.resources[ref_id(association["FunctionARN"])]["Properties"]
    assert fn["FunctionCode"] == hosting.CLIENT_IP_FUNCTION.read_text()
    assert fn["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    # It reaches the origin: the behaviour passes every viewer header but Host
    assert behaviours(real)["/api/*"]["OriginRequestPolicyId"] == (
        "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_the_client_ip_function_replaces_what_the_viewer_sent() -> None:
    # Given viewer requests, one forging the header
    events = [
        {"viewer": {"ip": "203.0.113.9"}, "request": {"uri": "/api/v1/x", "headers": {}}},
        {
            "viewer": {"ip": "2001:db8::1"},
            "request": {
                "uri": "/api/v1/x",
                "headers": {
                    "true-client-ip": {"value": "198.51.100.1"},
                    "x-api-key": {"value": "k"},
                },
            },
        },
    ]
    script = (
        hosting.CLIENT_IP_FUNCTION.read_text()
        + "\nconst events = JSON.parse(process.argv[1]);"
        + "\nconsole.log(JSON.stringify(events.map((e) => handler(e).headers)));"
    )
    # When the function handles them
    result = subprocess.run(
        ["node", "-e", script, json.dumps(events)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    # Then the header is the viewer's address, and other headers are untouched
    first, second = json.loads(result.stdout)
    assert first == {"true-client-ip": {"value": "203.0.113.9"}}
    assert second == {"true-client-ip": {"value": "2001:db8::1"}, "x-api-key": {"value": "k"}}
    assert edge.CLIENT_IP_HEADER == "true-client-ip"
