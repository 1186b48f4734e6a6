"""EventBridge rules equal the declared schedules."""

from __future__ import annotations

from collections import Counter

from tests.infrastructure.synthesized import Synthesized


def test_rules_equal_the_declared_schedules(synth: Synthesized) -> None:
    found = Counter(
        (expression, function)
        for expression, functions, _ in synth.schedules
        for function in functions
    )
    declared = Counter((s.expression, s.function) for s in synth.wiring.schedules)
    assert found == declared
    assert all(len(functions) == 1 for _, functions, _ in synth.schedules)


def test_sample_wiring_exercises_schedules(sample: Synthesized) -> None:
    assert len(sample.schedules) >= 2


def test_eventbridge_may_invoke_each_scheduled_function(synth: Synthesized) -> None:
    allowed = {
        synth.function_of(p["Properties"]["FunctionName"])
        for p in synth.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    }
    assert allowed == {s.function for s in synth.wiring.schedules}
