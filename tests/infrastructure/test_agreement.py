"""The agreement test: the synthesized template and the local runtime serve the same thing.

The local runtime routes with ``RouteTable(WIRING.http_routes)`` (and WebSocket messages with
``RouteSelector(WIRING.websocket_routes)`` under ``WIRING.websocket_stage``), runs each function as
``LocalFunction(spec, region)`` with the variables of its own ``LocalRuntime.own_environment``
gives it (the archive's directory), creates its streams and secrets with ``provision`` (the
environment it gives the functions) and hands each ``WIRING.stream_triggers`` entry to a
``StreamPoller``. Each check below starts from the template and asks the local runtime.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from localcloud.aws import provision
from localcloud.config import LocalConfig
from localcloud.http_gateway import RouteTable
from localcloud.lambdas import LocalFunction
from localcloud.runtime import LocalRuntime
from localcloud.ws_gateway import RouteSelector
from pulse.wiring import WIRING
from pulse_infra.constructs.websocket_api import MANAGEMENT_URL_SETTING
from tests.infrastructure.synthesized import Synthesized, ref_id

REGION = "us-east-1"


def concrete_request(route_key: str) -> tuple[str, str]:
    """A request API Gateway would send to ``route_key``: ``ANY`` as GET, parameters filled."""
    method, path = route_key.split(" ", 1)
    path = re.sub(r"\{[^}/]+\+\}", "agreement/probe/path", path)
    path = re.sub(r"\{[^}/]+\}", "probe", path)
    return ("GET" if method == "ANY" else method), path


def test_every_template_route_resolves_locally_to_the_function_it_integrates(
    real: Synthesized,
) -> None:
    table = RouteTable(WIRING.http_routes)
    assert real.routes, "no routes in the template"
    for route_key, function in real.routes.items():
        method, path = concrete_request(route_key)
        matched = table.match(method, path)
        assert matched is not None, f"the local gateway has no route for {route_key}"
        assert matched.route.route_key == route_key
        assert matched.route.function == function, route_key
    assert {r.route_key for r in WIRING.http_routes} == set(real.routes)


def test_every_template_function_runs_locally_with_the_same_handler_and_limits(
    real: Synthesized,
) -> None:
    local = {spec.name: LocalFunction(spec, REGION) for spec in WIRING.functions}
    runtime = LocalRuntime(LocalConfig())
    assert set(real.functions) == set(local)
    log_groups = real.of_type("AWS::Logs::LogGroup")
    for name, (_, props) in real.functions.items():
        fn = local[name]
        context = fn.context()
        assert props["Handler"] == fn.spec.handler
        assert props["FunctionName"] == context.function_name
        assert props["MemorySize"] == context.memory_limit_in_mb
        assert props["Timeout"] == fn.spec.timeout_s
        # a function AWS runs one at a time has one execution environment locally too
        reserved = props.get("ReservedConcurrentExecutions")
        if reserved is not None:
            assert runtime._concurrency(fn.spec) == reserved
        group = log_groups[props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
        assert group["LogGroupName"] == context.log_group_name


class _MotoAws:
    """Stands in for ``AwsEmulator``: in-process moto instead of a server."""

    region = REGION

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


@pytest.fixture(scope="module")
def local_environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What ``provision`` gives the local functions for ``WIRING``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws():
            data_dir: Path = tmp_path_factory.mktemp("localcloud")
            return provision(_MotoAws(), WIRING, data_dir)  # type: ignore[arg-type]


def test_streams_and_secrets_reach_the_functions_under_the_local_names(
    real: Synthesized, local_environment: dict[str, str]
) -> None:
    declared_settings = {s.setting for s in WIRING.secrets} | {
        k for k in local_environment if k.endswith("_STREAM")
    }
    for name, (_, props) in real.functions.items():
        env = props.get("Environment", {}).get("Variables", {})
        for key, value in env.items():
            if key.endswith("_STREAM"):
                assert key in local_environment, f"{name}: {key} unknown to the local runtime"
                assert real.stream_name_of(value) == local_environment[key], key
            if key in declared_settings:
                assert key in local_environment, f"{name}: {key} unknown to the local runtime"


def test_the_archive_is_a_local_directory_where_aws_gives_a_bucket(
    real: Synthesized, tmp_path: Path
) -> None:
    # runtime.py gives each function its own variables (LocalRuntime.own_environment): the
    # archive's directory under the data folder to the functions the wiring lets read or write
    # it; the template gives the same functions the bucket's name
    runtime = LocalRuntime(LocalConfig(data_dir=tmp_path))
    directories, buckets = set(), set()
    for name, (_, props) in real.functions.items():
        env = props.get("Environment", {}).get("Variables", {})
        own = runtime.own_environment(WIRING.function(name))
        assert ("PULSE_ARCHIVE_DIR" in own) == ("PULSE_ARCHIVE_BUCKET" in env), name
        if "PULSE_ARCHIVE_BUCKET" in env:
            directories.add(own["PULSE_ARCHIVE_DIR"])
            buckets.add(json.dumps(env["PULSE_ARCHIVE_BUCKET"], sort_keys=True))
    # one archive for the readers and the writer, in both
    assert directories == {str(tmp_path / "archive")}
    assert len(buckets) == 1


def test_every_mapping_feeds_the_function_the_local_poller_feeds_from_the_same_stream(
    real: Synthesized, local_environment: dict[str, str]
) -> None:
    # runtime.py: StreamPoller(trigger=t, stream_name=env[f"PULSE_{t.stream.upper()}_STREAM"],
    # function=functions[t.function]) for t in WIRING.stream_triggers
    local = {
        (t.function, local_environment[f"PULSE_{t.stream.upper()}_STREAM"]): t
        for t in WIRING.stream_triggers
    }
    template = {
        (real.function_of(esm["FunctionName"]), real.stream_name_of(esm["EventSourceArn"])): esm
        for esm in real.event_source_mappings
    }
    assert set(template) == set(local)
    for key, esm in template.items():
        trigger = local[key]
        assert esm["BatchSize"] == trigger.batch_size
        assert esm["MaximumRetryAttempts"] == trigger.maximum_retry_attempts
        assert esm["BisectBatchOnFunctionError"] == trigger.bisect_batch_on_function_error
        assert esm["StartingPosition"] == trigger.starting_position
        # Lambda takes whole seconds: never longer than the local poller waits, and less than
        # a second shorter.
        window = esm["MaximumBatchingWindowInSeconds"]
        assert window == math.floor(trigger.max_batching_window_s)


def test_schedules_agree_with_what_the_local_scheduler_reads(real: Synthesized) -> None:
    found = sorted((expr, fn) for expr, fns, _ in real.schedules for fn in fns)
    assert found == sorted((s.expression, s.function) for s in WIRING.schedules)


def test_websocket_routes_agree_with_the_local_gateway(real: Synthesized) -> None:
    # ws_gateway: RouteSelector(WIRING.websocket_routes); $connect/$disconnect by key, a
    # message by its "action" (the template's route selection expression), else $default
    selector = RouteSelector(WIRING.websocket_routes)
    assert real.websocket_routes, "no WebSocket routes in the template"
    for route_key, function in real.websocket_routes.items():
        if route_key.startswith("$"):
            local = selector.special(route_key)
        else:
            local = selector.select(json.dumps({"action": route_key}))
        assert local is not None, f"the local gateway has no route for {route_key}"
        assert (local.route_key, local.function) == (route_key, function)
    assert {r.route_key for r in WIRING.websocket_routes} == set(real.websocket_routes)
    (api,) = (real.resources[a]["Properties"] for a in real.apis_of_protocol("WEBSOCKET"))
    assert api["RouteSelectionExpression"] == RouteSelector.EXPRESSION


def test_the_management_endpoint_reaches_the_functions_under_the_same_setting_and_stage(
    real: Synthesized,
) -> None:
    # runtime.py gives every function PULSE_WEBSOCKET_MANAGEMENT_URL = its gateway's
    # http://host:port/{stage}; the template gives it to the pushing functions as the stage's
    # callback URL https://{api}.execute-api.{region}.{suffix}/{stage}.
    runtime = LocalRuntime(LocalConfig())
    with mock.patch.dict(os.environ):
        runtime._function_environment({})
        local_url = os.environ[MANAGEMENT_URL_SETTING]
    assert local_url == runtime.ws_management_url
    (stage,) = (
        s["Properties"]["StageName"]
        for s in real.of_type("AWS::ApiGatewayV2::Stage").values()
        if ref_id(s["Properties"]["ApiId"]) in real.apis_of_protocol("WEBSOCKET")
    )
    assert local_url.endswith(f"/{stage}")
    for name, (_, props) in real.functions.items():
        env = props.get("Environment", {}).get("Variables", {})
        if WIRING.function(name).pushes_to_connections:
            url = json.dumps(env[MANAGEMENT_URL_SETTING])
            assert url.startswith('{"Fn::Join": ["", ["https://", {"Ref": ')
            assert url.endswith(f'"/{stage}"]]}}')
