"""The network, Postgres, Redis and Kinesis: private, encrypted, reachable by the functions only."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aws_cdk.assertions import Template

from pulse.wiring import WIRING, Wiring
from pulse_infra import access, names
from pulse_infra.app import build_app, cdk_json_context
from tests.infrastructure.conftest import OFFLINE
from tests.infrastructure.synthesized import Synthesized, ref_id


def ingress_sources(synth: Synthesized, group: str) -> set[tuple[str, int]]:
    """(source security group, port) pairs a security group admits."""
    out = set()
    for rule in synth.of_type("AWS::EC2::SecurityGroupIngress").values():
        props = rule["Properties"]
        if ref_id(props["GroupId"]) == group:
            assert "CidrIp" not in props, props
            port = props["FromPort"]  # a token where CDK wires the instance's own port
            out.add((ref_id(props["SourceSecurityGroupId"]), port if isinstance(port, int) else -1))
    assert not synth.resources[group]["Properties"].get("SecurityGroupIngress"), group
    return out


def functions_group(synth: Synthesized) -> str:
    groups = {
        ref_id(sg)
        for _, props in synth.functions.values()
        for sg in props.get("VpcConfig", {}).get("SecurityGroupIds", [])
    }
    (group,) = groups
    return group


def subnet_group(synth: Synthesized, subnet_id: str) -> str:
    """The subnet group (``private``, ``public``, ``egress``) a subnet belongs to."""
    tags = synth.resources[subnet_id]["Properties"]["Tags"]
    return next(t["Value"] for t in tags if t["Key"] == "aws-cdk:subnet-name")


def routes_of(synth: Synthesized, group: str) -> list[dict[str, Any]]:
    """The routes of the route tables of a subnet group's subnets."""
    tables = {
        ref_id(a["Properties"]["RouteTableId"])
        for a in synth.of_type("AWS::EC2::SubnetRouteTableAssociation").values()
        if subnet_group(synth, ref_id(a["Properties"]["SubnetId"])) == group
    }
    return [
        r["Properties"]
        for r in synth.of_type("AWS::EC2::Route").values()
        if ref_id(r["Properties"]["RouteTableId"]) in tables
    ]


def test_no_nat_gateway_pushes_leave_over_ipv6_only(real: Synthesized) -> None:
    # Given functions in the VPC that push to the public @connections API
    assert any(access.needs_internet(fn) for fn in real.wiring.functions)
    # Then there is no NAT gateway and no public subnet; an egress-only gateway is the way out
    real.template.resource_count_is("AWS::EC2::NatGateway", 0)
    real.template.resource_count_is("AWS::EC2::EgressOnlyInternetGateway", 1)
    (eigw,) = real.of_type("AWS::EC2::EgressOnlyInternetGateway")
    for subnet in real.of_type("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    groups = {subnet_group(real, s) for s in real.of_type("AWS::EC2::Subnet")}
    assert groups == {"private", "egress"}
    # The egress subnets route ::/0 to the egress-only gateway, and nothing else out
    egress_routes = routes_of(real, "egress")
    assert egress_routes and all(
        r
        == {
            "DestinationIpv6CidrBlock": "::/0",
            "EgressOnlyInternetGatewayId": {"Ref": eigw},
            "RouteTableId": r["RouteTableId"],
        }
        for r in egress_routes
    ), egress_routes
    assert routes_of(real, "private") == []
    # Only the pushing functions run there, with outbound IPv6 allowed
    for fn in real.wiring.functions:
        props = real.functions[fn.name][1]
        if not access.in_vpc(fn):
            continue
        groups = {subnet_group(real, ref_id(s)) for s in props["VpcConfig"]["SubnetIds"]}
        assert groups == ({"egress"} if access.needs_internet(fn) else {"private"}), fn.name
        allowed = props["VpcConfig"].get("Ipv6AllowedForDualStack", False)
        assert allowed is access.needs_internet(fn), fn.name
    # Their security group lets IPv6 out, and the WebSocket API answers over IPv6
    egress_rules = real.resources[functions_group(real)]["Properties"]["SecurityGroupEgress"]
    assert any(rule.get("CidrIpv6") == "::/0" for rule in egress_rules)
    (ws_api,) = real.apis_of_protocol("WEBSOCKET")
    assert real.resources[ws_api]["Properties"]["IpAddressType"] == "dualstack"
    # Postgres and Redis sit in the isolated subnets only
    (db_subnets,) = real.of_type("AWS::RDS::DBSubnetGroup").values()
    (cache_subnets,) = real.of_type("AWS::ElastiCache::SubnetGroup").values()
    for group in (db_subnets, cache_subnets):
        ids = group["Properties"].get("SubnetIds")
        assert {subnet_group(real, ref_id(s)) for s in ids} == {"private"}


def test_the_nat_route_remains_a_context_switch_away() -> None:
    # Given the app with -c pulse:pushEgress=nat (one pushing function keeps the synth small)
    wiring = Wiring(
        functions=(WIRING.function("processor"),), http_routes=(), streams=WIRING.streams
    )
    context = {**cdk_json_context(), **OFFLINE, names.CONTEXT_PUSH_EGRESS: "nat"}
    _, stack = build_app(context, wiring=wiring)
    template = Template.from_stack(stack)
    # Then one NAT gateway (one AZ) serves the egress subnets, over IPv4, without IPv6
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    template.resource_count_is("AWS::EC2::EgressOnlyInternetGateway", 0)
    (fn,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": "pulse-processor"}}
    ).values()
    assert "Ipv6AllowedForDualStack" not in fn["Properties"]["VpcConfig"]


def test_an_unknown_push_egress_is_refused() -> None:
    context = {**cdk_json_context(), **OFFLINE, names.CONTEXT_PUSH_EGRESS: "carrier-pigeon"}
    with pytest.raises(ValueError, match="pushEgress"):
        build_app(context, wiring=Wiring((WIRING.function("processor"),), ()))


def test_no_nat_and_no_internet_gateway_when_no_function_needs_them() -> None:
    wiring = dataclasses.replace(
        WIRING,
        functions=tuple(
            dataclasses.replace(fn, pushes_to_connections=False) for fn in WIRING.functions
        ),
    )
    _, stack = build_app({**cdk_json_context(), **OFFLINE}, wiring=wiring)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.resource_count_is("AWS::EC2::EgressOnlyInternetGateway", 0)


def test_vpc_endpoints_for_the_apis_the_functions_call(synth: Synthesized) -> None:
    def services(endpoint_type: str) -> set[str]:
        return {
            e["Properties"]["ServiceName"]["Fn::Join"][1][-1]
            for e in synth.vpc_endpoints(endpoint_type).values()
        }

    expected = {".secretsmanager"} | ({".kinesis-streams"} if synth.wiring.streams else set())
    assert services("Interface") == expected
    # S3 (the archive) through a gateway endpoint, when a function in the VPC uses the archive
    archive_in_vpc = any(
        access.in_vpc(fn) and access.archive_access(fn) != "none" for fn in synth.wiring.functions
    )
    assert services("Gateway") == ({".s3"} if archive_in_vpc else set())
    assert len(synth.of_type("AWS::EC2::VPCEndpoint")) == len(expected) + archive_in_vpc


@pytest.mark.parametrize("variant", ["real", "proxied"])
def test_postgres_is_private_and_encrypted(variant: str, request: pytest.FixtureRequest) -> None:
    synth: Synthesized = request.getfixturevalue(variant)
    ((instance_id, instance),) = synth.of_type("AWS::RDS::DBInstance").items()
    props = instance["Properties"]
    assert props["Engine"] == "postgres"
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["DBName"] == names.DATABASE_NAME


def test_with_the_proxy_switch_postgres_is_behind_a_tls_proxy(proxied: Synthesized) -> None:
    ((instance_id, instance),) = proxied.of_type("AWS::RDS::DBInstance").items()
    (proxy,) = proxied.of_type("AWS::RDS::DBProxy").values()
    assert proxy["Properties"]["RequireTLS"] is True
    assert proxy["Properties"]["Auth"][0]["AuthScheme"] == "SECRETS"
    (proxy_sg,) = {ref_id(g) for g in proxy["Properties"]["VpcSecurityGroupIds"]}
    (instance_sg,) = {ref_id(g) for g in instance["Properties"]["VPCSecurityGroups"]}
    assert {src for src, _ in ingress_sources(proxied, instance_sg)} == {proxy_sg}
    assert ingress_sources(proxied, proxy_sg) == {(functions_group(proxied), names.DATABASE_PORT)}


def test_redis_is_encrypted_and_admits_the_functions_only(real: Synthesized) -> None:
    (redis,) = real.of_type("AWS::ElastiCache::ReplicationGroup").values()
    props = redis["Properties"]
    assert props["TransitEncryptionEnabled"] is True
    assert props["AtRestEncryptionEnabled"] is True
    (group,) = {ref_id(g) for g in props["SecurityGroupIds"]}
    assert ingress_sources(real, group) == {(functions_group(real), names.REDIS_PORT)}


def test_streams_are_provisioned_encrypted_and_named_as_locally(synth: Synthesized) -> None:
    assert set(synth.streams) == {names.resource_name(s.name) for s in synth.wiring.streams}
    shards = {names.resource_name(s.name): s.shard_count for s in synth.wiring.streams}
    for name, (logical_id, props) in synth.streams.items():
        # A fixed name: a retained stream would block the next deploy after a destroy.
        assert synth.resources[logical_id]["DeletionPolicy"] == "Delete"
        # Provisioned with the wiring's shard count, the one the local runtime creates
        assert props["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
        assert props["ShardCount"] == shards[name]
        assert props["StreamEncryption"]["EncryptionType"] == "KMS"
