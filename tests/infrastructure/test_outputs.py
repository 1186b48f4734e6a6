"""The stack's outputs: stable names that scripts, docs and tests read."""

from __future__ import annotations

from pulse_infra import access, names
from tests.infrastructure.synthesized import Synthesized, ref_id


def test_outputs_have_their_stable_names(synth: Synthesized) -> None:
    wiring = synth.wiring
    expected = {
        names.OUTPUT_HTTP_API_URL,
        names.OUTPUT_DATABASE_ENDPOINT,
        names.OUTPUT_DATABASE_SECRET_ARN,
        names.OUTPUT_REDIS_ENDPOINT,
        names.OUTPUT_DASHBOARD_URL,
        names.OUTPUT_SDK_SNIPPET,
        names.OUTPUT_SITE_BUCKET,
        names.OUTPUT_ALARM_TOPIC,
        *(names.stream_output(s.name) for s in wiring.streams),
        *(names.secret_output(s.name) for s in wiring.secrets),
        *(names.function_output(f.name) for f in wiring.functions),
        *((names.OUTPUT_WEBSOCKET_URL,) if wiring.websocket_routes else ()),
        *((names.OUTPUT_ARCHIVE_BUCKET,) if access.uses_archive(wiring) else ()),
        *(
            (names.OUTPUT_INGEST_URL,)
            if any(f.name == names.INGEST_FUNCTION and f.function_url for f in wiring.functions)
            else ()
        ),
    }
    assert set(synth.outputs) == expected


def test_the_real_outputs_include_the_ones_documented(real: Synthesized) -> None:
    for name in (
        "HttpApiUrl",
        "WebSocketUrl",
        "EventsStreamName",
        "JwtSecretArn",
        "MigrateFunctionName",
        "DashboardUrl",
        "SdkSnippet",
    ):
        assert name in real.outputs, name


def test_outputs_point_at_the_right_resources(synth: Synthesized) -> None:
    url = synth.outputs[names.OUTPUT_HTTP_API_URL]["Value"]["Fn::GetAtt"]
    assert synth.resources[url[0]]["Type"] == "AWS::ApiGatewayV2::Api"
    assert url[1] == "ApiEndpoint"
    for stream in synth.wiring.streams:
        value = synth.outputs[names.stream_output(stream.name)]["Value"]
        assert synth.stream_name_of(value) == names.resource_name(stream.name)
    for fn in synth.wiring.functions:
        value = synth.outputs[names.function_output(fn.name)]["Value"]
        assert synth.function_of(value) == fn.name
    for secret in synth.wiring.secrets:
        value = synth.outputs[names.secret_output(secret.name)]["Value"]
        assert synth.resources[ref_id(value)]["Type"] == "AWS::SecretsManager::Secret"
