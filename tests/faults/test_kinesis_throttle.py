"""Kinesis throttles PutRecords: partial failures (some records refused with
``ProvisionedThroughputExceededException``), then whole calls refused. Ingest retries the failed
records, and answers 503 when they still fail; never a 202 for a record the stream does not hold.

The ingest function's Kinesis client is wrapped at the boundary: the records a scripted
throttle lets through reach a real (moto) stream, the others get Kinesis's error shape.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pulse import cache
from pulse.ingest import publisher
from pulse.processor import live

# The integration fixtures: a fresh test database, the API, a project with its key, moto Kinesis.
from tests.integration.conftest import (  # noqa: F401
    _redis_cleanup,
    api,
    api_handler,
    database,
    db,
    new_user,
)
from tests.integration.test_ingest_pipeline import (  # noqa: F401
    STREAM,
    drain,
    ingest,
    kinesis,
    now_iso,
    process,
    project,
)

THROTTLED = {
    "ErrorCode": "ProvisionedThroughputExceededException",
    "ErrorMessage": "Rate exceeded for shard shardId-000000000000 in stream pulse-events",
}


class ThrottlingKinesis:
    """The real client, except that each PutRecords call is first shown to ``throttle``: it
    returns the indexes of the records to refuse, or None to refuse the whole call."""

    def __init__(self, real: Any, throttle: Callable[[int, int], set[int] | None]) -> None:
        self.real, self.throttle, self.calls = real, throttle, 0

    def put_records(self, *, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        refused = self.throttle(self.calls, len(Records))
        if refused is None:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate"}},
                "PutRecords",
            )
        let_through = [r for i, r in enumerate(Records) if i not in refused]
        results = iter(
            self.real.put_records(StreamName=StreamName, Records=let_through)["Records"]
            if let_through
            else []
        )
        out = [THROTTLED if i in refused else next(results) for i in range(len(Records))]
        return {"FailedRecordCount": len(refused), "Records": out}


@pytest.fixture
def throttled(kinesis: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., ThrottlingKinesis]:  # noqa: F811
    def _install(throttle: Callable[[int, int], set[int] | None]) -> ThrottlingKinesis:
        client = ThrottlingKinesis(kinesis, throttle)
        monkeypatch.setattr(publisher, "_client", client)
        return client

    return _install


def _batch(api_key: str, sessions: int = 4, per_session: int = 2) -> tuple[dict[str, Any], set]:
    """A batch whose events make ``sessions`` records (one per session)."""
    ids = [str(uuid.uuid4()) for _ in range(sessions * per_session)]
    body = {
        "api_key": api_key,
        "sent_at": now_iso(),
        "events": [
            {
                "event": "page_view",
                "uuid": u,
                "session_id": f"s{i % sessions}",
                "timestamp": now_iso(),
            }
            for i, u in enumerate(ids)
        ],
    }
    return body, set(ids)


def _in_stream(client: Any) -> list[str]:
    return [e["id"] for r in drain(client) for e in json.loads(r["Data"])["events"]]


def _stored_once_and_published(db: Any, project_id: str, accepted: set[str], client: Any) -> None:  # noqa: F811
    """Every accepted event stored once after the stream is processed, and the live feed (the
    project's channel) gets them."""
    feed = cache.get_redis().pubsub()
    feed.subscribe(live.channel(project_id))
    feed.get_message(timeout=1)  # the subscription's confirmation
    assert process(drain(client)) == {"batchItemFailures": []}
    rows = [
        str(r[0]) for r in db.execute("SELECT id FROM events WHERE project_id = %s", (project_id,))
    ]
    assert accepted <= set(rows), f"{len(accepted - set(rows))} accepted events lost"
    assert len(rows) == len(set(rows)), "an event was stored twice"
    message = feed.get_message(timeout=2)
    feed.close()
    assert message and message["type"] == "message", "the live feed got nothing"


def test_partial_failures_are_retried_and_then_accepted(
    kinesis: Any,  # noqa: F811
    throttled: Callable[..., ThrottlingKinesis],
    project: dict[str, Any],  # noqa: F811
    db: Any,  # noqa: F811
) -> None:
    # Given a stream that refuses every other record of the first two calls
    client = throttled(lambda call, n: {i for i in range(n) if i % 2 == 0} if call <= 2 else set())
    body, ids = _batch(project["api_key"])
    # When a batch is posted
    res = ingest(body)
    # Then the refused records were retried until the stream took them: 202, each event once
    assert res.status == 202, res.body
    assert client.calls == 3
    assert sorted(_in_stream(kinesis)) == sorted(ids)
    _stored_once_and_published(db, project["id"], ids, kinesis)


def test_partial_then_full_throttling_is_a_503_and_the_resent_batch_is_stored_once(
    kinesis: Any,  # noqa: F811
    throttled: Callable[..., ThrottlingKinesis],
    project: dict[str, Any],  # noqa: F811
    db: Any,  # noqa: F811
) -> None:
    # Given a stream that takes half of the first call, then refuses every call
    state = {"open": False}

    def throttle(call: int, n: int) -> set[int] | None:
        if state["open"]:
            return set()
        return set(range(n // 2, n)) if call == 1 else None

    throttled(throttle)
    body, ids = _batch(project["api_key"])
    # When a batch is posted
    res = ingest(body)
    # Then the client is told to retry (503 with Retry-After), though part of it is in the stream
    assert res.status == 503, res.body
    assert res.headers["retry-after"] == "1"
    assert 0 < len(_in_stream(kinesis)) < len(ids)
    # And when the throttling ends and the client resends the same batch, as the SDK does
    state["open"] = True
    assert ingest(body).status == 202
    # Then every event is stored once (the first attempt's records are dropped as duplicates)
    _stored_once_and_published(db, project["id"], ids, kinesis)


def test_never_a_202_for_a_record_the_stream_does_not_hold(
    kinesis: Any,  # noqa: F811
    throttled: Callable[..., ThrottlingKinesis],
    project: dict[str, Any],  # noqa: F811
    db: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a stream throttling at random: some records, whole calls, or nothing
    monkeypatch.setattr(publisher.time, "sleep", lambda s: None)  # no backoff waits here
    rng = random.Random(13)

    def throttle(call: int, n: int) -> set[int] | None:
        roll = rng.random()
        if roll < 0.3:
            return None
        if roll < 0.8:
            return {i for i in range(n) if rng.random() < 0.5}
        return set()

    throttled(throttle)
    accepted: set[str] = set()
    answers = {202: 0, 503: 0}
    for _ in range(40):
        body, ids = _batch(project["api_key"], sessions=rng.randint(1, 6), per_session=1)
        res = ingest(body)
        answers[res.status] += 1
        if res.status == 202:
            # Then each 202 means every one of its events is in the stream
            assert ids <= set(_in_stream(kinesis)), "a 202 for a record the stream lacks"
            accepted |= ids
    assert answers[202] > 5 and answers[503] > 5, answers
    _stored_once_and_published(db, project["id"], accepted, kinesis)
