"""Operations: CloudWatch alarms (each with the reason for its threshold in its description), one
SNS topic they notify (an e-mail subscription from context ``pulse:alarmEmail``), and one
CloudWatch dashboard with the same signals plus ingest volume per minute.

Thresholds live in ``names`` (``ALARM_*``); the reasons are written here, next to the alarm, and
end up in each alarm's description, where whoever is paged reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from pulse.wiring import Function, Wiring
from pulse_infra import names
from pulse_infra.constructs.database import Database
from pulse_infra.constructs.http_api import HttpApi
from pulse_infra.constructs.streams import stream_mode
from pulse_infra.nag import acknowledge

FIVE_MINUTES = Duration.minutes(5)
ONE_MINUTE = Duration.minutes(1)


@dataclass(frozen=True)
class AlarmSpec:
    """What an alarm watches, for the dashboard and the tests."""

    key: str  # e.g. "processor-errors"
    alarm: cloudwatch.Alarm
    reason: str


def _rate(
    label: str, numerator: cloudwatch.IMetric, denominator: cloudwatch.IMetric
) -> cloudwatch.MathExpression:
    """``numerator`` as a percentage of ``denominator`` (0 when nothing was counted)."""
    return cloudwatch.MathExpression(
        expression="IF(n > 0, 100 * e / n, 0)",
        using_metrics={"e": numerator, "n": denominator},
        label=label,
        period=FIVE_MINUTES,
    )


def _runs_on_demand(wiring: Wiring, fn: Function) -> bool:
    """Scheduled or deploy-time functions run rarely: one failed run is already news."""
    scheduled = any(s.function == fn.name for s in wiring.schedules)
    return scheduled or fn.name == names.MIGRATE_FUNCTION


class Operations(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        wiring: Wiring,
        functions: dict[str, lambda_.Function],
        streams: dict[str, kinesis.Stream],
        failure_queues: dict[tuple[str, str], sqs.Queue],
        http_api: HttpApi,
        database: Database | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, AlarmSpec] = {}

        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=names.resource_name("alarms"),
            display_name="Pulse alarms",
            enforce_ssl=True,
        )
        acknowledge(
            self.topic,
            "AwsSolutions-SNS2",
            "Alarm notifications carry no event data; CloudWatch cannot publish to a topic "
            "encrypted with the AWS-managed SNS key, and a customer key for this would cost "
            "$1/month plus requests.",
        )
        email = self.node.try_get_context(names.CONTEXT_ALARM_EMAIL)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(str(email)))
        self._action = actions.SnsAction(self.topic)

        # The stream's consumers: how far behind the newest record they read.
        for trigger in wiring.stream_triggers:
            consumer = functions[trigger.function]
            self._alarm(
                f"{trigger.function}-{trigger.stream}-iterator-age",
                consumer.metric(
                    "IteratorAge", statistic="Maximum", period=ONE_MINUTE, label="iterator age"
                ),
                threshold=names.ALARM_ITERATOR_AGE_MS,
                periods=5,
                reason=(
                    f"{trigger.function} has read {trigger.stream} more than "
                    f"{names.ALARM_ITERATOR_AGE_MS // 1000} s behind its newest record for 5 "
                    "minutes. A healthy batch is written in about a second, and a failing one "
                    "is retried and bisected within a couple of minutes; lag that lasts means "
                    "the processor is stuck or short of throughput (raise the parallelization "
                    "factor). The stream keeps records 24 hours: act before then."
                ),
            )
        if stream_mode(self) == "provisioned":
            for name, kinesis_stream in streams.items():
                self._alarm(
                    f"{name}-stream-write-throttles",
                    kinesis_stream.metric_put_records_throttled_records(
                        statistic="Sum", period=FIVE_MINUTES
                    ),
                    threshold=names.ALARM_STREAM_THROTTLED_RECORDS,
                    periods=2,
                    reason=(
                        f"The {name} stream refused at least "
                        f"{names.ALARM_STREAM_THROTTLED_RECORDS} records in each of two "
                        "5-minute periods: its provisioned shards (1,000 records or 1 MB a "
                        "second each) are full. Ingest retries a throttled put and then "
                        "answers 503, which the SDK retries, so a burst costs latency, not "
                        "events; a repeated one means more shards (the wiring's shard_count) "
                        "or -c pulse:streamMode=on-demand."
                    ),
                )
        for (function_name, stream), queue in failure_queues.items():
            self._alarm(
                f"{function_name}-{stream}-failures",
                queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum", period=FIVE_MINUTES
                ),
                threshold=1,
                periods=1,
                reason=(
                    f"A batch of {stream} failed for good in {function_name} after its retries: "
                    "its events are not in Postgres. The message names the shard and sequence "
                    "range, which stay readable in the stream for 24 hours, so one message is "
                    "already worth a look (replay before the records expire)."
                ),
            )
        for fn in wiring.functions:
            function = functions[fn.name]
            if _runs_on_demand(wiring, fn):
                self._alarm(
                    f"{fn.name}-errors",
                    function.metric_errors(statistic="Sum", period=Duration.hours(1)),
                    threshold=1,
                    periods=1,
                    reason=(
                        f"{fn.name} runs on a schedule or at deploy: a single failed run "
                        "leaves its work undone (hours not rolled up, migrations not applied) "
                        "until the next run, so any error alarms."
                    ),
                )
            else:
                self._alarm(
                    f"{fn.name}-errors",
                    _rate(
                        f"{fn.name} error %",
                        function.metric_errors(statistic="Sum", period=FIVE_MINUTES),
                        function.metric_invocations(statistic="Sum", period=FIVE_MINUTES),
                    ),
                    threshold=names.ALARM_ERROR_RATE_PERCENT,
                    periods=3,
                    reason=(
                        f"More than {names.ALARM_ERROR_RATE_PERCENT} % of {fn.name}'s "
                        "invocations raised for 15 minutes. Errors are unhandled exceptions "
                        "and timeouts (a 4xx answer is not one); a stray cold-start timeout "
                        "stays below this, while a broken dependency (Postgres, Redis, a bad "
                        "deploy) crosses it within minutes."
                    ),
                )
            self._alarm(
                f"{fn.name}-throttles",
                function.metric_throttles(statistic="Sum", period=FIVE_MINUTES),
                threshold=1,
                periods=2,
                reason=(
                    f"{fn.name} was throttled in two consecutive 5-minute periods: the "
                    "account's concurrency (1,000 by default, shared by every function) is "
                    "exhausted. Ingest answers 429/500 and clients retry, and the stream "
                    "consumer falls behind; a one-off burst is absorbed, a repeated one means "
                    "asking AWS for more concurrency or reserving some."
                ),
            )
        self._alarm(
            "http-api-5xx",
            _rate(
                "HTTP API 5xx %",
                http_api.api.metric_server_error(statistic="Sum", period=FIVE_MINUTES),
                http_api.api.metric_count(statistic="Sum", period=FIVE_MINUTES),
            ),
            threshold=names.ALARM_HTTP_5XX_PERCENT,
            periods=3,
            reason=(
                f"More than {names.ALARM_HTTP_5XX_PERCENT} % of HTTP API answers were 5xx for "
                "15 minutes: the functions fail or time out (29 s), or Lambda throttles. The "
                "SDK retries ingest with backoff, so a short spike loses nothing; a sustained "
                "rate does, and the dashboard breaks too."
            ),
        )
        if database is not None:
            self._alarm(
                "database-cpu",
                database.instance.metric_cpu_utilization(statistic="Average", period=FIVE_MINUTES),
                threshold=names.ALARM_DATABASE_CPU_PERCENT,
                periods=3,
                reason=(
                    f"Postgres above {names.ALARM_DATABASE_CPU_PERCENT} % CPU for 15 minutes. "
                    f"{names.DATABASE_INSTANCE_TYPE} is burstable: sustained load spends its "
                    "CPU credits and then it runs at its baseline, and every query, COPY and "
                    "rollup slows at once. Move up an instance class before that."
                ),
            )
            self._alarm(
                "database-connections",
                database.instance.metric_database_connections(
                    statistic="Maximum", period=FIVE_MINUTES
                ),
                threshold=names.ALARM_DATABASE_CONNECTIONS,
                periods=3,
                reason=(
                    f"More than {names.ALARM_DATABASE_CONNECTIONS} connections to Postgres for "
                    f"15 minutes: about 80 % of what {names.DATABASE_INSTANCE_TYPE} allows "
                    "(max_connections is derived from its memory, about 100). The functions "
                    "connect directly unless the RDS Proxy switch is on (then it may use 90 %). "
                    "Beyond it, functions wait for a connection and time out."
                ),
            )

        self.dashboard = self._dashboard(wiring, functions, streams, http_api, database)

    def _alarm(
        self,
        key: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        periods: int,
        reason: str,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            names.pascal(key),
            alarm_name=names.resource_name(key),
            alarm_description=reason,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[key] = AlarmSpec(key=key, alarm=alarm, reason=reason)

    def _dashboard(
        self,
        wiring: Wiring,
        functions: dict[str, lambda_.Function],
        streams: dict[str, kinesis.Stream],
        http_api: HttpApi,
        database: Database | None,
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{names.STACK_NAME}-{Stack.of(self).region}",
            default_interval=Duration.hours(3),
        )

        def powertools(metric: str, statistic: str = "Sum") -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=names.METRICS_NAMESPACE,
                metric_name=metric,
                dimensions_map={"service": names.METRICS_SERVICE},
                statistic=statistic,
                period=ONE_MINUTE,
            )

        ingest: list[cloudwatch.IMetric] = [
            powertools(names.METRIC_EVENTS_ACCEPTED),
            powertools(names.METRIC_EVENTS_REJECTED),
            powertools(names.METRIC_EVENTS_WRITTEN),
        ]
        for name, stream in streams.items():
            ingest.append(
                stream.metric_incoming_records(
                    statistic="Sum", period=ONE_MINUTE, label=f"{name}: records in"
                )
            )
        dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    "# Pulse\nIngest per minute, then the alarms (each alarm's description "
                    "says why its threshold is what it is), then per-function detail."
                ),
                width=24,
                height=2,
            )
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Ingest: events per minute", left=ingest, width=12, height=6
            ),
            cloudwatch.GraphWidget(
                title="Processor batch duration (ms)",
                left=[
                    powertools(names.METRIC_BATCH_DURATION, "Average"),
                    powertools(names.METRIC_BATCH_DURATION, "p99"),
                ],
                width=12,
                height=6,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms",
                alarms=[spec.alarm for spec in self.alarms.values()],
                width=24,
                height=4,
            )
        )
        dashboard.add_widgets(
            *[
                cloudwatch.AlarmWidget(title=spec.key, alarm=spec.alarm, width=8, height=5)
                for spec in self.alarms.values()
                if not spec.key.endswith(("-throttles", "-errors"))
            ]
        )

        def per_function(title: str, metric: str, statistic: str) -> cloudwatch.GraphWidget:
            """One line per function of one of its Lambda metrics (``metric_errors``, …)."""
            return cloudwatch.GraphWidget(
                title=title,
                left=[
                    getattr(functions[fn.name], metric)(
                        statistic=statistic, period=FIVE_MINUTES, label=fn.name
                    )
                    for fn in wiring.functions
                ],
                width=8,
                height=6,
            )

        dashboard.add_widgets(
            per_function("Lambda errors per function", "metric_errors", "Sum"),
            per_function("Lambda throttles per function", "metric_throttles", "Sum"),
            per_function("Lambda duration p99 (ms)", "metric_duration", "p99"),
        )
        database_widgets: list[cloudwatch.IWidget] = []
        if database is not None:
            database_widgets = [
                cloudwatch.GraphWidget(
                    title="Postgres CPU % and connections",
                    left=[database.instance.metric_cpu_utilization(period=FIVE_MINUTES)],
                    right=[
                        database.instance.metric_database_connections(
                            statistic="Maximum", period=FIVE_MINUTES
                        )
                    ],
                    width=12,
                    height=6,
                )
            ]
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="HTTP API requests and 5xx",
                left=[http_api.api.metric_count(statistic="Sum", period=FIVE_MINUTES)],
                right=[http_api.api.metric_server_error(statistic="Sum", period=FIVE_MINUTES)],
                width=12,
                height=6,
            ),
            *database_widgets,
        )
        return dashboard
