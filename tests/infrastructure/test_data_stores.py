"""The network, Postgres, Redis and Kinesis: private, encrypted, reachable by the functions only."""

from __future__ import annotations

from pulse_infra import names
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


def test_no_nat_gateway_no_internet_gateway_only_isolated_subnets(real: Synthesized) -> None:
    real.template.resource_count_is("AWS::EC2::NatGateway", 0)
    real.template.resource_count_is("AWS::EC2::InternetGateway", 0)
    for subnet in real.of_type("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def test_vpc_endpoints_for_the_apis_the_functions_call(synth: Synthesized) -> None:
    services = {
        e["Properties"]["ServiceName"]["Fn::Join"][1][-1]
        for e in synth.of_type("AWS::EC2::VPCEndpoint").values()
    }
    expected = {".secretsmanager"} | ({".kinesis-streams"} if synth.wiring.streams else set())
    assert services == expected


def test_postgres_is_private_encrypted_and_behind_a_tls_proxy(real: Synthesized) -> None:
    ((instance_id, instance),) = real.of_type("AWS::RDS::DBInstance").items()
    props = instance["Properties"]
    assert props["Engine"] == "postgres"
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["DBName"] == names.DATABASE_NAME
    (proxy,) = real.of_type("AWS::RDS::DBProxy").values()
    assert proxy["Properties"]["RequireTLS"] is True
    assert proxy["Properties"]["Auth"][0]["AuthScheme"] == "SECRETS"
    (proxy_sg,) = {ref_id(g) for g in proxy["Properties"]["VpcSecurityGroupIds"]}
    (instance_sg,) = {ref_id(g) for g in props["VPCSecurityGroups"]}
    assert {src for src, _ in ingress_sources(real, instance_sg)} == {proxy_sg}
    assert ingress_sources(real, proxy_sg) == {(functions_group(real), names.DATABASE_PORT)}


def test_redis_is_encrypted_and_admits_the_functions_only(real: Synthesized) -> None:
    (redis,) = real.of_type("AWS::ElastiCache::ReplicationGroup").values()
    props = redis["Properties"]
    assert props["TransitEncryptionEnabled"] is True
    assert props["AtRestEncryptionEnabled"] is True
    (group,) = {ref_id(g) for g in props["SecurityGroupIds"]}
    assert ingress_sources(real, group) == {(functions_group(real), names.REDIS_PORT)}


def test_streams_are_on_demand_encrypted_and_named_as_locally(synth: Synthesized) -> None:
    assert set(synth.streams) == {names.resource_name(s.name) for s in synth.wiring.streams}
    for logical_id, props in synth.streams.values():
        # A fixed name: a retained stream would block the next deploy after a destroy.
        assert synth.resources[logical_id]["DeletionPolicy"] == "Delete"
        assert props["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
        assert props["StreamEncryption"]["EncryptionType"] == "KMS"
