"""The API Gateway HTTP API: one route per ``WIRING.http_routes``, each a Lambda proxy
integration (payload format 2.0) of the function it names."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from pulse.wiring import Wiring
from pulse_infra import names
from pulse_infra.nag import acknowledge

ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
}


class HttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        wiring: Wiring,
        functions: dict[str, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=names.resource_name("http"),
            description="Pulse HTTP API",
            create_default_stage=True,
        )

        # One integration per function, shared by all its routes.
        targets: dict[str, integrations.HttpLambdaIntegration] = {}
        for route in wiring.http_routes:
            if route.function not in targets:
                targets[route.function] = integrations.HttpLambdaIntegration(
                    f"{names.pascal(route.function)}Integration",
                    functions[route.function],
                    payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
                )
            self.api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod(route.method)],
                integration=targets[route.function],
            )

        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays[names.LOG_RETENTION],
            removal_policy=RemovalPolicy.DESTROY,
        )
        stage = self.api.default_stage
        assert stage is not None  # create_default_stage=True
        cfn_stage = stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT)
        )
        cfn_stage.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
            throttling_rate_limit=names.HTTP_API_RATE_LIMIT,
            throttling_burst_limit=names.HTTP_API_BURST_LIMIT,
        )
        self.url = self.api.api_endpoint

        for route_construct in self.api.node.find_all():
            if isinstance(route_construct, apigwv2.CfnRoute):
                acknowledge(
                    route_construct,
                    "AwsSolutions-APIG4",
                    "The functions authenticate each request themselves "
                    "(dashboard JWTs, project API keys for ingestion) and some routes "
                    "(sign-up, login, ingestion) are public by design.",
                )
