"""Generated ingest payloads through the real ingest and processor handlers (moto's Kinesis, real
Postgres): every answer is a 4xx or a 202, the processor never fails a record it was given, and
each accepted event is stored once and reads back equal to what was sent. Bounded: ``EXAMPLES``
batches. And SQL-looking strings are stored as data."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from tests.integration import test_ingest_pipeline as pipeline
from tests.integration.conftest import ApiCall
from tests.integration.test_ingest_pipeline import drain, ingest, process

kinesis = pipeline.kinesis
project = pipeline.project

EXAMPLES = 100
# Every character, lone surrogates included (json.dumps writes them as \ud800 escapes).
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
ODD_TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=12),
    st.sampled_from(["\x00", "a\x00", "\ud800", "x\udfff", "\u202e", "\ufeff", "🏳️‍🌈", "e\u0301"]),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**66), max_value=2**66),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2**63 - 1, -(2**63), 2**64 - 1, 2**64 + 1, 10**20, -0.0, 5e-324]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, ODD_TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(ODD_TEXT, inner, max_size=4)
    ),
    max_leaves=20,
)
UUIDS = [str(uuid.uuid4()) for _ in range(4)]  # a small pool: duplicates within a batch


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"d": value}
    return value


def _recent(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


EVENTS = st.fixed_dictionaries(
    {
        "event": st.one_of(st.text(min_size=1, max_size=20), ODD_TEXT, st.integers()),
        # Mostly from the pool (read back and compared), sometimes not a uuid at all.
        "uuid": st.one_of(st.sampled_from(UUIDS), st.sampled_from(UUIDS), ODD_TEXT),
    },
    optional={
        "properties": st.one_of(
            st.dictionaries(ODD_TEXT, JSON_VALUES, max_size=5),
            st.builds(_deep, st.sampled_from([10, 249, 250, 251, 300, 1100])),
            st.builds(lambda n: {"big": "x" * n}, st.sampled_from([100, 40_000])),
            JSON_VALUES,
        ),
        "distinct_id": st.one_of(ODD_TEXT, st.integers(), st.lists(st.integers(), max_size=2)),
        "session_id": ODD_TEXT,
        "timestamp": st.one_of(
            st.builds(_recent, st.floats(min_value=-3600 * 24 * 30, max_value=1800)),
            st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "x"]),
            st.integers(),
        ),
    },
)
NORMAL_BATCHES = st.fixed_dictionaries(
    {"events": st.lists(EVENTS, min_size=1, max_size=6)},
    optional={
        "sent_at": st.one_of(
            st.builds(_recent, st.floats(min_value=-600, max_value=600)),
            st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]),
        ),
        "retry": st.one_of(st.booleans(), st.integers(min_value=-2, max_value=3)),
    },
)
# Huge: a body over 1 MB, more events than a request may hold, or not an object at all.
HUGE_BATCHES = st.one_of(
    st.builds(lambda n: {"events": [{"event": "x", "properties": {"s": "x" * n}}]},
              st.sampled_from([1_100_000, 2_000_000])),
    st.builds(lambda n: {"events": [{"event": "x"}] * n}, st.sampled_from([101, 5000])),
    st.builds(lambda v: {"events": v}, st.one_of(st.none(), st.integers(), st.text(), st.just([]))),
)  # fmt: skip
BATCHES = st.one_of(NORMAL_BATCHES, NORMAL_BATCHES, NORMAL_BATCHES, HUGE_BATCHES)


def _exact(value: Any) -> Any:
    """A JSON value with every number as a Decimal, so that 1e300 and its digits compare
    equal (jsonb keeps numbers as numeric), and -0.0 equals 0."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return {k: _exact(v) for k, v in value.items()}


def _stored(db: Any, project_id: str, ids: list[str]) -> dict[str, list[tuple[str, Any]]]:
    rows = db.execute(
        "SELECT id::text, event, properties::text FROM events"
        " WHERE project_id = %s AND id = ANY(%s::uuid[])",
        (project_id, ids),
    ).fetchall()
    out: dict[str, list[tuple[str, Any]]] = {}
    for event_id, name, props in rows:
        parsed = json.loads(props, parse_float=Decimal, parse_int=Decimal)
        out.setdefault(event_id, []).append((name, parsed))
    return out


def _record_key(record: dict[str, Any]) -> tuple[str, str]:
    return record["PartitionKey"], record["SequenceNumber"]


def test_generated_payloads_are_refused_or_stored_intact(kinesis, project, db) -> None:
    seen_records: set[tuple[str, str]] = set()
    tallies: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        # No shrinking: each step of it is a round trip through both functions (minutes).
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    @given(batch=BATCHES)
    def run(batch: dict[str, Any]) -> None:
        # The pool's uuids start unstored, so that what is read back is this example's.
        db.execute(
            "DELETE FROM events WHERE project_id = %s AND id = ANY(%s::uuid[])",
            (project["id"], UUIDS),
        )
        raw = json.dumps(batch)
        note(raw)
        res = ingest(None, key=project["api_key"], raw=raw)
        assert res.status < 500, res.body
        tallies[f"answer {res.status}"] += 1
        if res.status != 202:
            assert res.status in (400, 413, 422), res.body
            return
        rejected = {r["index"] for r in res.json()["rejected"]}
        assert res.json()["accepted"] == len(batch["events"]) - len(rejected)
        # (moto numbers each shard's records on its own: the partition key tells them apart)
        fresh = [r for r in drain(kinesis) if _record_key(r) not in seen_records]
        seen_records.update(_record_key(r) for r in fresh)
        assert process(fresh) == {"batchItemFailures": []}  # never a poisoned processor
        sent: dict[str, list[tuple[str, Any]]] = {}
        for index, event in enumerate(batch["events"]):
            if index in rejected or event.get("uuid") not in UUIDS:
                continue
            version = (event["event"], _exact(event.get("properties") or {}))
            sent.setdefault(str(uuid.UUID(event["uuid"])), []).append(version)
        tallies["events compared"] += len(sent)
        stored = _stored(db, project["id"], list(sent))
        for event_id, versions in sent.items():
            assert len(stored.get(event_id, [])) == 1, event_id  # once, whatever the duplicates
            # Stored as one of the versions sent with this uuid (the first to be written).
            assert stored[event_id][0] in versions, (stored[event_id][0], versions)

    run()
    print(dict(tallies))  # shown with -s: what the examples exercised
    assert tallies["events compared"] > 0


SQL_LIKE = [
    "'; DROP TABLE events; --",
    "1' OR '1'='1",
    "Robert'); DROP TABLE users;--",
    "$$; SELECT pg_sleep(10); $$",
    "\\'; TRUNCATE projects; --",
    "%s %(x)s {0} ${x}",
]


@pytest.mark.parametrize("text", SQL_LIKE)
def test_sql_looking_strings_are_stored_as_data(
    kinesis, project, api: ApiCall, db, text: str
) -> None:
    event = {
        "event": text,
        "distinct_id": text,
        "session_id": text,
        "properties": {text: text, "nested": [text, {text: 1}]},
        "uuid": str(uuid.uuid4()),
    }
    assert ingest({"events": [event]}, key=project["api_key"]).status == 202
    assert process(drain(kinesis)) == {"batchItemFailures": []}
    res = api(
        "GET",
        f"/api/v1/analytics/{project['id']}/events",
        token=project["token"],
        query="range=24h",
    )
    assert res.status == 200, res.body
    [stored] = [e for e in res.json()["events"] if e["uuid"] == event["uuid"]]
    assert stored["event"] == text and stored["distinct_id"] == text
    assert stored["session_id"] == text and stored["properties"] == event["properties"]
    for table in ("events", "users", "projects"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0
