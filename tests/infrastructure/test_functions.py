"""One Lambda per declared function, configured from the wiring, each with its own role."""

from __future__ import annotations

from pulse_infra import access, names
from tests.infrastructure.synthesized import Synthesized


def test_one_function_per_declared_function_with_its_handler(synth: Synthesized) -> None:
    # Given the wiring, When synthesized, Then exactly its functions exist, configured from it
    assert set(synth.functions) == {fn.name for fn in synth.wiring.functions}
    for fn in synth.wiring.functions:
        _, props = synth.functions[fn.name]
        assert props["Handler"] == fn.handler
        assert props["MemorySize"] == fn.memory_mb
        assert props["Timeout"] == fn.timeout_s
        assert props["Runtime"] == f"python{names.PYTHON_VERSION}"
        assert props["Architectures"] == [names.ARCHITECTURE]
        assert props.get("ReservedConcurrentExecutions") == fn.reserved_concurrency


def test_no_other_function_than_the_declared_ones_and_cdk_providers(real: Synthesized) -> None:
    # The deploy-time helpers CDK adds (trigger, default-SG and bucket auto-delete providers, the
    # site's BucketDeployment handler) are the only others.
    others = set(real.of_type("AWS::Lambda::Function")) - set(real.function_by_logical_id)
    assert all(
        "CustomResourceProvider" in logical_id or logical_id.startswith("CustomCDKBucketDeployment")
        for logical_id in others
    ), others


def test_every_function_has_a_role_of_its_own(synth: Synthesized) -> None:
    roles = [synth.role_id(fn.name) for fn in synth.wiring.functions]
    assert len(set(roles)) == len(roles)
    for role in roles:
        principal = synth.resources[role]["Properties"]["AssumeRolePolicyDocument"]
        assert principal["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_functions_that_need_postgres_or_redis_and_only_they_run_in_the_vpc(
    synth: Synthesized,
) -> None:
    for fn in synth.wiring.functions:
        _, props = synth.functions[fn.name]
        env = props["Environment"]["Variables"] if "Environment" in props else {}
        assert ("VpcConfig" in props) == access.in_vpc(fn), fn.name
        assert ("PULSE_DATABASE_URL" in env) == fn.needs_database, fn.name
        assert ("PULSE_DATABASE_SECRET_ARN" in env) == fn.needs_database, fn.name
        assert ("PULSE_REDIS_URL" in env) == fn.needs_redis, fn.name
        if fn.needs_redis:
            assert env["PULSE_REDIS_URL"]["Fn::Join"][1][0] == "rediss://", "Redis is TLS only"


def test_each_function_logs_to_its_own_log_group_with_a_retention(synth: Synthesized) -> None:
    log_groups = synth.of_type("AWS::Logs::LogGroup")
    for fn in synth.wiring.functions:
        _, props = synth.functions[fn.name]
        group = log_groups[props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
        assert group["LogGroupName"] == f"/aws/lambda/{names.function_name(fn.name)}"
        assert group["RetentionInDays"] == names.LOG_RETENTION_DAYS
