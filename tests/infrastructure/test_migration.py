"""The deploy runs the migrate function once the database is reachable."""

from __future__ import annotations

import pytest

from pulse_infra import names
from tests.infrastructure.synthesized import Synthesized


@pytest.mark.parametrize("variant", ["real", "proxied"])
def test_the_deploy_invokes_the_migrate_function_after_the_database(
    variant: str, request: pytest.FixtureRequest
) -> None:
    real: Synthesized = request.getfixturevalue(variant)
    (trigger,) = real.of_type("Custom::Trigger").values()
    props = trigger["Properties"]
    assert real.function_of(props["HandlerArn"]) == names.MIGRATE_FUNCTION
    assert props["InvocationType"] == "RequestResponse"
    assert props["ExecuteOnHandlerChange"] is True
    timeout_s = real.wiring.function(names.MIGRATE_FUNCTION).timeout_s
    assert int(props["Timeout"]) >= timeout_s * 1000

    depends = set(trigger.get("DependsOn", []))
    types = {real.resources[d]["Type"] for d in depends}
    assert "AWS::RDS::DBInstance" in types
    if variant == "proxied":
        assert {"AWS::RDS::DBProxy", "AWS::RDS::DBProxyTargetGroup"} <= types
    endpoints = {
        real.resources[d]["Properties"]["ServiceName"]["Fn::Join"][1][-1]
        for d in depends
        if real.resources[d]["Type"] == "AWS::EC2::VPCEndpoint"
    }
    assert ".secretsmanager" in endpoints, "the migration reads the database secret"
