"""cdk-nag's AWS Solutions rules: nothing unacknowledged, every acknowledgment explained."""

from __future__ import annotations

import pytest
from aws_cdk import Validations
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks

from pulse.wiring import Wiring
from pulse_infra.app import build_app, cdk_json_context
from pulse_infra.nag import MIN_REASON_LENGTH
from tests.infrastructure.conftest import OFFLINE
from tests.infrastructure.synthesized import Synthesized


def test_no_unacknowledged_findings(synth: Synthesized) -> None:
    report = AwsSolutionsChecks(verbose=True).validate_scope(synth.app)
    findings = [
        f"{v.severity} {v.rule_name} at {[r.construct_path for r in v.violating_resources]}"
        for v in report.violations
    ]
    assert not findings, "\n".join(findings)


def test_no_unacknowledged_findings_with_the_proxy_and_endpoints_in_both_azs(
    proxied: Synthesized,
) -> None:
    test_no_unacknowledged_findings(proxied)


def test_every_acknowledgment_gives_a_reason(real: Synthesized) -> None:
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    acknowledged = {
        f"{node.node.path}: {rule}": reason
        for node in real.app.node.find_all()
        for entry in node.node.metadata
        if entry.type == key
        for rule, reason in dict(entry.data).items()
    }
    assert acknowledged
    for where, reason in acknowledged.items():
        assert len(str(reason).strip()) >= MIN_REASON_LENGTH, where


def test_the_app_fails_synthesis_on_a_new_finding() -> None:
    # Given the app as `cdk synth` builds it (a small wiring keeps this synth quick)
    app, stack = build_app({**cdk_json_context(), **OFFLINE}, wiring=Wiring((), ()))
    # When a resource breaks a rule (a queue that accepts plain HTTP, with no DLQ)
    sqs.CfnQueue(stack, "Unchecked")
    # Then synthesis fails
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
