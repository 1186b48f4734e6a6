"""The VPC: two AZs of isolated private subnets, no NAT gateway, and only the VPC endpoints the
functions need to reach AWS APIs from inside it.

Cost trap avoided: a NAT gateway costs ~$32/month per AZ plus $0.045/GB before any traffic.
Functions in the VPC reach AWS services through interface endpoints instead (Secrets Manager
always; Kinesis once a stream is declared), ~$7.30/month per endpoint per AZ. Functions that need
neither Postgres nor Redis run outside the VPC and need no endpoint at all.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from pulse.wiring import Wiring
from pulse_infra import names


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, wiring: Wiring) -> None:
        super().__init__(scope, construct_id)

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                )
            ],
        )
        self.private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

        # Rejected traffic only: enough to debug a security group, cheap to keep.
        flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=logs.RetentionDays[names.LOG_RETENTION],
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )

        # Every function in the VPC shares this group; the database, the cache and the
        # endpoints admit traffic from it only.
        self.functions_sg = ec2.SecurityGroup(
            self,
            "FunctionsSecurityGroup",
            vpc=self.vpc,
            description="Pulse functions in the VPC",
            allow_all_outbound=True,
        )

        endpoint_sg = ec2.SecurityGroup(
            self,
            "EndpointsSecurityGroup",
            vpc=self.vpc,
            description="Pulse VPC interface endpoints",
            allow_all_outbound=False,
        )
        endpoint_sg.add_ingress_rule(
            self.functions_sg, ec2.Port.tcp(443), "HTTPS from the functions"
        )
        services = [("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER)]
        if wiring.streams:
            services.append(("Kinesis", ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS))
        self.endpoints = [
            self.vpc.add_interface_endpoint(
                f"{label}Endpoint",
                service=service,
                subnets=self.private_subnets,
                security_groups=[endpoint_sg],
                open=False,
                private_dns_enabled=True,
            )
            for label, service in services
        ]
