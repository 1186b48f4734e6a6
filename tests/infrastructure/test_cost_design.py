"""The design choices docs/cost.md prices, as the template carries them: ingest's own function URL
(and the snippet pointing the SDK at it), Lambda's platform log lines filtered out, a provisioned
stream with a throttling alarm, no RDS Proxy by default, the interface endpoints in the one AZ
of the database and Redis, storage room for a year at the measured bytes an event, and the
context switches to on-demand Kinesis, to RDS Proxy and to endpoints in both AZs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from pulse.wiring import WIRING, Wiring
from pulse_infra import names
from pulse_infra.app import build_app, cdk_json_context
from pulse_infra.constructs import hosting
from tests.infrastructure.conftest import OFFLINE
from tests.infrastructure.synthesized import Synthesized, ref_id, synthesize
from tests.infrastructure.test_data_stores import functions_group, ingress_sources

PRICES = Path(__file__).resolve().parents[2] / "docs" / "prices.json"


@pytest.fixture(scope="module")
def lean() -> Synthesized:
    """The app with -c pulse:streamMode=on-demand -c pulse:databaseProxy=false (the default,
    said explicitly)."""
    context = {
        **cdk_json_context(),
        **OFFLINE,
        names.CONTEXT_STREAM_MODE: "on-demand",
        names.CONTEXT_DATABASE_PROXY: "false",
    }
    app, stack = build_app(context)
    return synthesize(app, stack)


def urls(synth: Synthesized) -> dict[str, dict[str, Any]]:
    """Function URLs by the function they serve."""
    return {
        synth.function_of(u["Properties"]["TargetFunctionArn"]): u["Properties"]
        for u in synth.of_type("AWS::Lambda::Url").values()
    }


def test_ingest_has_a_public_function_url_and_nothing_else_has_one(synth: Synthesized) -> None:
    expected = {fn.name for fn in synth.wiring.functions if fn.function_url}
    assert expected == {"ingest"}
    found = urls(synth)
    assert set(found) == expected
    url = found["ingest"]
    assert url["AuthType"] == "NONE"
    # CORS is the function's own (pulse.ingest.cors: the project's domain), not a blanket rule
    assert "Cors" not in url
    # and anyone may invoke it through the URL, and only through the URL
    (permission,) = [
        p["Properties"]
        for p in synth.of_type("AWS::Lambda::Permission").values()
        if p["Properties"].get("FunctionUrlAuthType") == "NONE"
    ]
    assert permission["Action"] == "lambda:InvokeFunctionUrl"
    assert permission["Principal"] == "*"
    assert synth.function_of(permission["FunctionName"]) == "ingest"


def test_the_snippet_and_config_json_point_the_sdk_at_the_function_url(
    real: Synthesized,
) -> None:
    (url_id,) = real.of_type("AWS::Lambda::Url")
    ingest_output = json.dumps(real.outputs[names.OUTPUT_INGEST_URL]["Value"])
    assert url_id in ingest_output and '"api/v1/events/ingest"' in ingest_output
    snippet = json.dumps(real.outputs[names.OUTPUT_SDK_SNIPPET]["Value"])
    assert "data-api=" in snippet and url_id in snippet
    (config,) = [
        d["Properties"]
        for d in real.of_type("Custom::CDKBucketDeployment").values()
        if "SourceMarkers" in d["Properties"]
    ]
    assert url_id in json.dumps(config["SourceMarkers"])
    assert real.stack.hosting.config["ingestUrl"]


def test_without_a_function_url_the_sdk_keeps_its_own_origin() -> None:
    assert hosting.sdk_snippet("https://d.example", None) == (
        '<script src="https://d.example/sdk/tracker.min.js" data-project="YOUR_PROJECT_KEY" '
        "defer></script>"
    )
    assert 'data-api="https://u.example/api/v1/events/ingest"' in hosting.sdk_snippet(
        "https://d.example", hosting.ingest_endpoint("https://u.example/")
    )


def test_platform_log_lines_are_filtered_and_the_applications_kept(synth: Synthesized) -> None:
    for name, (_, props) in synth.functions.items():
        logging = props["LoggingConfig"]
        assert logging["LogFormat"] == "JSON", name
        # WARN drops START/END/REPORT; INFO keeps the app's lines and its EMF metrics
        assert logging["SystemLogLevel"] == "WARN", name
        assert logging["ApplicationLogLevel"] == "INFO", name


def test_ingest_is_sized_for_waiting_not_computing(real: Synthesized) -> None:
    _, ingest = real.functions["ingest"]
    assert ingest["MemorySize"] == WIRING.function("ingest").memory_mb == 512
    assert all(props["Architectures"] == ["arm64"] for _, props in real.functions.values())


def test_a_provisioned_stream_alarms_when_it_throttles_writes(real: Synthesized) -> None:
    alarms = [a["Properties"] for a in real.of_type("AWS::CloudWatch::Alarm").values()]
    throttles = [a for a in alarms if a.get("MetricName") == "PutRecords.ThrottledRecords"]
    assert len(throttles) == len(real.wiring.streams)
    for alarm in throttles:
        assert alarm["Namespace"] == "AWS/Kinesis"
        assert alarm["Threshold"] == names.ALARM_STREAM_THROTTLED_RECORDS
        assert "shard" in alarm["AlarmDescription"]


def test_on_demand_streams_are_a_context_switch_away(lean: Synthesized) -> None:
    for _, props in lean.streams.values():
        assert props["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
        assert "ShardCount" not in props
    alarms = [a["Properties"] for a in lean.of_type("AWS::CloudWatch::Alarm").values()]
    assert not [a for a in alarms if a.get("MetricName") == "PutRecords.ThrottledRecords"]


@pytest.mark.parametrize("variant", ["real", "lean"])
def test_without_the_proxy_the_functions_reach_the_instance_directly(
    variant: str, request: pytest.FixtureRequest
) -> None:
    # Given the default app (no RDS Proxy) or the switch said explicitly
    lean: Synthesized = request.getfixturevalue(variant)
    lean.template.resource_count_is("AWS::RDS::DBProxy", 0)
    ((instance_id, instance),) = lean.of_type("AWS::RDS::DBInstance").items()
    (instance_sg,) = {ref_id(g) for g in instance["Properties"]["VPCSecurityGroups"]}
    # The instance admits the functions' group, and nothing else
    assert {src for src, _ in ingress_sources(lean, instance_sg)} == {functions_group(lean)}
    # The functions' URL names the instance's endpoint, with TLS
    for name, (_, props) in lean.functions.items():
        url = props["Environment"]["Variables"].get("PULSE_DATABASE_URL")
        if url is None:
            continue
        text = json.dumps(url)
        assert instance_id in text and "Endpoint.Address" in text, name
        assert "sslmode=require" in text
    assert instance_id in json.dumps(lean.outputs[names.OUTPUT_DATABASE_ENDPOINT]["Value"])


def test_with_the_proxy_switch_the_url_names_the_proxy(proxied: Synthesized) -> None:
    (proxy_id,) = proxied.of_type("AWS::RDS::DBProxy")
    _, api = proxied.functions["api"]
    assert proxy_id in json.dumps(api["Environment"]["Variables"]["PULSE_DATABASE_URL"])


def test_an_unknown_proxy_switch_is_refused() -> None:
    context = {**cdk_json_context(), **OFFLINE, names.CONTEXT_DATABASE_PROXY: "maybe"}
    with pytest.raises(ValueError, match="databaseProxy"):
        build_app(context)


def test_storage_can_grow_past_a_year_at_100m_events_a_month(real: Synthesized) -> None:
    # The bytes an event occupies with its indexes and what the rollup derives from it, as
    # measured by scripts/bench/storage.py (docs/prices.json); events are never deleted
    workload = json.loads(PRICES.read_text())["workload"]
    (instance,) = real.of_type("AWS::RDS::DBInstance").values()
    year_at_100m_gb = 100e6 * 12 * workload["stored_bytes_per_event"] / 1024**3
    assert int(instance["Properties"]["MaxAllocatedStorage"]) > year_at_100m_gb


def _subnet_azs(synth: Synthesized, subnet_refs: list[Any]) -> list[str]:
    return [
        json.dumps(synth.resources[ref_id(s)]["Properties"]["AvailabilityZone"], sort_keys=True)
        for s in subnet_refs
    ]


def test_the_endpoints_share_the_one_az_of_the_database_and_redis(real: Synthesized) -> None:
    # Given the default app: a single-AZ database and one Redis node
    (instance,) = real.of_type("AWS::RDS::DBInstance").values()
    (redis,) = real.of_type("AWS::ElastiCache::ReplicationGroup").values()
    db_az = json.dumps(instance["Properties"]["AvailabilityZone"], sort_keys=True)
    (redis_az,) = [
        json.dumps(az, sort_keys=True) for az in redis["Properties"]["PreferredCacheClusterAZs"]
    ]
    # Then the database and Redis are pinned to the same AZ
    assert redis_az == db_az
    endpoints = real.vpc_endpoints("Interface").values()
    assert len(endpoints) == 2
    for endpoint in endpoints:
        # and each interface endpoint has its one network interface there
        assert _subnet_azs(real, endpoint["Properties"]["SubnetIds"]) == [db_az]


def _app(**context: str) -> Synthesized:
    app, stack = build_app({**cdk_json_context(), **OFFLINE, **context})
    return synthesize(app, stack)


def test_the_data_az_can_be_the_second_or_left_unpinned() -> None:
    # Given -c pulse:dataAz=1: the database, Redis and the endpoints in the VPC's second AZ
    second = _app(**{names.CONTEXT_DATA_AZ: "1"})
    (instance,) = second.of_type("AWS::RDS::DBInstance").values()
    db_az = instance["Properties"]["AvailabilityZone"]
    assert db_az["Fn::Select"][0] == 1
    (redis,) = second.of_type("AWS::ElastiCache::ReplicationGroup").values()
    assert redis["Properties"]["PreferredCacheClusterAZs"] == [db_az]
    for endpoint in second.vpc_endpoints("Interface").values():
        assert _subnet_azs(second, endpoint["Properties"]["SubnetIds"]) == [
            json.dumps(db_az, sort_keys=True)
        ]
    # Given -c pulse:dataAz=none (an install created before the pin): nothing is pinned
    unpinned = _app(**{names.CONTEXT_DATA_AZ: "none"})
    (instance,) = unpinned.of_type("AWS::RDS::DBInstance").values()
    assert "AvailabilityZone" not in instance["Properties"]
    (redis,) = unpinned.of_type("AWS::ElastiCache::ReplicationGroup").values()
    assert "PreferredCacheClusterAZs" not in redis["Properties"]
    # and a value that names no AZ is refused
    with pytest.raises(ValueError, match="dataAz"):
        _app(**{names.CONTEXT_DATA_AZ: "2"})


def test_the_endpoints_in_both_azs_are_a_context_switch_away(proxied: Synthesized) -> None:
    for endpoint in proxied.vpc_endpoints("Interface").values():
        azs = _subnet_azs(proxied, endpoint["Properties"]["SubnetIds"])
        assert len(set(azs)) == 2


def test_an_unknown_endpoint_az_count_is_refused() -> None:
    context = {**cdk_json_context(), **OFFLINE, names.CONTEXT_ENDPOINT_AZS: "3"}
    with pytest.raises(ValueError, match="endpointAzs"):
        build_app(context)


def test_an_unknown_stream_mode_is_refused() -> None:
    context = {**cdk_json_context(), **OFFLINE, names.CONTEXT_STREAM_MODE: "elastic"}
    wiring = dataclasses.replace(
        Wiring((WIRING.function("processor"),), ()), streams=WIRING.streams
    )
    with pytest.raises(ValueError, match="streamMode"):
        build_app(context, wiring=wiring)
