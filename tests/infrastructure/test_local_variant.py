"""The LocalStack variant (``-c pulse:local=true``): the compose file's Postgres and Redis instead
of RDS and ElastiCache, everything else as in AWS. What can be proven without Docker: it
synthesizes, passes cdk-nag, and differs from the real template only in the data stores."""

from __future__ import annotations

from collections import Counter

from cdk_nag import AwsSolutionsChecks

from pulse_infra import names
from tests.infrastructure.synthesized import Synthesized

DATA_STORE_TYPES = {
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBProxy",
    "AWS::RDS::DBProxyTargetGroup",
    "AWS::RDS::DBSubnetGroup",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::SubnetGroup",
}


def test_the_local_variant_has_no_rds_and_no_elasticache(local: Synthesized) -> None:
    for cfn_type in DATA_STORE_TYPES:
        local.template.resource_count_is(cfn_type, 0)
    assert not any(t.startswith(("AWS::RDS::", "AWS::ElastiCache::")) for t in types(local))


def test_its_functions_use_the_compose_postgres_and_redis(local: Synthesized) -> None:
    for fn in local.wiring.functions:
        environment = local.functions[fn.name][1]["Environment"]["Variables"]
        if fn.needs_database:
            assert environment["PULSE_DATABASE_URL"] == names.LOCAL_DATABASE_URL, fn.name
        if fn.needs_redis:
            assert environment["PULSE_REDIS_URL"] == names.LOCAL_REDIS_URL, fn.name
        assert "PULSE_DATABASE_SECRET_ARN" not in environment, fn.name


def types(synth: Synthesized) -> Counter[str]:
    return Counter(r["Type"] for r in synth.resources.values())


def test_everything_else_is_unchanged(real: Synthesized, local: Synthesized) -> None:
    # Same functions, routes, streams, triggers, schedules, hosting and alarms but the database's
    real_types, local_types = types(real), types(local)
    for cfn_type in set(real_types) | set(local_types):
        if cfn_type in DATA_STORE_TYPES or cfn_type in {
            "AWS::EC2::SecurityGroup",
            "AWS::EC2::SecurityGroupIngress",
            "AWS::SecretsManager::Secret",
            "AWS::SecretsManager::SecretTargetAttachment",
            "AWS::IAM::Role",  # the RDS Proxy's role
            "AWS::IAM::Policy",
            "AWS::CloudWatch::Alarm",  # the database's CPU and connections
        }:
            continue
        assert real_types[cfn_type] == local_types[cfn_type], cfn_type
    assert set(real.functions) == set(local.functions)
    assert real.routes == local.routes
    assert real.websocket_routes == local.websocket_routes
    assert set(real.streams) == set(local.streams)
    alarm_names = {
        r["Properties"]["AlarmName"] for r in real.of_type("AWS::CloudWatch::Alarm").values()
    }
    local_alarms = {
        r["Properties"]["AlarmName"] for r in local.of_type("AWS::CloudWatch::Alarm").values()
    }
    assert alarm_names - local_alarms == {
        names.resource_name("database-cpu"),
        names.resource_name("database-connections"),
    }


def test_the_local_variant_passes_cdk_nag(local: Synthesized) -> None:
    report = AwsSolutionsChecks(verbose=True).validate_scope(local.app)
    assert not report.violations, [v.rule_name for v in report.violations]


def test_the_local_variant_has_the_archive_as_aws_has(
    real: Synthesized, local: Synthesized
) -> None:
    # The same bucket, gateway endpoint, output and per-function archive settings
    for synth in (real, local):
        assert names.OUTPUT_ARCHIVE_BUCKET in synth.outputs
        assert len(synth.vpc_endpoints("Gateway")) == 1
    for fn in local.wiring.functions:
        (_, aws), (_, ours) = real.functions[fn.name], local.functions[fn.name]
        assert aws.get("EphemeralStorage") == ours.get("EphemeralStorage"), fn.name
        archive_settings = [
            {k for k in p["Environment"]["Variables"] if k.startswith("PULSE_ARCHIVE_")}
            for p in (aws, ours)
        ]
        assert archive_settings[0] == archive_settings[1], fn.name
