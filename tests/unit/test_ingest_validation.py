from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from pulse.exceptions import InvalidInputError, MalformedRequestError, PayloadTooLargeError
from pulse.ingest.validation import parse_body

NOW = datetime(2026, 2, 10, 12, 0, 5, tzinfo=UTC)


def body(events: list, **extra: object) -> bytes:
    return json.dumps({"events": events, **extra}).encode()


def test_the_issue_example_is_accepted_and_a_small_skew_is_left_alone() -> None:
    raw = body(
        [
            {
                "event": "page_view",
                "properties": {"path": "/pricing"},
                "distinct_id": "user_42",
                "session_id": "sess_xyz",
                "page_url": "https://example.com/pricing",
                "referrer": "https://google.com",
                "timestamp": "2026-02-10T12:00:00Z",
                "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e",
            }
        ],
        sent_at="2026-02-10T12:00:01Z",
    )
    batch = parse_body(raw, now=NOW)
    assert batch.rejected == []
    [ev] = batch.events
    # server now - sent_at is 4 s: upload latency as much as clock error, under the tolerance,
    # so the client's timestamp is kept and a retry of the event carries the very same one.
    assert ev.timestamp == datetime(2026, 2, 10, 12, 0, 0, tzinfo=UTC)
    assert batch.check_duplicates is False
    assert ev.id == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert (ev.event, ev.distinct_id, ev.session_id) == ("page_view", "user_42", "sess_xyz")


def test_one_bad_event_does_not_sink_the_batch() -> None:
    too_old = (NOW - timedelta(days=32)).isoformat()
    too_new = (NOW + timedelta(hours=2)).isoformat()
    events = [
        {"event": "ok"},
        {"event": ""},
        {"event": "x" * 256},
        {"event": "p", "properties": [1]},
        {"event": "p", "properties": {"blob": "x" * 33 * 1024}},
        {"event": "t", "timestamp": too_old},
        {"event": "t", "timestamp": too_new},
        {"event": "t", "timestamp": "yesterday"},
        {"event": "u", "uuid": "nope"},
        "not an object",
        {"event": "d", "distinct_id": {"a": 1}},
        {"event": "ok2", "distinct_id": 42},
    ]
    batch = parse_body(body(events), now=NOW)
    assert [e.event for e in batch.events] == ["ok", "ok2"]
    assert batch.events[1].distinct_id == "42"
    errors = {r["index"]: r["error"] for r in batch.rejected}
    assert sorted(errors) == list(range(1, 11))
    assert "event name is required" in errors[1]
    assert "longer than 255" in errors[2]
    assert "properties must be a JSON object" in errors[3]
    assert "over the 32768 limit" in errors[4]
    assert "31 days in the past" in errors[5]
    assert "1 hour in the future" in errors[6]
    assert "ISO 8601" in errors[7]
    assert "uuid" in errors[8]
    assert "JSON object" in errors[9]
    assert "distinct_id must be a string" in errors[10]


def test_missing_uuid_and_timestamp_are_filled_by_the_server() -> None:
    [ev] = parse_body(body([{"event": "x"}]), now=NOW).events
    uuid.UUID(ev.id)
    assert ev.timestamp == NOW


@pytest.mark.parametrize(
    ("skew_s", "moved_s", "check"),
    [
        (0.0, 0.0, False),
        (3.0, 0.0, False),
        (-4.9, 0.0, False),
        (5.0, 0.0, True),  # near the tolerance: a retry might be corrected, so look it up
        (-9.9, 0.0, True),
        (10.0, 10.0, True),
        (-75.5, -75.5, True),
        (-7200.0, -7200.0, True),  # a client clock two hours ahead
    ],
)
def test_skew_is_corrected_from_the_tolerance_on_and_checked_from_half_of_it(
    skew_s: float, moved_s: float, check: bool
) -> None:
    client_ts = NOW - timedelta(minutes=5)
    sent_at = NOW - timedelta(seconds=skew_s)
    batch = parse_body(
        body(
            [{"event": "x", "timestamp": client_ts.isoformat(), "uuid": str(uuid.uuid4())}],
            sent_at=sent_at.isoformat(),
        ),
        now=NOW,
    )
    [ev] = batch.events
    assert ev.timestamp == client_ts + timedelta(seconds=moved_s)
    assert batch.check_duplicates is check


def test_a_client_uuid_stamped_with_the_servers_clock_is_checked() -> None:
    # No timestamp: the server's "now" is the timestamp, and a retry gets another one.
    stamped = parse_body(body([{"event": "x", "uuid": str(uuid.uuid4())}]), now=NOW)
    assert stamped.check_duplicates is True
    assert stamped.events[0].timestamp == NOW
    # Without a uuid the server makes one, so a retry is a new event anyway: nothing to check.
    assert parse_body(body([{"event": "x"}]), now=NOW).check_duplicates is False
    # Without sent_at the client's timestamps are kept as they are.
    kept = parse_body(body([{"event": "x", "timestamp": "2026-02-10T11:00:00Z"}]), now=NOW)
    assert kept.check_duplicates is False
    assert kept.events[0].timestamp == datetime(2026, 2, 10, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("retry", "check"),
    [(None, False), (0, False), (False, False), (1, True), (2, True), (True, True)],
)
def test_a_resend_marked_as_retry_is_checked(retry: object, check: bool) -> None:
    extra = {} if retry is None else {"retry": retry}
    raw = body([{"event": "x", "timestamp": NOW.isoformat()}], sent_at=NOW.isoformat(), **extra)
    assert parse_body(raw, now=NOW).check_duplicates is check


@pytest.mark.parametrize("retry", [-1, "yes", 1.5, [1]])
def test_a_malformed_retry_field_is_refused(retry: object) -> None:
    with pytest.raises(InvalidInputError, match="retry"):
        parse_body(body([{"event": "x"}], retry=retry), now=NOW)


def test_skew_correction_applies_before_the_window_check() -> None:
    # The client's clock is 3 hours ahead: its "now" is fine once corrected.
    client_now = (NOW + timedelta(hours=3)).isoformat()
    [ev] = parse_body(
        body([{"event": "x", "timestamp": client_now}], sent_at=client_now), now=NOW
    ).events
    assert abs((ev.timestamp - NOW).total_seconds()) < 1


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        (b"{not json", MalformedRequestError, "not valid JSON"),
        (b"[1,2]", MalformedRequestError, "JSON object"),
        (body([]), InvalidInputError, "non-empty list"),
        (json.dumps({"events": {"a": 1}}).encode(), InvalidInputError, "non-empty list"),
        (body([{"event": "x"}] * 101), InvalidInputError, "at most 100 events"),
        (body([{"event": "x"}], sent_at="soon"), InvalidInputError, "sent_at"),
        (b" " * (1024 * 1024 + 1), PayloadTooLargeError, "over 1048576 bytes"),
    ],
)
def test_unusable_bodies_are_refused_whole(raw: bytes, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        parse_body(raw, now=NOW)


def test_the_api_key_may_come_in_the_body() -> None:
    assert parse_body(body([{"event": "x"}], api_key="proj_abc"), now=NOW).api_key == "proj_abc"
    assert parse_body(body([{"event": "x"}], api_key=5), now=NOW).api_key is None
