from __future__ import annotations

import importlib

from pulse.wiring import WIRING


def test_every_route_and_trigger_names_a_declared_function() -> None:
    names = {fn.name for fn in WIRING.functions}
    assert len(names) == len(WIRING.functions)
    for route in WIRING.http_routes:
        assert route.function in names, route
    for trigger in WIRING.stream_triggers:
        assert trigger.function in names
        assert trigger.stream in {s.name for s in WIRING.streams}
    for schedule in WIRING.schedules:
        assert schedule.function in names


def test_every_handler_path_resolves_to_a_callable() -> None:
    for fn in WIRING.functions:
        module, _, attr = fn.handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attr)), fn.handler
