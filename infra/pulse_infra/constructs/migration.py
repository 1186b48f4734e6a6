"""Runs the migrate function during the deploy, once the database (and the network the function
reaches it through) exists, and again whenever a deploy changes the function's code or settings.

``triggers.Trigger`` invokes the function's current version synchronously; a failed migration
fails the deploy, and CloudFormation rolls it back.
"""

from __future__ import annotations

from aws_cdk import Duration, triggers
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from pulse.wiring import Function


class Migration(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: Function,
        function: lambda_.Function,
        after: list[Construct],
    ) -> None:
        super().__init__(scope, construct_id)
        self.trigger = triggers.Trigger(
            self,
            "Run",
            handler=function,
            invocation_type=triggers.InvocationType.REQUEST_RESPONSE,
            timeout=Duration.seconds(spec.timeout_s + 30),
            execute_after=after,
            execute_on_handler_change=True,
        )
