"""Alarms on the signals that say events are being lost or late, each with the reason for its
threshold; the SNS topic they notify (address from context); the CloudWatch dashboard."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from pulse.wiring import WIRING, Wiring
from pulse_infra import names
from pulse_infra.app import build_app, cdk_json_context
from tests.infrastructure.conftest import OFFLINE
from tests.infrastructure.synthesized import Synthesized, ref_id


def alarms(synth: Synthesized) -> dict[str, dict[str, Any]]:
    """Alarm name → properties."""
    return {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in synth.of_type("AWS::CloudWatch::Alarm").values()
    }


def watched(props: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(namespace, metric name, dimension value as JSON) of every metric an alarm reads."""
    if "MetricName" in props:
        stats = [{"Metric": props | {"Dimensions": props.get("Dimensions", [])}}]
    else:
        stats = [m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m]
    return [
        (s["Metric"]["Namespace"], s["Metric"]["MetricName"], json.dumps(s["Metric"]["Dimensions"]))
        for s in stats
    ]


def reads(props: dict[str, Any], namespace: str, metric: str, logical_id: str) -> bool:
    return any(
        ns == namespace and name == metric and logical_id in dims
        for ns, name, dims in watched(props)
    )


def test_every_alarm_explains_its_threshold_and_notifies_the_topic(real: Synthesized) -> None:
    (topic,) = real.of_type("AWS::SNS::Topic")
    found = alarms(real)
    assert found
    for name, props in found.items():
        assert len(props["AlarmDescription"]) >= 120, name
        assert [ref_id(a) for a in props["AlarmActions"]] == [topic], name
        assert [ref_id(a) for a in props["OKActions"]] == [topic], name
        assert props["TreatMissingData"] == "notBreaching", name


def test_the_stream_consumers_iterator_age_is_watched(real: Synthesized) -> None:
    found = alarms(real)
    for trigger in real.wiring.stream_triggers:
        props = found[names.resource_name(f"{trigger.function}-{trigger.stream}-iterator-age")]
        function_id = real.functions[trigger.function][0]
        assert reads(props, "AWS/Lambda", "IteratorAge", function_id)
        assert props["Threshold"] == names.ALARM_ITERATOR_AGE_MS
        (stat,) = [m["MetricStat"]["Stat"] for m in props["Metrics"]]
        assert stat == "Maximum"


def test_each_failure_queue_alarms_on_its_first_message(synth: Synthesized) -> None:
    found = alarms(synth)
    queues = {
        r["Properties"]["QueueName"]: logical_id
        for logical_id, r in synth.of_type("AWS::SQS::Queue").items()
    }
    for trigger in synth.wiring.stream_triggers:
        props = found[names.resource_name(f"{trigger.function}-{trigger.stream}-failures")]
        queue = queues[names.resource_name(f"{trigger.function}-{trigger.stream}-failures")]
        assert reads(props, "AWS/SQS", "ApproximateNumberOfMessagesVisible", queue)
        assert props["Threshold"] == 1 and props["EvaluationPeriods"] == 1


def test_errors_and_throttles_are_watched_per_function(synth: Synthesized) -> None:
    found = alarms(synth)
    for fn in synth.wiring.functions:
        function_id = synth.functions[fn.name][0]
        errors = found[names.resource_name(f"{fn.name}-errors")]
        throttles = found[names.resource_name(f"{fn.name}-throttles")]
        assert reads(errors, "AWS/Lambda", "Errors", function_id), fn.name
        assert reads(throttles, "AWS/Lambda", "Throttles", function_id), fn.name
        if "Metrics" in errors:  # a rate: errors over invocations
            assert reads(errors, "AWS/Lambda", "Invocations", function_id), fn.name


def test_http_api_5xx_and_the_database_are_watched(real: Synthesized) -> None:
    found = alarms(real)
    (http_api,) = real.apis_of_protocol("HTTP")
    five_xx = found[names.resource_name("http-api-5xx")]
    assert reads(five_xx, "AWS/ApiGateway", "5xx", http_api)
    assert reads(five_xx, "AWS/ApiGateway", "Count", http_api)
    (instance,) = real.of_type("AWS::RDS::DBInstance")
    cpu = found[names.resource_name("database-cpu")]
    connections = found[names.resource_name("database-connections")]
    assert reads(cpu, "AWS/RDS", "CPUUtilization", instance)
    assert cpu["Threshold"] == names.ALARM_DATABASE_CPU_PERCENT
    assert reads(connections, "AWS/RDS", "DatabaseConnections", instance)
    assert connections["Threshold"] == names.ALARM_DATABASE_CONNECTIONS


def test_the_dashboard_shows_ingest_per_minute_and_the_alarms(real: Synthesized) -> None:
    (dashboard,) = real.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        names.METRIC_EVENTS_ACCEPTED,
        names.METRIC_EVENTS_REJECTED,
        names.METRIC_EVENTS_WRITTEN,
        names.METRIC_BATCH_DURATION,
        "IncomingRecords",
        "IteratorAge",
        "Throttles",
        "CPUUtilization",
        "DatabaseConnections",
        "5xx",
    ):
        assert metric in body, metric
    assert '\\"period\\":60' in body  # per minute
    for alarm_id in real.of_type("AWS::CloudWatch::Alarm"):
        assert alarm_id in body, alarm_id


def test_the_alarm_topic_is_tls_only_and_subscribes_the_address_from_context() -> None:
    # Given an address on the command line (-c pulse:alarmEmail=...)
    context = {**cdk_json_context(), **OFFLINE, names.CONTEXT_ALARM_EMAIL: "ops@example.com"}
    _, stack = build_app(context, wiring=Wiring((WIRING.function("migrate"),), ()))
    template = Template.from_stack(stack)
    # Then the topic mails it
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_without_an_address_there_is_no_subscription(real: Synthesized) -> None:
    assert not real.of_type("AWS::SNS::Subscription")
    assert names.OUTPUT_ALARM_TOPIC in real.outputs


def test_the_dashboard_reads_the_metrics_the_functions_publish() -> None:
    from pulse import observability

    assert names.METRICS_NAMESPACE == observability.NAMESPACE
    assert names.METRICS_SERVICE == observability.SERVICE
    assert (
        names.METRIC_EVENTS_ACCEPTED,
        names.METRIC_EVENTS_REJECTED,
        names.METRIC_EVENTS_WRITTEN,
        names.METRIC_BATCH_DURATION,
    ) == (
        observability.EVENTS_ACCEPTED,
        observability.EVENTS_REJECTED,
        observability.EVENTS_WRITTEN,
        observability.BATCH_DURATION,
    )
