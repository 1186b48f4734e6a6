"""The WebSocket API: the declared routes on their functions, one logged and throttled stage, and
the management API granted to (and configured for) exactly the functions that push."""

from __future__ import annotations

import dataclasses
import json

from aws_cdk.assertions import Template

from pulse.wiring import WEBSOCKET_ROUTE_SELECTION, WIRING
from pulse_infra import names
from pulse_infra.app import build_app, cdk_json_context
from pulse_infra.constructs.websocket_api import MANAGEMENT_URL_SETTING
from tests.infrastructure.conftest import OFFLINE
from tests.infrastructure.synthesized import Synthesized, as_list, ref_id

MANAGE = "execute-api:ManageConnections"


def websocket_api(synth: Synthesized) -> tuple[str, dict]:
    (api_id,) = synth.apis_of_protocol("WEBSOCKET")
    return api_id, synth.resources[api_id]["Properties"]


def test_routes_equal_the_declared_routes_and_target_their_functions(synth: Synthesized) -> None:
    declared = {route.route_key: route.function for route in synth.wiring.websocket_routes}
    assert synth.websocket_routes == declared
    assert {"$connect", "$disconnect", "$default"} <= set(declared)


def test_one_websocket_api_routing_on_the_action_with_a_logged_throttled_stage(
    real: Synthesized,
) -> None:
    api_id, api = websocket_api(real)
    assert api["RouteSelectionExpression"] == WEBSOCKET_ROUTE_SELECTION
    (stage,) = [
        s["Properties"]
        for s in real.of_type("AWS::ApiGatewayV2::Stage").values()
        if ref_id(s["Properties"]["ApiId"]) == api_id
    ]
    assert stage["StageName"] == real.wiring.websocket_stage
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == names.WEBSOCKET_RATE_LIMIT
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    # The connect URL carries the access token: no query string in the access log
    assert not any("querystring" in v.lower() for v in log_format.values())
    assert "$context.connectionId" in log_format.values()


def _references_api_and_stage(value: object, api_id: str, stage: str) -> bool:
    text = json.dumps(value)
    return json.dumps({"Ref": api_id}) in text and f"/{stage}" in text


def test_only_functions_that_push_may_manage_connections_of_this_stage(
    synth: Synthesized,
) -> None:
    api_id, _ = websocket_api(synth)
    stage = synth.wiring.websocket_stage
    for fn in synth.wiring.functions:
        env = synth.functions[fn.name][1].get("Environment", {}).get("Variables", {})
        grants = [
            s
            for s in synth.statements(fn.name)
            if s["Effect"] == "Allow" and MANAGE in as_list(s["Action"])
        ]
        if fn.pushes_to_connections:
            (grant,) = grants
            assert as_list(grant["Action"]) == [MANAGE]
            assert _references_api_and_stage(grant["Resource"], api_id, stage)
            assert json.dumps(grant["Resource"]).endswith('"/' + stage + '/*/@connections/*"]]}')
            assert _references_api_and_stage(env[MANAGEMENT_URL_SETTING], api_id, stage)
        else:
            assert not grants, fn.name
            assert MANAGEMENT_URL_SETTING not in env, fn.name


def test_the_processor_and_the_ws_function_push(real: Synthesized) -> None:
    pushers = {fn.name for fn in real.wiring.functions if fn.pushes_to_connections}
    assert pushers == {"processor", "ws"}


def test_the_websocket_url_output_is_the_stages_wss_url(real: Synthesized) -> None:
    api_id, _ = websocket_api(real)
    value = real.outputs[names.OUTPUT_WEBSOCKET_URL]["Value"]
    text = json.dumps(value)
    assert text.startswith('{"Fn::Join": ["", ["wss://", {"Ref": "' + api_id + '"}')
    assert text.endswith(f'"/{real.wiring.websocket_stage}"]]}}')


def test_without_websocket_routes_there_is_no_websocket_api_and_no_grant() -> None:
    wiring = dataclasses.replace(WIRING, websocket_routes=())
    _, stack = build_app({**cdk_json_context(), **OFFLINE}, wiring=wiring)
    template = json.dumps(Template.from_stack(stack).to_json())
    assert '"WEBSOCKET"' not in template
    assert MANAGE not in template
    assert MANAGEMENT_URL_SETTING not in template
