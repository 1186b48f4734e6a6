"""The HTTP API serves exactly the declared routes, each on its function."""

from __future__ import annotations

from tests.infrastructure.synthesized import Synthesized, ref_id


def test_routes_equal_the_declared_routes_and_target_their_functions(
    synth: Synthesized,
) -> None:
    declared = {route.route_key: route.function for route in synth.wiring.http_routes}
    assert synth.routes == declared


def test_one_http_api_with_an_auto_deployed_logged_throttled_stage(real: Synthesized) -> None:
    (api_id,) = real.apis_of_protocol("HTTP")
    (stage,) = [
        s
        for s in real.of_type("AWS::ApiGatewayV2::Stage").values()
        if ref_id(s["Properties"]["ApiId"]) == api_id
    ]
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert "DestinationArn" in props["AccessLogSettings"]
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


def test_api_gateway_may_invoke_each_routed_function(synth: Synthesized) -> None:
    allowed = {
        synth.function_of(p["Properties"]["FunctionName"])
        for p in synth.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    }
    routed = synth.wiring.http_routes + synth.wiring.websocket_routes
    assert allowed == {route.function for route in routed}
