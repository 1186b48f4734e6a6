"""``localcloud tail``: how a project's published live events are printed."""

from __future__ import annotations

import json

from localcloud.config import LocalConfig
from localcloud.tail import format_event, lines_of, tail

EVENT = {
    "uuid": "e1",
    "event": "purchase",
    "properties": {"plan": "pro"},
    "distinct_id": "u-42",
    "session_id": "s1",
    "page_url": "https://shop.example/checkout",
    "timestamp": "2026-11-27T14:05:01.123456+00:00",
}


def test_an_event_prints_as_one_aligned_line() -> None:
    line = format_event(EVENT)
    assert line.startswith("14:05:01.123  purchase")
    assert "u-42" in line and "https://shop.example/checkout" in line
    assert line.endswith('{"plan":"pro"}')


def test_long_fields_are_cut_and_missing_ones_shown_as_dashes() -> None:
    line = format_event({"event": "x" * 50, "timestamp": "bad"})
    assert "x" * 19 + "…" in line and "x" * 20 not in line
    assert line.startswith("--:--:--.---") and "  -  " in line


def test_a_published_message_prints_one_line_per_event() -> None:
    message = json.dumps({"type": "events", "project_id": "p", "events": [EVENT, EVENT]})
    assert len(lines_of(message)) == 2
    assert [json.loads(x)["uuid"] for x in lines_of(message, as_json=True)] == ["e1", "e1"]
    assert lines_of("not json") == ["not json"]


def test_a_bad_project_id_is_refused_before_connecting() -> None:
    out: list[str] = []
    assert tail(LocalConfig(), "nope", write=out.append) == 2
    assert "not a project id" in out[0]
