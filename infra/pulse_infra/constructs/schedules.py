"""EventBridge rules from ``WIRING.schedules``, each invoking its function."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from pulse.wiring import Wiring
from pulse_infra import names


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        wiring: Wiring,
        functions: dict[str, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        self.rules: list[events.Rule] = []
        for index, schedule in enumerate(wiring.schedules):
            rule = events.Rule(
                self,
                f"{names.pascal(schedule.function)}Schedule{index}",
                description=f"Pulse: {schedule.description}"[:512],
                schedule=events.Schedule.expression(schedule.expression),
            )
            # A missed run is caught up by the next one (rollups recompute dirty hours), so a
            # couple of retries within the hour are enough.
            rule.add_target(
                targets.LambdaFunction(
                    functions[schedule.function],
                    retry_attempts=2,
                    max_event_age=Duration.hours(1),
                )
            )
            self.rules.append(rule)
