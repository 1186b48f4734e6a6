"""Event source mappings equal the declared stream triggers."""

from __future__ import annotations

import math

from pulse_infra import names
from tests.infrastructure.synthesized import Synthesized, ref_id


def test_event_source_mappings_equal_the_declared_triggers(synth: Synthesized) -> None:
    queues = synth.of_type("AWS::SQS::Queue")
    found = {}
    for esm in synth.event_source_mappings:
        key = (synth.function_of(esm["FunctionName"]), synth.stream_name_of(esm["EventSourceArn"]))
        assert key not in found, f"two mappings for {key}"
        found[key] = esm
    assert set(found) == {
        (t.function, names.resource_name(t.stream)) for t in synth.wiring.stream_triggers
    }
    for trigger in synth.wiring.stream_triggers:
        esm = found[(trigger.function, names.resource_name(trigger.stream))]
        assert esm["BatchSize"] == trigger.batch_size
        assert esm["MaximumBatchingWindowInSeconds"] == math.floor(trigger.max_batching_window_s)
        assert esm["StartingPosition"] == trigger.starting_position
        assert esm["MaximumRetryAttempts"] == trigger.maximum_retry_attempts
        assert esm["BisectBatchOnFunctionError"] == trigger.bisect_batch_on_function_error
        assert esm["ParallelizationFactor"] == trigger.parallelization_factor
        assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        destination = esm["DestinationConfig"]["OnFailure"]["Destination"]
        queue = queues[ref_id(destination)]["Properties"]
        assert queue["SqsManagedSseEnabled"] is True


def test_each_trigger_has_its_own_failure_queue_the_function_may_send_to(
    synth: Synthesized,
) -> None:
    destinations = [
        ref_id(esm["DestinationConfig"]["OnFailure"]["Destination"])
        for esm in synth.event_source_mappings
    ]
    assert len(set(destinations)) == len(destinations)
    for esm in synth.event_source_mappings:
        function = synth.function_of(esm["FunctionName"])
        queue = ref_id(esm["DestinationConfig"]["OnFailure"]["Destination"])
        assert "sqs:SendMessage" in synth.actions_on(function, queue)
