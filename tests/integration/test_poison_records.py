"""One record the database refuses costs no other record of its batch (real Postgres and Redis,
the processor handler called with Kinesis events). The poison records are written straight onto
the stream's shape, past the ingest function, so that what is tested is the processor's own
isolation of them."""

from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from pulse import cache
from pulse.exceptions import DataLayerError
from pulse.processor import live
from tests.apigw import LambdaContextStub
from tests.kinesis_events import stream_event


def new_project_ids(db: psycopg.Connection[Any], n: int) -> list[str]:
    """Projects that exist (the processor stores no events for a project that does not)."""
    [(owner,)] = db.execute(
        "INSERT INTO users (email, password_hash) VALUES (%s, 'x') RETURNING id",
        (f"poison-{uuid.uuid4().hex[:8]}@example.com",),
    ).fetchall()
    return [
        str(
            db.execute(
                "INSERT INTO projects (owner_id, name, api_key) VALUES (%s, 'p', %s) RETURNING id",
                (owner, f"proj_{secrets.token_urlsafe(24)}"),
            ).fetchone()[0]
        )
        for _ in range(n)
    ]


def record(project_id: str, n: int, **overrides: Any) -> dict[str, Any]:
    """A record as the ingest function writes it: n events of one project."""
    now = datetime.now(UTC)
    return {
        "v": 1,
        "project_id": project_id,
        "received_at": now.isoformat(),
        "check": False,
        "user_agent": "UA",
        "ip_hash": "h" * 32,
        "events": [
            {
                "id": str(uuid.uuid4()),
                "event": "page_view",
                "session_id": f"s{i % 2}",
                "properties": {"i": i},
                "timestamp": (now - timedelta(seconds=i)).isoformat(),
            }
            for i in range(n)
        ],
        **overrides,
    }


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def _poison_event(**fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "event": "page_view",
        "timestamp": datetime.now(UTC).isoformat(),
        **fields,
    }


# What a record can hold that the database (or, the last one, orjson) refuses.
POISONS: dict[str, dict[str, Any]] = {
    "NUL in a property value": {"events": [_poison_event(properties={"k": "\x00"})]},
    "NUL in a nested property key": {"events": [_poison_event(properties={"a": {"b\x00": 1}})]},
    "NUL in the event name": {"events": [_poison_event(event="x\x00")]},
    "NUL in distinct_id": {"events": [_poison_event(distinct_id="u\x00")]},
    "NUL in session_id": {"events": [_poison_event(session_id="\x00")]},
    "NUL in page_url": {"events": [_poison_event(page_url="https://x.example/\x00")]},
    "NUL in referrer": {"events": [_poison_event(referrer="\x00")]},
    "an index entry over the size limit": {
        "events": [_poison_event(distinct_id=secrets.token_hex(8000))]
    },
    "properties nested past what orjson writes": {
        "events": [_poison_event(properties=nested(300))]
    },
}


def stored(db: psycopg.Connection[Any], project_ids: list[str]) -> Counter[str]:
    """How many times each event id is stored, for these projects."""
    rows = db.execute(
        "SELECT id::text FROM events WHERE project_id = ANY(%s::uuid[])", (project_ids,)
    ).fetchall()
    return Counter(r[0] for r in rows)


def live_count(project_id: str) -> int:
    redis = cache.get_redis()
    return sum(
        int(redis.hget(key, "events") or 0)
        for key in redis.scan_iter(match=live.counters_key(project_id, "*"))
        if not str(key).endswith("sessions")
    )


def recent_ids(project_id: str) -> set[str]:
    import json

    items = cache.get_redis().lrange(live.recent_key(project_id), 0, -1)
    return {json.loads(item)["uuid"] for item in items}


def ids_of(*payloads: dict[str, Any]) -> set[str]:
    return {ev["id"] for p in payloads for ev in p["events"]}


def failed(result: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


@pytest.mark.parametrize("poison", list(POISONS), ids=list(POISONS))
def test_a_poison_record_fails_alone_and_every_other_project_keeps_its_events(
    database: str, db: psycopg.Connection[Any], poison: str
) -> None:
    from pulse.handlers.processor import handler

    # Given a batch of records from three projects, one of them poisoned
    a, b, c = new_project_ids(db, 3)
    bad = {**record(b, 1), **POISONS[poison]}
    good = [
        record(a, 3),
        record(b, 2),
        record(c, 1, check=True),
        record(a, 2, check=True),
        record(c, 4),
        record(b, 1),
        record(a, 1),
    ]
    payloads = [*good[:3], bad, *good[3:]]
    event = stream_event(payloads)
    seqs = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]

    # When the processor gets it
    result = handler(event, LambdaContextStub())

    # Then only the poison record is reported, and every other event is stored exactly once
    assert failed(result) == [seqs[3]]
    counts = stored(db, [a, b, c])
    assert set(counts) == ids_of(*good)
    assert set(counts.values()) == {1}
    # and counted live, per project
    for project, n in ((a, 6), (b, 3), (c, 5)):
        assert live_count(project) == n
    assert recent_ids(a) == ids_of(*(p for p in good if p["project_id"] == a))

    # When the event source mapping retries from the poison record, as Kinesis does
    retry = stream_event(payloads[3:], first_seq=1003)
    assert failed(handler(retry, LambdaContextStub())) == [seqs[3]]
    # Then nothing is written or counted twice
    assert stored(db, [a, b, c]) == counts
    assert [live_count(p) for p in (a, b, c)] == [6, 3, 5]


def test_several_poison_records_anywhere_in_a_batch_are_each_found(
    database: str, db: psycopg.Connection[Any]
) -> None:
    from pulse.handlers.processor import handler

    a, b = new_project_ids(db, 2)
    poison = POISONS["NUL in a property value"]
    payloads = [
        {**record(a, 1), **poison},  # first
        *[record(a if i % 2 else b, 2) for i in range(20)],
        {**record(b, 1), **POISONS["NUL in the event name"]},  # two side by side
        {**record(a, 1), **POISONS["NUL in distinct_id"]},
        *[record(b, 1) for _ in range(9)],
        {**record(a, 1), **poison},  # last
    ]
    event = stream_event(payloads)
    seqs = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    bad_positions = [0, 21, 22, len(payloads) - 1]

    result = handler(event, LambdaContextStub())

    assert failed(result) == [seqs[i] for i in bad_positions]
    good = [p for i, p in enumerate(payloads) if i not in bad_positions]
    counts = stored(db, [a, b])
    assert set(counts) == ids_of(*good) and set(counts.values()) == {1}


def _kill_the_copy(db: psycopg.Connection[Any]) -> None:
    """End the server process running the events COPY (a lost connection, seen from the
    processor) and wait until it is gone."""
    query = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND query LIKE 'COPY events%%'"
    )
    pids = [r[0] for r in db.execute(query).fetchall()]
    assert pids, "no COPY running"
    for pid in pids:
        db.execute("SELECT pg_terminate_backend(%s)", (pid,))
    deadline = time.monotonic() + 5
    while db.execute(query).fetchall():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_lost_connection_reports_every_record_failed_without_isolating(
    database: str, db: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulse.data import events as events_data
    from pulse.handlers.processor import handler
    from pulse.processor import service

    # Given a batch, poison included, whose COPY loses its connection
    a, b = new_project_ids(db, 2)
    payloads = [record(a, 2), {**record(b, 1), **POISONS["NUL in the event name"]}, record(b, 3)]
    event = stream_event(payloads)
    real_copy_text = events_data.copy_text
    isolated: list[int] = []

    def copy_text_then_lose_the_connection(rows: Any) -> str:
        _kill_the_copy(db)
        return real_copy_text(rows)

    def write_events(rows: Any, **kwargs: Any) -> Any:
        isolated.append(len(rows))
        return events_data.write_events(rows, **kwargs)

    monkeypatch.setattr(events_data, "copy_text", copy_text_then_lose_the_connection)
    monkeypatch.setattr(service, "write_events", write_events)

    # When the processor gets it
    result = handler(event, LambdaContextStub())

    # Then every record is reported failed, and no record was tried on its own
    assert failed(result) == [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    assert isolated == []
    assert stored(db, [a, b]) == Counter()

    # And the retry, with the connection back, stores every good event once
    monkeypatch.setattr(events_data, "copy_text", real_copy_text)
    result = handler(event, LambdaContextStub())
    assert failed(result) == [event["Records"][1]["kinesis"]["sequenceNumber"]]
    counts = stored(db, [a, b])
    assert set(counts) == ids_of(payloads[0], payloads[2]) and set(counts.values()) == {1}


def test_a_lost_connection_while_isolating_leaves_the_rest_to_the_retry(
    database: str, db: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulse.data import events as events_data
    from pulse.handlers.processor import handler
    from pulse.processor import service

    # Given a batch with a poison record, and a database that goes away during the isolation
    [a] = new_project_ids(db, 1)
    payloads = [record(a, 2) for _ in range(8)]
    payloads[3] = {**payloads[3], **POISONS["NUL in distinct_id"]}
    event = stream_event(payloads)
    seqs = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    calls: list[int] = []

    def write_events(rows: Any, **kwargs: Any) -> Any:
        calls.append(len(rows))
        if len(calls) == 3:
            try:
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            except psycopg.OperationalError as exc:
                raise DataLayerError("database error: OperationalError") from exc
        return events_data.write_events(rows, **kwargs)

    monkeypatch.setattr(service, "write_events", write_events)

    # When the processor gets it
    result = handler(event, LambdaContextStub())

    # Then the records stored before the failure are not reported, all the others are
    reported = failed(result)
    assert seqs[3] in reported
    assert len(calls) == 3 and 0 < len(reported) < len(seqs)
    kept = [p for s, p in zip(seqs, payloads, strict=True) if s not in reported]
    counts = stored(db, [a])
    assert set(counts) == ids_of(*kept) and set(counts.values()) == {1}

    # And the retry from the lowest failed record stores the rest, once, and reports the poison
    monkeypatch.setattr(service, "write_events", events_data.write_events)
    first = seqs.index(reported[0])
    retry = stream_event(payloads[first:], first_seq=1000 + first)
    assert failed(handler(retry, LambdaContextStub())) == [seqs[3]]
    counts = stored(db, [a])
    good = [p for i, p in enumerate(payloads) if i != 3]
    assert set(counts) == ids_of(*good) and set(counts.values()) == {1}
