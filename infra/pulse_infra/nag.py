"""cdk-nag (v3): the rule pack the app runs, and the one way to acknowledge a finding.

cdk-nag 3 is a CDK validation plugin: synthesis fails while any finding is neither fixed nor
acknowledged with ``Validations.of(construct).acknowledge``. An acknowledgment covers the
construct and everything under it, and names one finding: ``AwsSolutions-IAM5[Resource::...]``.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

MIN_REASON_LENGTH = 40


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge the finding ``rule`` on ``scope`` and its children, with a written reason."""
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledging {rule} needs a real reason, not {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def add_checks(scope: IConstruct) -> AwsSolutionsChecks:
    """Run cdk-nag's AWS Solutions rules on everything under ``scope`` at synthesis."""
    checks = AwsSolutionsChecks(scope, verbose=True)
    Validations.of(scope).add_plugins(checks)
    return checks
