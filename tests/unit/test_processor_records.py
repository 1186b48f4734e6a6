from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from pulse.processor.records import BadRecord, DecodedRecord, TallyRecord, decode
from tests.kinesis_events import stream_event


def _payload(**overrides: object) -> dict:
    payload = {
        "v": 1,
        "project_id": str(uuid.uuid4()),
        "received_at": "2026-02-10T12:00:01Z",
        "user_agent": "UA",
        "ip_hash": "h",
        "events": [
            {
                "id": str(uuid.uuid4()),
                "event": "page_view",
                "properties": {"a": 1},
                "timestamp": "2026-02-10T12:00:00Z",
            }
        ],
    }
    payload.update(overrides)
    return payload


def test_a_good_record_becomes_rows() -> None:
    payload = _payload()
    [record] = stream_event([payload])["Records"]
    decoded = decode(record)
    assert isinstance(decoded, DecodedRecord)
    assert decoded.sequence_number == record["kinesis"]["sequenceNumber"]
    assert decoded.project_id == payload["project_id"]
    [row] = decoded.rows
    assert str(row[0]) == payload["project_id"] and row[2] == "page_view"
    assert json.loads(row[4]) == {"a": 1}
    assert row[9] == "h"


def test_the_raw_user_agent_of_an_older_record_is_not_kept() -> None:
    # Given a record put on the stream by an ingest function that still sent the User-Agent
    payload = _payload(user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")
    # When it is decoded
    decoded = decode(stream_event([payload])["Records"][0])
    # Then its rows carry no User-Agent (what reports need of it is browser, os and device)
    assert isinstance(decoded, DecodedRecord)
    assert [row[8] for row in decoded.rows] == [None]


def test_what_the_visit_is_goes_on_every_row_of_the_record() -> None:
    # Given a record with the browser, OS, device type and country the ingest function found
    two = _payload()["events"] * 2
    two[1] = {**two[1], "id": str(uuid.uuid4())}
    payload = _payload(browser="Firefox", os="Ubuntu", device="desktop", country="DE", events=two)
    # When it is decoded
    decoded = decode(stream_event([payload])["Records"][0])
    # Then each of its events carries them, in the last four columns
    assert isinstance(decoded, DecodedRecord)
    assert [row[12:] for row in decoded.rows] == [("Firefox", "Ubuntu", "desktop", "DE")] * 2


def test_a_record_from_before_visits_were_known_has_none() -> None:
    decoded = decode(stream_event([_payload()])["Records"][0])
    assert isinstance(decoded, DecodedRecord)
    assert decoded.rows[0][12:] == (None, None, None, None)


def test_visit_fields_the_ingest_function_never_writes_make_a_bad_record() -> None:
    for bad in (
        {"country": "DEU"},
        {"country": 49},
        {"country": "D1"},
        {"browser": 7},
        {"os": "x" * 201},
        {"device": "mob\x00ile"},
    ):
        decoded = decode(stream_event([_payload(**bad)])["Records"][0])
        assert isinstance(decoded, BadRecord), bad


def _tally(**overrides: object) -> dict:
    tally = {
        "v": 1,
        "kind": "bots",
        "project_id": str(uuid.uuid4()),
        "id": str(uuid.uuid4()),
        "received_at": "2026-02-10T12:00:01+00:00",
        "events": 3,
    }
    tally.update(overrides)
    return tally


def test_a_bots_tally_record_is_decoded_as_a_tally() -> None:
    payload = _tally()
    decoded = decode(stream_event([payload])["Records"][0])
    assert isinstance(decoded, TallyRecord)
    assert decoded.tally.project_id == payload["project_id"]
    assert decoded.tally.id == payload["id"]
    assert decoded.tally.at == datetime(2026, 2, 10, 12, 0, 1, tzinfo=UTC)
    assert decoded.tally.events == 3


def test_a_tally_that_is_not_the_ingest_functions_is_a_bad_record() -> None:
    for bad in (
        {"kind": "other"},
        {"v": 2},
        {"events": 0},
        {"events": 101},
        {"events": True},
        {"events": "3"},
        {"id": "not-a-uuid"},
        {"received_at": "yesterday"},
    ):
        decoded = decode(stream_event([_tally(**bad)])["Records"][0])
        assert isinstance(decoded, BadRecord), bad


def test_malformed_records_are_reported_with_a_reason() -> None:
    bad_payloads = [
        b"not json",
        _payload(v=2),
        _payload(events=[]),
        _payload(events=[{"id": "x", "event": "e", "timestamp": "t"}]),
    ]
    for record in stream_event(bad_payloads)["Records"]:
        decoded = decode(record)
        assert isinstance(decoded, BadRecord)
        assert decoded.reason
    record = stream_event([b"x"])["Records"][0]
    record["kinesis"]["data"] = "%%%not-base64"
    assert isinstance(decode(record), BadRecord)


def test_copy_text_escapes_what_copy_would_misread() -> None:
    from datetime import UTC, datetime

    from pulse.data.events import copy_text

    ts = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
    row = (
        "p",
        "i",
        "tab\there",
        None,
        '{"a":"back\\\\slash\\nnl"}',
        "s",
        "line\nbreak",
        "cr\rx",
        "ua",
        None,
        ts,
        ts,
        "Odd\tBrowser",
        "Windows",
        None,
        "DE",
    )
    line = copy_text([row])
    fields = line.rstrip("\n").split("\t")
    assert len(fields) == 16 and line.count("\n") == 1
    assert fields[2] == "tab\\there" and fields[3] == "\\N"
    assert fields[4] == '{"a":"back\\\\\\\\slash\\\\nnl"}'
    assert fields[6] == "line\\nbreak" and fields[7] == "cr\\rx"
    assert fields[10] == "2026-02-10T12:00:00+00:00"
    assert fields[12:] == ["Odd\\tBrowser", "Windows", "\\N", "DE"]


def test_copy_text_fast_path_matches_the_general_one() -> None:
    from datetime import UTC, datetime

    from pulse.data import events

    ts = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
    plain = (
        "p",
        "i",
        "page_view",
        "u1",
        '{"q":"a\\\\"b"}',
        None,
        "https://x.io/",
        None,
        "UA",
        "h",
        ts,
        ts,
        "Chrome",
        "Mac OS X",
        "desktop",
        "FR",
    )
    general = "\t".join(map(events._text, plain)) + "\n"
    assert events.copy_text([plain]) == general
    assert '{"q":"a\\\\\\\\"b"}' in general


def test_properties_nested_past_what_orjson_writes_make_a_bad_record() -> None:
    # orjson reads 1024 levels but writes 254: such a record (never one the ingest function
    # writes) is reported bad on its own, instead of failing the batch's decoding.
    deep: object = 1
    for _ in range(300):
        deep = {"k": deep}
    payload = _payload()
    payload["events"][0]["properties"] = deep
    [record] = stream_event([payload])["Records"]
    decoded = decode(record)
    assert isinstance(decoded, BadRecord)
    assert "Recursion limit" in decoded.reason


def test_a_row_without_the_visit_columns_is_written_with_them_null() -> None:
    from datetime import UTC, datetime

    from pulse.data.events import COLUMNS, copy_text

    ts = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
    row = ("p", "i", "e", None, "{}", None, None, None, None, None, ts, ts)
    fields = copy_text([row]).rstrip("\n").split("\t")
    assert len(fields) == len(COLUMNS) == 16
    assert fields[12:] == ["\\N"] * 4
