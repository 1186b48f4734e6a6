"""The API Gateway WebSocket API: one route per ``WIRING.websocket_routes`` (Lambda proxy
integrations), one auto-deployed stage named ``WIRING.websocket_stage``, and the management API
(``@connections``) for the functions that push to clients.

Each function declared with ``pushes_to_connections`` gets ``execute-api:ManageConnections`` on
this stage's ``@connections`` only, and ``PULSE_WEBSOCKET_MANAGEMENT_URL`` set to the stage's
callback URL (``https://{api-id}.execute-api.{region}.amazonaws.com/{stage}``), the endpoint the
local runtime replaces with its own gateway's.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from pulse.wiring import WEBSOCKET_ROUTE_SELECTION, Wiring
from pulse_infra import names
from pulse_infra.nag import acknowledge

MANAGEMENT_URL_SETTING = "PULSE_WEBSOCKET_MANAGEMENT_URL"

# No query string in the access log: the connect URL carries the access token.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "connectionId": "$context.connectionId",
    "integrationLatency": "$context.integrationLatency",
    "error": "$context.error.message",
}


class WebSocketApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        wiring: Wiring,
        functions: dict[str, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=names.resource_name("ws"),
            description="Pulse WebSocket API: live events for the dashboard",
            route_selection_expression=WEBSOCKET_ROUTE_SELECTION,
            # Reachable over IPv6 too: the functions in the VPC push to @connections over IPv6
            # (``constructs.network``), and dual-stack browsers connect over either.
            ip_address_type=apigwv2.IpAddressType.DUAL_STACK,
        )
        # One integration per function, shared by all its routes.
        targets: dict[str, integrations.WebSocketLambdaIntegration] = {}
        for route in wiring.websocket_routes:
            if route.function not in targets:
                targets[route.function] = integrations.WebSocketLambdaIntegration(
                    f"{names.pascal(route.function)}WebSocketIntegration",
                    functions[route.function],
                )
            self.api.add_route(route.route_key, integration=targets[route.function])

        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=wiring.websocket_stage,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=names.WEBSOCKET_RATE_LIMIT, burst_limit=names.WEBSOCKET_BURST_LIMIT
            ),
        )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays[names.LOG_RETENTION],
            removal_policy=RemovalPolicy.DESTROY,
        )
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT)
        )
        self.url = self.stage.url  # wss://{api-id}.execute-api.{region}.amazonaws.com/{stage}
        self.management_url = self.stage.callback_url

        cfn_api = self.api.node.default_child
        assert isinstance(cfn_api, apigwv2.CfnApi)
        api_token = f"<{Stack.of(self).get_logical_id(cfn_api)}>"
        connections = (
            "arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
            f"{api_token}/{wiring.websocket_stage}/*/@connections/*"
        )
        for spec in wiring.functions:
            if spec.pushes_to_connections:
                function = functions[spec.name]
                self.stage.grant_management_api_access(function)
                function.add_environment(MANAGEMENT_URL_SETTING, self.management_url)
                assert function.role is not None
                acknowledge(
                    function.role,
                    f"AwsSolutions-IAM5[Resource::{connections}]",
                    "Connection ids exist only at run time: the grant covers the "
                    "@connections of this API's one stage (POST, GET, DELETE), nothing else.",
                )

        for route_construct in self.api.node.find_all():
            if isinstance(route_construct, apigwv2.CfnRoute):
                acknowledge(
                    route_construct,
                    "AwsSolutions-APIG4",
                    "$connect authenticates the dashboard's access token itself (a browser "
                    "cannot set headers on a WebSocket handshake, so it comes in the query "
                    "string) and checks project ownership; later messages only arrive on "
                    "connections it accepted.",
                )
