"""Ingest refuses, per event, what Postgres cannot store or what would be stored changed."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest

from pulse.exceptions import InvalidInputError
from pulse.ingest import publisher
from pulse.ingest.validation import parse_body

NOW = datetime(2026, 2, 10, 12, 0, 5, tzinfo=UTC)
GOOD = {"event": "page_view", "properties": {"path": "/"}}


def nested(depth: int, leaf: Any, key: str = "k") -> Any:
    """``leaf`` under ``depth`` levels of objects: {"k": {"k": leaf}} for depth 2."""
    value = leaf
    for _ in range(depth):
        value = {key: value}
    return value


def parse(*events: Any, raw: bytes | None = None, **extra: Any) -> Any:
    return parse_body(raw or json.dumps({"events": list(events), **extra}).encode(), now=NOW)


def rejected(batch: Any) -> dict[int, str]:
    return {r["index"]: r["error"] for r in batch.rejected}


NUL = "a\x00b"

# (where the NUL sits, the event carrying it, the path the error must name)
NUL_PLACES = [
    ("event name", {"event": NUL}, "event"),
    ("distinct_id", {**GOOD, "distinct_id": NUL}, "distinct_id"),
    ("session_id", {**GOOD, "session_id": NUL}, "session_id"),
    ("page_url", {**GOOD, "page_url": "https://x.example/" + NUL}, "page_url"),
    ("referrer", {**GOOD, "referrer": NUL}, "referrer"),
    ("uuid", {**GOOD, "uuid": str(uuid.uuid4()) + "\x00"}, "uuid"),
    ("timestamp", {**GOOD, "timestamp": NOW.isoformat() + "\x00"}, "timestamp"),
    ("unknown field", {**GOOD, "extra": NUL}, "extra"),
    ("key of the event", {**GOOD, "ex\x00tra": 1}, "a key of the event"),
    ("the whole value", {**GOOD, "properties": {"k": "\x00"}}, "properties.k"),
    ("property value", {**GOOD, "properties": {"k": NUL}}, "properties.k"),
    ("property key", {**GOOD, "properties": {NUL: 1}}, "a key in properties"),
    ("value, depth 2", {**GOOD, "properties": nested(2, NUL)}, "properties.k.k"),
    ("value, depth 5", {**GOOD, "properties": nested(5, NUL)}, "properties.k.k.k.k.k"),
    ("key, depth 2", {**GOOD, "properties": nested(1, {NUL: 1})}, "a key in properties.k"),
    ("key, depth 5", {**GOOD, "properties": nested(4, {NUL: 1})}, "a key in properties.k.k.k.k"),
    ("list item", {**GOOD, "properties": {"tags": ["ok", NUL]}}, "properties.tags[1]"),
    (
        "key in a list of objects",
        {**GOOD, "properties": {"items": [{"id": 1}, {"i\x00d": 2}]}},
        "a key in properties.items[1]",
    ),
    ("deep in lists", {**GOOD, "properties": {"m": [[["x", [NUL]]]]}}, "properties.m[0][0][1][0]"),
]


@pytest.mark.parametrize(
    ("event", "path"), [p[1:] for p in NUL_PLACES], ids=[p[0] for p in NUL_PLACES]
)
def test_a_nul_anywhere_in_an_event_rejects_that_event_alone(event: dict, path: str) -> None:
    batch = parse(GOOD, event, GOOD)
    assert [e.event for e in batch.events] == ["page_view", "page_view"]
    errors = rejected(batch)
    assert list(errors) == [1]
    assert "NUL character (\\u0000)" in errors[1]
    assert errors[1].startswith(path), errors[1]


def test_the_issues_probe_is_rejected_with_a_clear_message() -> None:
    batch = parse(raw=b'{"events":[{"event":"x","properties":{"k":"\\u0000"}}]}')
    assert batch.events == []
    assert batch.rejected == [
        {
            "index": 0,
            "error": "properties.k contains a NUL character (\\u0000), which cannot be stored",
        }
    ]


# A backslash escaped in JSON (\\) followed by "u0000" is six characters of text, not a NUL.
@pytest.mark.parametrize(
    ("json_string", "text", "is_nul"),
    [
        (r'"\\u0000"', "\\u0000", False),
        (r'"C:\\u0000\\dir"', "C:\\u0000\\dir", False),
        (r'"\\\\u0000"', "\\\\u0000", False),
        (r'"\\\u0000"', "\\\x00", True),  # an escaped backslash, then a real NUL
        (r'"\u0000\\u0000"', "\x00\\u0000", True),
        (r'"x\/\u0000"', "x/\x00", True),
    ],
)
def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(
    json_string: str, text: str, is_nul: bool
) -> None:
    raw = ('{"events":[{"event":"x","properties":{"p":' + json_string + "}}]}").encode()
    assert orjson.loads(raw)["events"][0]["properties"]["p"] == text  # what the JSON says
    batch = parse(raw=raw)
    if is_nul:
        assert batch.events == [] and "NUL" in batch.rejected[0]["error"]
    else:
        assert batch.rejected == []
        assert batch.events[0].properties == {"p": text}


def test_the_same_escape_in_a_key_or_the_name_is_text_too() -> None:
    raw = rb'{"events":[{"event":"\\u0000","properties":{"\\u0000":"\\u0000"}}]}'
    [ev] = parse(raw=raw).events
    assert ev.event == "\\u0000" and ev.properties == {"\\u0000": "\\u0000"}


# (a JSON number literal, the value kept, or None when the event is refused, and a word of the
# error). Integers are kept exactly, or refused when they would be stored as another number
# (orjson reads an integer beyond 64 bits as a double, and writes that double's shortest
# decimal, which jsonb keeps); other numbers are doubles, refused when out of a double's range
# (1e400 fails orjson's parse; 1e-400 would become 0).
NUMBERS = [
    ("18446744073709551615", 18446744073709551615, ""),  # the largest unsigned 64-bit integer
    ("9223372036854775807", 9223372036854775807, ""),
    ("-9223372036854775808", -9223372036854775808, ""),
    ("18446744073709552000", 2.0**64, ""),  # 2**64 as JavaScript writes it; orjson: 1.8…e+19
    ("100000000000000000000", 1e20, ""),  # 1e20 as JavaScript writes it
    ("18446744073709551616", None, "beyond 64 bits"),  # 2**64 exactly: stored as …552000
    ("18446744073709551617", None, "beyond 64 bits"),
    ("-9223372036854775809", None, "beyond 64 bits"),
    ("123456789012345678901234567890", None, "beyond 64 bits"),
    ("1e400", None, "out of range"),
    ("-1E+400", None, "out of range"),
    ("1" + "0" * 400, None, "beyond 64 bits"),
    ("9" * 309, None, "beyond 64 bits"),  # as many digits as the largest double, yet beyond it
    ("1" + "0" * 308, 1e308, ""),
    ("1e-400", None, "out of range"),
    ("0." + "0" * 400 + "1", None, "out of range"),
    ("0e-400", 0.0, ""),
    ("0", 0, ""),
    ("-0", 0, ""),
    ("-0.0", -0.0, ""),
    ("1.7976931348623157e308", 1.7976931348623157e308, ""),
    ("5e-324", 5e-324, ""),
    ("0.1", 0.1, ""),
    ("1.00000000000000000001", 1.0, ""),  # more digits than a double holds: rounded, like JS
    ("1234567890123456789.5", 1234567890123456789.5, ""),
]


@pytest.mark.parametrize(("literal", "kept", "error"), NUMBERS, ids=[n[0][:24] for n in NUMBERS])
@pytest.mark.parametrize("where", ["top", "deep", "list"])
def test_numbers_are_kept_as_sent_or_the_event_is_refused(
    literal: str, kept: Any, error: str, where: str
) -> None:
    holder = {
        "top": ('{"n":', "}", "properties.n"),
        "deep": ('{"a":{"b":{"n":', "}}}", "properties.a.b.n"),
        "list": ('{"l":[1,', "]}", "properties.l[1]"),
    }[where]
    props = holder[0] + literal + holder[1]
    raw = ('{"events":[{"event":"ok"},{"event":"x","properties":' + props + "}]}").encode()
    batch = parse(raw=raw)
    assert batch.events[0].event == "ok"
    if kept is None:
        assert [e.event for e in batch.events] == ["ok"]
        [(index, message)] = rejected(batch).items()
        assert index == 1
        assert message.startswith(holder[2]) and error in message, message
    else:
        assert batch.rejected == []
        value = batch.events[1].properties
        for step in {"top": ["n"], "deep": ["a", "b", "n"], "list": ["l", 1]}[where]:
            value = value[step]
        assert value == kept and type(value) is type(kept)
        if not any(c in literal for c in ".eE"):
            # An integer: the text orjson writes (and jsonb keeps) is the very number sent.
            assert Decimal(orjson.dumps(value).decode()) == Decimal(literal)


def test_a_number_out_of_range_as_distinct_id_is_refused() -> None:
    raw = b'{"events":[{"event":"ok","distinct_id":12},{"event":"x","distinct_id":1e999}]}'
    batch = parse(raw=raw)
    assert [e.distinct_id for e in batch.events] == ["12"]
    assert rejected(batch)[1].startswith("distinct_id")


def test_a_number_check_does_not_trip_on_digits_in_text() -> None:
    raw = b'{"events":[{"event":"x","properties":{"card":"12345678901234567890123","v":"e1000"}}]}'
    [ev] = parse(raw=raw).events
    assert ev.properties == {"card": "12345678901234567890123", "v": "e1000"}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_what_is_not_json_stays_a_400_for_the_body(constant: str) -> None:
    from pulse.exceptions import MalformedRequestError

    raw = ('{"events":[{"event":"x","properties":{"n":' + constant + ',"m":1e400}}]}').encode()
    with pytest.raises(MalformedRequestError):
        parse(raw=raw)


def test_a_lone_surrogate_beside_a_number_out_of_range_rejects_its_event() -> None:
    # orjson refuses the body (the 1e400); read the careful way, the surrogate is the event's.
    raw = b'{"events":[{"event":"x","properties":{"n":1e400}},{"event":"\\ud800"},{"event":"ok"}]}'
    batch = parse(raw=raw)
    assert [e.event for e in batch.events] == ["ok"]
    errors = rejected(batch)
    assert sorted(errors) == [0, 1] and "surrogate" in errors[1]


@pytest.mark.parametrize(
    ("timestamp", "sent_at"),
    [
        ("9999-12-31T23:59:59-23:59", None),  # past year 9999 in UTC
        ("0001-01-01T00:00:00+23:59", None),  # before year 1 in UTC
        ("9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z"),  # moved past year 9999 by the skew
        ("0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"),
    ],
)
def test_a_timestamp_out_of_range_rejects_its_event(timestamp: str, sent_at: str | None) -> None:
    extra = {"sent_at": sent_at} if sent_at else {}
    batch = parse({"event": "x", "timestamp": timestamp}, {"event": "ok"}, **extra)
    assert [e.event for e in batch.events] == ["ok"]
    assert "timestamp is out of range" in rejected(batch)[0]


def test_a_sent_at_out_of_range_is_refused_as_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="sent_at is out of range"):
        parse({"event": "x"}, sent_at="9999-12-31T23:59:59-23:59")


# The stream record holds properties three levels deeper (record, event list, event), and orjson
# writes 254 levels at most.
@pytest.mark.parametrize(("depth", "ok"), [(249, True), (250, True), (251, False), (300, False)])
def test_properties_nested_deeper_than_the_record_can_hold_are_refused(
    depth: int, ok: bool
) -> None:
    # ``depth`` objects inside one another inside properties
    deep = {"event": "deep", "properties": nested(depth + 1, 1)}
    batch = parse(deep, GOOD)
    if ok:
        assert [e.event for e in batch.events] == ["deep", "page_view"]
        events = [
            {
                "id": str(uuid.uuid4()),
                "session_id": "s",
                "event": e.event,
                "properties": e.properties,
            }
            for e in batch.events
        ]
        [record] = publisher.build_records(project_id="p", envelope={}, events=events)
        assert orjson.loads(record["Data"])["events"][0]["properties"] == deep["properties"]
    else:
        assert [e.event for e in batch.events] == ["page_view"]
        assert "nested more than 250 levels" in rejected(batch)[0]


def test_a_body_without_any_of_this_takes_no_detour(monkeypatch) -> None:
    from pulse.ingest import validation

    def walked(*_: Any) -> None:
        raise AssertionError("the careful walk ran for a plain body")

    monkeypatch.setattr(validation, "_check_storable", walked)
    monkeypatch.setattr(validation, "_careful_loads", walked)
    batch = parse(
        *[
            {**GOOD, "distinct_id": 42, "properties": {"n": 3.25, "big": 2**53, "e": 1e-7}}
            for _ in range(3)
        ],
        sent_at=(NOW - timedelta(seconds=1)).isoformat(),
    )
    assert len(batch.events) == 3 and batch.rejected == []


def _random_literal(rnd: random.Random) -> str:
    """A JSON number with the digit counts and exponents where doubles and 64 bits end."""
    digits = rnd.choice([1, 2, 15, 17, 18, 19, 20, 21, 25, 309, 310])
    literal = rnd.choice(["", "-"]) + str(rnd.randint(1, 9))
    literal += "".join(rnd.choice("0123456789") for _ in range(digits - 1))
    if rnd.random() < 0.4:
        literal += "." + "".join(rnd.choice("0000000001") for _ in range(rnd.choice([1, 19, 330])))
    if rnd.random() < 0.5:
        exponent = rnd.choice([0, 9, 99, 100, 290, 307, 308, 309, 323, 324, 325, 400])
        literal += rnd.choice("eE") + rnd.choice(["", "+", "-"]) + str(exponent)
    return literal


def test_random_numbers_are_stored_as_sent_or_refused_never_changed() -> None:
    # The look at the raw bytes decides which bodies get the careful parse: a number it let
    # through to orjson unchecked, and that orjson changed, would show here.
    rnd = random.Random(10)
    for _ in range(3000):
        literal = _random_literal(rnd)
        batch = parse(
            raw=('{"events":[{"event":"x","properties":{"n":' + literal + "}}]}").encode()
        )
        exact, is_int = Decimal(literal), not any(c in literal for c in ".eE")
        nearest = float(exact)  # (inf beyond a double)
        if batch.rejected:  # only for a number that would be stored as another
            if is_int:
                assert not -(2**63) <= exact < 2**64 and Decimal(repr(nearest)) != exact, literal
            else:
                assert nearest in (float("inf"), float("-inf")) or (nearest == 0 != exact), literal
            continue
        value = batch.events[0].properties["n"]
        if is_int:  # the very integer, in the text orjson writes
            assert Decimal(orjson.dumps(value).decode()) == exact, literal
        else:  # the nearest double, finite, and zero only for zero
            assert value == nearest and (value != 0 or exact == 0), literal
