"""The HTTP API serves exactly the declared routes, each on its function."""

from __future__ import annotations

from tests.infrastructure.synthesized import Synthesized


def test_routes_equal_the_declared_routes_and_target_their_functions(
    synth: Synthesized,
) -> None:
    declared = {route.route_key: route.function for route in synth.wiring.http_routes}
    assert synth.routes == declared


def test_one_http_api_with_an_auto_deployed_logged_throttled_stage(real: Synthesized) -> None:
    assert len(real.of_type("AWS::ApiGatewayV2::Api")) == 1
    (api,) = real.of_type("AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "HTTP"
    (stage,) = real.of_type("AWS::ApiGatewayV2::Stage").values()
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
    assert allowed == {route.function for route in synth.wiring.http_routes}
