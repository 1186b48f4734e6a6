"""The VPC: two AZs of isolated private subnets, and only the VPC endpoints the functions need to
reach AWS APIs from inside it. No NAT gateway by default.

Cost trap avoided: a NAT gateway costs ~$32.85/month per AZ plus $0.045/GB before any traffic.
Functions in the VPC reach AWS services through interface endpoints instead (Secrets Manager
always; Kinesis once a stream is declared), ~$7.30/month per endpoint per AZ. Functions that need
neither Postgres nor Redis run outside the VPC and need no endpoint at all.

The endpoints have a network interface in ``names.ENDPOINT_AZS`` AZs (``-c pulse:endpointAzs``):
by default one, the "data" AZ (``data_az``) that the single-AZ database and the single Redis node
are pinned to as well. Functions in the other AZ reach the endpoints across AZs. A single-AZ
install already stops when its data AZ does (ingest needs Redis or, failing that, Postgres, for
every API key it has not cached), so a second interface per endpoint bought no availability
there; with a Multi-AZ database and a Redis replica, set ``pulse:endpointAzs=2`` (docs/deploy.md).
Which AZ is the data AZ is ``-c pulse:dataAz`` (``0``, the VPC's first, by default; ``1``; or
``none``: nothing pinned, for an install whose instance was created before the pin).

The one public endpoint a function in the VPC must reach is the ``@connections`` API of the
WebSocket API (``access.needs_internet``: pushing to clients), which no VPC endpoint serves. How
they reach it is ``names.CONTEXT_PUSH_EGRESS`` (``-c pulse:pushEgress=...``):

- ``ipv6`` (default): the VPC is dual-stack; the pushing functions run in an "egress" subnet
  group whose only way out is ``::/0`` through an egress-only internet gateway (no hourly charge,
  no per-GB processing charge, nothing can connect in), with outbound IPv6 allowed
  (``Ipv6AllowedForDualStack``); the WebSocket API is dual-stack, so its ``@connections`` host
  answers over IPv6. No NAT gateway, no public subnet.
- ``nat``: the earlier design, one NAT gateway (one AZ, ~$32.85/month + $0.045/GB) in a public
  subnet serving the "egress" subnet group over IPv4; for regions or accounts where the IPv6
  route is not wanted.

Postgres, Redis and every other function stay in the isolated subnets either way.

S3 (the columnar archive's bucket, ``constructs.archive``) is reached through a **gateway**
endpoint: no hourly or per-GB charge, no network interface, just a route to S3's prefix list in
the route tables of the subnets the archive's readers and writers run in. It exists only when a
function in the VPC uses the archive; the archive construct limits its policy to that bucket.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from pulse.wiring import Function, Wiring
from pulse_infra import access, names

PUSH_EGRESS_MODES = ("ipv6", "nat")
ENDPOINT_AZ_COUNTS = (1, 2)
DATA_AZ_CHOICES = ("0", "1", "none")


def push_egress(scope: Construct) -> str:
    """How functions in the VPC reach ``@connections``: context ``pulse:pushEgress``."""
    mode = str(scope.node.try_get_context(names.CONTEXT_PUSH_EGRESS) or names.PUSH_EGRESS)
    if mode not in PUSH_EGRESS_MODES:
        raise ValueError(
            f"{names.CONTEXT_PUSH_EGRESS}={mode!r}: expected one of {PUSH_EGRESS_MODES}"
        )
    return mode


def endpoint_azs(scope: Construct) -> int:
    """How many AZs the interface endpoints are in: context ``pulse:endpointAzs``."""
    value = scope.node.try_get_context(names.CONTEXT_ENDPOINT_AZS)
    count = names.ENDPOINT_AZS if value is None else value
    try:
        number = int(count)
    except (TypeError, ValueError):
        number = 0
    if number not in ENDPOINT_AZ_COUNTS:
        raise ValueError(
            f"{names.CONTEXT_ENDPOINT_AZS}={value!r}: expected one of {ENDPOINT_AZ_COUNTS}"
        )
    return number


def data_az_choice(scope: Construct) -> str:
    """Which AZ holds the database and Redis: context ``pulse:dataAz`` (``0``, ``1``, ``none``)."""
    value = scope.node.try_get_context(names.CONTEXT_DATA_AZ)
    choice = str(names.DATA_AZ if value is None else value).lower()
    if choice not in DATA_AZ_CHOICES:
        raise ValueError(f"{names.CONTEXT_DATA_AZ}={value!r}: expected one of {DATA_AZ_CHOICES}")
    return choice


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, wiring: Wiring) -> None:
        super().__init__(scope, construct_id)

        egress = any(access.needs_internet(fn) for fn in wiring.functions)
        self.push_egress = push_egress(self)
        self.ipv6_egress = egress and self.push_egress == "ipv6"
        nat = egress and self.push_egress == "nat"
        subnets = [
            ec2.SubnetConfiguration(
                name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
            )
        ]
        if self.ipv6_egress:
            # Routes ::/0 to an egress-only internet gateway (cdk.json's
            # requirePrivateSubnetsForEgressOnlyInternetGateway), and nothing else out.
            subnets.append(
                ec2.SubnetConfiguration(
                    name="egress", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                )
            )
        if nat:
            subnets += [
                ec2.SubnetConfiguration(
                    name="public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=26,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name="egress", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            ]
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=1 if nat else 0,
            subnet_configuration=subnets,
            ip_protocol=ec2.IpProtocol.DUAL_STACK if self.ipv6_egress else ec2.IpProtocol.IPV4_ONLY,
        )
        self.private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        # The AZ of the database, Redis and (at least) the interface endpoints; None: the
        # database and Redis are not pinned (an install created before the pin).
        isolated = self.vpc.isolated_subnets
        choice = data_az_choice(self)
        first = 0 if choice == "none" else int(choice)
        self.data_az: str | None = None if choice == "none" else isolated[first].availability_zone
        self.endpoint_azs = endpoint_azs(self)
        ordered = [isolated[first], *(s for i, s in enumerate(isolated) if i != first)]
        self.endpoint_subnets = ec2.SubnetSelection(subnets=ordered[: self.endpoint_azs])
        self.egress_subnets = (
            ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS) if egress else None
        )

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
            # Only the egress subnets route IPv6 anywhere (to the egress-only gateway).
            allow_all_ipv6_outbound=self.ipv6_egress,
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
                subnets=self.endpoint_subnets,
                security_groups=[endpoint_sg],
                open=False,
                private_dns_enabled=True,
            )
            for label, service in services
        ]

        # The archive's functions reach S3 through a gateway endpoint (free) on the route tables
        # of the subnets they run in; no NAT, no interface endpoint.
        archive_subnets = {
            id(selection): selection
            for selection in (
                self.subnets_for(fn)
                for fn in wiring.functions
                if access.in_vpc(fn) and access.archive_access(fn) != "none"
            )
        }
        self.s3_endpoint: ec2.GatewayVpcEndpoint | None = (
            self.vpc.add_gateway_endpoint(
                "S3Endpoint",
                service=ec2.GatewayVpcEndpointAwsService.S3,
                subnets=list(archive_subnets.values()),
            )
            if archive_subnets
            else None
        )

    def subnets_for(self, fn: Function) -> ec2.SubnetSelection:
        """Where a function in the VPC runs: the egress subnets if it needs the internet."""
        if access.needs_internet(fn) and self.egress_subnets is not None:
            return self.egress_subnets
        return self.private_subnets
