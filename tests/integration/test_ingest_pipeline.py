"""Ingest → Kinesis (moto) → processor → Postgres and Redis, through the real handlers."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pulse import cache
from pulse.ingest import publisher
from pulse.processor import live
from tests.apigw import BROWSER_USER_AGENT, LambdaContextStub, call, http_event
from tests.integration.conftest import ApiCall
from tests.kinesis_events import stream_event
from tests.moto_kinesis import mocked_stream

STREAM = "pulse-events"


@pytest.fixture
def kinesis() -> Any:
    with mocked_stream(STREAM) as client:
        yield client


@pytest.fixture
def project(api: ApiCall, new_user) -> dict[str, Any]:
    user = new_user()
    res = api(
        "POST",
        "/api/v1/projects",
        token=user["access_token"],
        body={"name": "Shop", "domain": "shop.example"},
    )
    return {**res.json(), "token": user["access_token"]}


def ingest(
    body: Any,
    *,
    key: str | None = None,
    origin: str | None = None,
    method: str = "POST",
    raw: str | None = None,
) -> Any:
    from pulse.handlers.ingest import handler

    headers = {"content-type": "text/plain"}
    if key:
        headers["x-api-key"] = key
    if origin:
        headers["origin"] = origin
    event = http_event(
        method, "/api/v1/events/ingest", body=raw if raw is not None else body, headers=headers
    )
    event["routeKey"] = f"{method} /api/v1/events/ingest"
    return call(handler, event)


def drain(client: Any) -> list[dict[str, Any]]:
    """Every record on the stream, shard by shard, as the event source mapping reads them."""
    records = []
    for shard in client.list_shards(StreamName=STREAM)["Shards"]:
        it = client.get_shard_iterator(
            StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records.extend(client.get_records(ShardIterator=it, Limit=1000)["Records"])
    return records


def process(records: list[dict[str, Any]]) -> dict[str, Any]:
    from pulse.handlers.processor import handler

    return handler(stream_event([r["Data"] for r in records]), LambdaContextStub())


def now_iso(delta_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat()


def events_of(db, project_id: str) -> list[dict[str, Any]]:
    cur = db.execute("SELECT * FROM events WHERE project_id = %s ORDER BY timestamp", (project_id,))
    cols = [c.name for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_a_batch_lands_in_postgres_exactly_once(kinesis, project, db) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    body = {
        "api_key": project["api_key"],
        "sent_at": now_iso(),
        "events": [
            {
                "event": "page_view",
                "uuid": ids[i],
                "session_id": f"s{i % 2}",
                "distinct_id": "user_42",
                "properties": {"path": f"/p{i}"},
                "timestamp": now_iso(-5),
            }
            for i in range(3)
        ],
    }
    res = ingest(body, origin="https://www.shop.example")
    assert res.status == 202, res.body
    assert res.json() == {"accepted": 3, "rejected": []}
    assert res.headers["access-control-allow-origin"] == "https://www.shop.example"
    records = drain(kinesis)
    assert len(records) == 2  # one record per session
    # A client clock within the tolerance: timestamps kept, the primary key is the check.
    assert [json.loads(r["Data"])["check"] for r in records] == [False, False]
    assert process(records) == {"batchItemFailures": []}
    rows = events_of(db, project["id"])
    assert sorted(str(r["id"]) for r in rows) == sorted(ids)
    assert {r["properties"]["path"] for r in rows} == {"/p0", "/p1", "/p2"}
    assert all(r["ip_hash"] and len(r["ip_hash"]) == 32 for r in rows)
    # The User-Agent is neither put on the stream nor stored: only what is derived from it.
    assert all("user_agent" not in json.loads(r["Data"]) for r in records)
    assert all(r["user_agent"] is None for r in rows)

    # The same Kinesis batch delivered again, and the client's retry of the same events (a new
    # sent_at shifts the skew-corrected timestamps by a little): nothing new.
    assert process(records) == {"batchItemFailures": []}
    body["sent_at"] = now_iso(0.35)
    assert ingest(body).status == 202
    assert process(drain(kinesis)) == {"batchItemFailures": []}
    assert len(events_of(db, project["id"])) == 3


def test_a_client_clock_off_by_minutes_is_corrected_and_its_retry_adds_nothing(
    kinesis, project, db
) -> None:
    # The client's clock is 3 minutes behind: its timestamps move forward, the record asks for
    # the uuids to be looked up, and a retry measured 0.4 s differently adds nothing.
    ids = [str(uuid.uuid4()) for _ in range(2)]
    body = {
        "api_key": project["api_key"],
        "sent_at": now_iso(-180),
        "events": [{"event": "x", "uuid": i, "timestamp": now_iso(-190)} for i in ids],
    }
    assert ingest(body).status == 202
    records = drain(kinesis)
    assert [json.loads(r["Data"])["check"] for r in records] == [True, True]
    assert process(records) == {"batchItemFailures": []}
    [first, _] = events_of(db, project["id"])
    assert abs((first["timestamp"] - datetime.now(UTC)).total_seconds() + 10) < 2
    body["sent_at"] = now_iso(-180.4)
    assert ingest(body).status == 202
    seen = {r["SequenceNumber"] for r in records}
    retry = [r for r in drain(kinesis) if r["SequenceNumber"] not in seen]
    assert len(retry) == 2
    assert process(retry) == {"batchItemFailures": []}
    assert len(events_of(db, project["id"])) == 2


def test_a_resend_marked_retry_is_looked_up_whatever_its_clock(kinesis, project, db) -> None:
    # The first try measured a 12 s skew (corrected); the resend, 4 s (kept as sent): the rows
    # differ, and only the "retry" mark makes the processor look the uuid up.
    event_id = str(uuid.uuid4())
    body = {
        "api_key": project["api_key"],
        "sent_at": now_iso(-12),
        "events": [{"event": "x", "uuid": event_id, "timestamp": now_iso(-20)}],
    }
    assert ingest(body).status == 202
    first = drain(kinesis)
    assert process(first) == {"batchItemFailures": []}
    body.update(sent_at=now_iso(-4), retry=1)
    assert ingest(body).status == 202
    resend = [r for r in drain(kinesis) if r["SequenceNumber"] != first[0]["SequenceNumber"]]
    assert [json.loads(r["Data"])["check"] for r in resend] == [True]
    assert process(resend) == {"batchItemFailures": []}
    assert len(events_of(db, project["id"])) == 1


def test_the_raw_ip_is_never_stored(kinesis, project, db) -> None:
    assert ingest({"events": [{"event": "x"}]}, key=project["api_key"]).status == 202
    process(drain(kinesis))
    [row] = events_of(db, project["id"])
    assert "198.51.100.7" not in json.dumps(row, default=str)


def test_visitors_behind_our_cloudfront_are_hashed_under_their_own_ip(
    kinesis, project, db, monkeypatch
) -> None:
    from pulse import edge
    from pulse.handlers.ingest import handler
    from pulse.ingest import enrichment

    # Given ingest behind our distribution: API Gateway sees the edge, CloudFront adds the
    # visitor's address and the stack's edge secret; and a direct caller forging the address
    secret = "edge-" + uuid.uuid4().hex
    monkeypatch.setenv(edge.EDGE_SECRET_SETTING, secret)
    monkeypatch.delenv(edge.EDGE_SECRET_ARN_SETTING, raising=False)
    edge.reset()
    edge_ip, visitors = "130.176.1.10", ["203.0.113.1", "203.0.113.2"]

    def send(name: str, headers: dict[str, str]) -> None:
        event = http_event(
            "POST",
            "/api/v1/events/ingest",
            body={"events": [{"event": name}]},
            headers={
                "content-type": "text/plain",
                "x-api-key": project["api_key"],
                "user-agent": BROWSER_USER_AGENT,
                **headers,
            },
            source_ip=edge_ip,
        )
        assert call(handler, event).status == 202

    try:
        for n, visitor in enumerate(visitors):
            send(f"v{n}", {edge.EDGE_SECRET_HEADER: secret, edge.CLIENT_IP_HEADER: visitor})
        send("forged", {edge.EDGE_SECRET_HEADER: "guess", edge.CLIENT_IP_HEADER: visitors[0]})
    finally:
        edge.reset()
    process(drain(kinesis))

    # Then each visitor has the hash of their own IP, and the forgery the edge's
    rows = {r["event"]: r for r in events_of(db, project["id"])}
    salt = enrichment.daily_salt(datetime.now(UTC))
    user_agent = enrichment.user_agent(BROWSER_USER_AGENT)  # hashed, not stored

    def expected(ip: str) -> str:
        return enrichment.ip_hash(salt=salt, project_id=project["id"], ip=ip, user_agent=user_agent)

    assert rows["v0"]["ip_hash"] == expected(visitors[0])
    assert rows["v1"]["ip_hash"] == expected(visitors[1])
    assert rows["v0"]["ip_hash"] != rows["v1"]["ip_hash"]
    assert rows["forged"]["ip_hash"] == expected(edge_ip)


def test_key_in_header_or_body_and_bad_keys_are_401(kinesis, project, api) -> None:
    assert ingest({"events": [{"event": "x"}]}, key=project["api_key"]).status == 202
    assert ingest({"events": [{"event": "x"}], "api_key": project["api_key"]}).status == 202
    for key in (None, "proj_unknown", "garbage", "proj_\x00x", "proj_é"):
        res = ingest({"events": [{"event": "x"}]}, key=key)
        assert res.status == 401, key
        assert res.json()["error"]["code"] == "unauthorized"


def test_a_rotated_key_stops_at_once(kinesis, project, api) -> None:
    assert ingest({"events": [{"event": "x"}]}, key=project["api_key"]).status == 202
    rotated = api("POST", f"/api/v1/projects/{project['id']}/rotate-key", token=project["token"])
    assert ingest({"events": [{"event": "x"}]}, key=project["api_key"]).status == 401
    assert ingest({"events": [{"event": "x"}]}, key=rotated.json()["api_key"]).status == 202


def test_a_key_looked_up_across_a_rotation_is_not_kept_for_later_requests(
    kinesis, project, api, monkeypatch
) -> None:
    from pulse.ingest import keys

    old_key = project["api_key"]
    lookup = keys._from_database
    rotated: list[str] = []

    def lookup_then_rotate(api_key: str) -> keys.ProjectKey | None:
        # A request reads the key from Postgres; before it finishes, the key is rotated and
        # a request on another thread sees the rotation.
        found = lookup(api_key)
        if api_key == old_key and not rotated:
            res = api(
                "POST", f"/api/v1/projects/{project['id']}/rotate-key", token=project["token"]
            )
            rotated.append(res.json()["api_key"])
            assert ingest({"events": [{"event": "x"}]}, key=rotated[0]).status == 202
        return found

    monkeypatch.setattr(keys, "_from_database", lookup_then_rotate)
    # The request that began before the rotation is accepted
    assert ingest({"events": [{"event": "x"}]}, key=old_key).status == 202
    assert rotated
    # and every request after it refuses the old key
    assert ingest({"events": [{"event": "x"}]}, key=old_key).status == 401


def test_a_deleted_projects_key_stops_at_once(kinesis, project, api) -> None:
    assert ingest({"events": [{"event": "x"}]}, key=project["api_key"]).status == 202
    api("DELETE", f"/api/v1/projects/{project['id']}", token=project["token"])
    assert ingest({"events": [{"event": "x"}]}, key=project["api_key"]).status == 401


def test_limits_and_partial_batches(kinesis, project) -> None:
    key = project["api_key"]
    big = json.dumps({"events": [{"event": "x", "properties": {"b": "x" * 1024 * 1024}}]})
    assert ingest(None, key=key, raw=big).status == 413
    res = ingest({"events": [{"event": "ok"}, {"event": ""}, {"event": "ok2"}]}, key=key)
    assert res.status == 202
    assert res.json()["accepted"] == 2
    assert res.json()["rejected"] == [
        {"index": 1, "error": "event name is required (a non-empty string)"}
    ]
    res = ingest({"events": [{"event": ""}]}, key=key)
    assert res.status == 422 and res.json()["error"]["details"][0]["index"] == 0
    assert ingest(None, key=key, raw="{oops").status == 400
    assert ingest({"events": [{"event": "x"}] * 101}, key=key).status == 422


def test_cors_is_limited_to_the_projects_domain(kinesis, project) -> None:
    key = project["api_key"]
    assert (
        ingest({"events": [{"event": "x"}]}, key=key, origin="https://shop.example").status == 202
    )
    res = ingest({"events": [{"event": "x"}]}, key=key, origin="https://evil.example")
    assert res.status == 403
    pre = ingest(None, method="OPTIONS", origin="https://shop.example")
    assert pre.status == 204
    assert pre.headers["access-control-allow-origin"] == "https://shop.example"
    assert "POST" in pre.headers["access-control-allow-methods"]


def test_rate_limit_per_key(kinesis, project) -> None:
    from pulse.handlers import ingest as ingest_handler
    from pulse.ingest.service import handle

    tight = dataclasses.replace(ingest_handler.settings, rate_limit_per_minute=3)
    event = http_event(
        "POST",
        "/api/v1/events/ingest",
        body={"events": [{"event": "x"}]},
        headers={"x-api-key": project["api_key"]},
    )
    statuses = [handle(event, tight)["statusCode"] for _ in range(5)]
    assert statuses[:3] == [202, 202, 202] and statuses[3:] == [429, 429]
    limited = handle(event, tight)
    assert 1 <= int(limited["headers"]["retry-after"]) <= 60


def test_stream_failure_is_503_and_acknowledges_nothing(kinesis, project, monkeypatch) -> None:
    class Down:
        def put_records(self, **_: Any) -> dict:
            raise ConnectionError("kinesis unreachable")

    monkeypatch.setattr(publisher, "kinesis_client", lambda: Down())
    monkeypatch.setattr(publisher.time, "sleep", lambda s: None)
    res = ingest({"events": [{"event": "x"}]}, key=project["api_key"])
    assert res.status == 503
    assert res.headers["retry-after"] == "1"


def _record_payload(project_id: str, n: int, **overrides: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "project_id": project_id,
        "received_at": now_iso(),
        "check": False,  # what the ingest function writes for a client clock within tolerance
        "user_agent": "UA",
        "ip_hash": "h" * 32,
        "events": [
            {"id": str(uuid.uuid4()), "event": "e", "session_id": "s", "timestamp": now_iso(-i)}
            for i in range(n)
        ],
        **overrides,
    }


def test_a_malformed_record_is_reported_and_the_rest_written(project, db) -> None:
    from pulse.handlers.processor import handler

    good1, good2 = _record_payload(project["id"], 2), _record_payload(project["id"], 3)
    event = stream_event([good1, b"{broken", good2])
    bad_seq = event["Records"][1]["kinesis"]["sequenceNumber"]
    result = handler(event, LambdaContextStub())
    assert result == {"batchItemFailures": [{"itemIdentifier": bad_seq}]}
    assert len(events_of(db, project["id"])) == 5
    # The event source mapping retries from the bad record: the good one after it is not doubled.
    handler(stream_event([b"{broken", good2], first_seq=1001), LambdaContextStub())
    assert len(events_of(db, project["id"])) == 5


@pytest.mark.parametrize("checked", [False, True], ids=["trusted", "checked"])
def test_a_processor_failing_half_way_loses_and_doubles_nothing(
    project, db, monkeypatch, checked: bool
) -> None:
    from pulse.data import events as events_data
    from pulse.handlers.processor import handler
    from pulse.processor import service

    payloads = [_record_payload(project["id"], 4, check=checked) for _ in range(3)]
    event = stream_event(payloads)
    # One record per chunk, so that the failure comes after part of the batch reached the server.
    monkeypatch.setattr(service, "DECODE_CHUNK_RECORDS", 1)
    real_copy_text = events_data.copy_text
    calls = []

    # Trusted and checked rows alike go into the batch's one COPY: the second chunk fails there.
    def second_chunk_fails(rows: Any) -> str:
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("connection lost mid-COPY")
        return real_copy_text(rows)

    monkeypatch.setattr(events_data, "copy_text", second_chunk_fails)
    result = handler(event, LambdaContextStub())
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
        r["kinesis"]["sequenceNumber"] for r in event["Records"]
    ]
    assert events_of(db, project["id"]) == []
    monkeypatch.setattr(events_data, "copy_text", real_copy_text)
    assert handler(event, LambdaContextStub()) == {"batchItemFailures": []}
    assert handler(event, LambdaContextStub()) == {"batchItemFailures": []}
    assert len(events_of(db, project["id"])) == 12


def _moved(payload: dict[str, Any], seconds: float, **overrides: Any) -> dict[str, Any]:
    """The same events again, their timestamps moved (a client retry whose skew correction
    measured a little differently)."""
    events = [
        {
            **ev,
            "timestamp": (
                datetime.fromisoformat(ev["timestamp"]) + timedelta(seconds=seconds)
            ).isoformat(),
        }
        for ev in payload["events"]
    ]
    return {**payload, "events": events, **overrides}


def test_a_checked_retry_with_moved_timestamps_adds_nothing(project, db) -> None:
    from pulse.handlers.processor import handler

    first = _record_payload(project["id"], 3, check=True)
    assert handler(stream_event([first]), LambdaContextStub()) == {"batchItemFailures": []}
    fresh = _record_payload(project["id"], 2)
    retry = stream_event([_moved(first, 0.35), fresh], first_seq=2000)
    assert handler(retry, LambdaContextStub()) == {"batchItemFailures": []}
    rows = events_of(db, project["id"])
    assert len(rows) == 5
    first_ids = {ev["id"] for ev in first["events"]}
    # The stored copies are the first delivery's, at the first timestamps.
    assert {r["timestamp"] for r in rows if str(r["id"]) in first_ids} == {
        datetime.fromisoformat(ev["timestamp"]) for ev in first["events"]
    }


def test_a_retry_moved_across_a_month_boundary_is_found_in_the_other_partition(project, db) -> None:
    from pulse.handlers.processor import handler

    now = datetime.now(UTC)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    first = _record_payload(project["id"], 1, check=True)
    first["events"][0]["timestamp"] = (month_start - timedelta(seconds=1)).isoformat()
    handler(stream_event([first]), LambdaContextStub())
    retry = _moved(first, 2.5)  # now in this month's partition, the stored copy in last month's
    assert handler(stream_event([retry], first_seq=5000), LambdaContextStub()) == {
        "batchItemFailures": []
    }
    [row] = events_of(db, project["id"])
    assert row["timestamp"] == month_start - timedelta(seconds=1)


def test_a_record_without_the_check_flag_is_checked(project, db) -> None:
    from pulse.handlers.processor import handler

    first = _record_payload(project["id"], 3)
    del first["check"]  # as written by an ingest function from before the flag
    handler(stream_event([first]), LambdaContextStub())
    moved = _moved(first, 1.5)
    assert handler(stream_event([moved], first_seq=3000), LambdaContextStub()) == {
        "batchItemFailures": []
    }
    assert len(events_of(db, project["id"])) == 3


def test_a_redelivered_record_beside_new_ones_writes_each_event_once(project, db) -> None:
    from pulse.handlers.processor import handler

    old = _record_payload(project["id"], 3)
    handler(stream_event([old]), LambdaContextStub())
    # A bisected retry: the stored record again, between two new ones. The primary key turns
    # the fast COPY down, and the batch is written again the careful way.
    new1, new2 = _record_payload(project["id"], 2), _record_payload(project["id"], 4)
    event = stream_event([new1, old, new2], first_seq=4000)
    assert handler(event, LambdaContextStub()) == {"batchItemFailures": []}
    assert len(events_of(db, project["id"])) == 9
    # The live counters and the recent list got each event once.
    redis = cache.get_redis()
    counted = sum(
        int(redis.hget(key, "events") or 0)
        for key in redis.scan_iter(match=live.counters_key(project["id"], "*"))
        if not str(key).endswith("sessions")
    )
    assert counted == 9
    recent = [
        json.loads(item)["uuid"] for item in redis.lrange(live.recent_key(project["id"]), 0, -1)
    ]
    assert sorted(recent) == sorted(
        ev["id"] for record in (old, new1, new2) for ev in record["events"]
    )


def test_an_event_outside_the_premade_partitions_is_still_written(project, db) -> None:
    from pulse.handlers.processor import handler

    payload = _record_payload(project["id"], 2)
    # Far ahead of the months the fast path makes sure of (the ingest function would refuse
    # it; a record replayed from long retention could be as far back).
    payload["events"][1]["timestamp"] = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    assert handler(stream_event([payload]), LambdaContextStub()) == {"batchItemFailures": []}
    assert len(events_of(db, project["id"])) == 2


def test_a_partition_is_remembered_only_once_other_threads_can_write_to_it(
    project, db, monkeypatch
) -> None:
    from pulse.data import events
    from pulse.processor.records import rows_of

    # Given rows in a month no partition exists for yet, and a second writer on another thread
    # that runs the moment the first has made the partition and remembered it
    when = datetime(2041, 6, 15, tzinfo=UTC)
    payload = _record_payload(project["id"], 2)
    for n, ev in enumerate(payload["events"]):
        ev["timestamp"] = (when + timedelta(minutes=n)).isoformat()
    _, (first, second) = rows_of(payload)
    outcome: list[Any] = []

    def write_second() -> None:
        try:
            outcome.append(len(events.write_events([second])))
        except Exception as error:
            outcome.append(error)

    class Remembered(set[str]):
        def update(self, *months: Any) -> None:
            super().update(*months)
            if not outcome:
                other = threading.Thread(target=write_second)
                other.start()
                other.join(30)

    monkeypatch.setattr(events, "_partitions_ready", Remembered(events._partitions_ready))
    try:
        # When the first writer makes the partition
        assert len(events.write_events([first])) == 1
        # Then the second, trusting it, finds it there
        assert outcome == [1]
        assert len(events_of(db, project["id"])) == 2
    finally:
        db.execute("DROP TABLE IF EXISTS events_204106")


def test_a_record_with_an_impossible_timestamp_fails_alone(project, db) -> None:
    from pulse.handlers.processor import handler

    good = _record_payload(project["id"], 2)
    # Well-formed JSON, but a date that does not exist.
    bad = _record_payload(project["id"], 1)
    bad["events"][0]["timestamp"] = "2026-13-45T99:00:00Z"
    event = stream_event([good, bad])
    result = handler(event, LambdaContextStub())
    assert result == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][1]["kinesis"]["sequenceNumber"]}]
    }
    assert len(events_of(db, project["id"])) == 2


def test_redis_gets_counters_recent_events_dirty_hours_and_a_publish(project, db) -> None:
    from pulse.handlers.processor import handler

    redis = cache.get_redis()
    pubsub = redis.pubsub()
    pubsub.subscribe(live.channel(project["id"]))
    pubsub.get_message(timeout=1)  # subscription confirmation
    payload = _record_payload(project["id"], 3)
    handler(stream_event([payload]), LambdaContextStub())

    message = None
    for _ in range(20):
        message = pubsub.get_message(timeout=0.5)
        if message and message["type"] == "message":
            break
    assert message is not None
    body = json.loads(message["data"])
    assert body["type"] == "events" and body["project_id"] == project["id"]
    assert sorted(e["uuid"] for e in body["events"]) == sorted(e["id"] for e in payload["events"])
    assert set(body["events"][0]) == {
        "uuid",
        "event",
        "properties",
        "distinct_id",
        "session_id",
        "page_url",
        "timestamp",
    }
    recent = redis.lrange(live.recent_key(project["id"]), 0, -1)
    assert len(recent) == 3
    hours = {
        datetime.fromisoformat(e["timestamp"]).strftime("%Y-%m-%dT%H:00:00Z")
        for e in payload["events"]
    }
    total = sum(int(redis.hget(live.counters_key(project["id"], h), "events") or 0) for h in hours)
    assert total == 3
    dirty = redis.smembers(live.dirty_key())
    assert {f"{project['id']}|{h}" for h in hours} <= dirty
    marked = db.execute(
        "SELECT count(*) FROM rollup_dirty_hours WHERE project_id = %s", (project["id"],)
    ).fetchone()[0]
    assert marked == len(hours)
    pubsub.close()


def test_a_redis_failure_never_fails_the_write(project, db, monkeypatch) -> None:
    from pulse.handlers.processor import handler

    def broken() -> Any:
        raise ConnectionError("redis down")

    monkeypatch.setattr(live.cache, "get_redis", broken)
    assert handler(stream_event([_record_payload(project["id"], 2)]), LambdaContextStub()) == {
        "batchItemFailures": []
    }
    assert len(events_of(db, project["id"])) == 2


def test_concurrent_deliveries_of_one_batch_write_it_once(project, db) -> None:
    from pulse.handlers.processor import handler

    event = stream_event([_record_payload(project["id"], 5)])
    threads = [
        threading.Thread(target=handler, args=(event, LambdaContextStub())) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(events_of(db, project["id"])) == 5


def test_the_batch_is_published_only_to_a_channel_with_subscribers(project) -> None:
    from pulse.data.events import written_items
    from pulse.processor.records import rows_of

    redis = cache.get_redis()
    _, rows = rows_of(_record_payload(project["id"], 3))
    assert live.publish(written_items(rows)) == {project["id"]: 0}  # nobody listens
    assert len(redis.lrange(live.recent_key(project["id"]), 0, -1)) == 3  # still kept
    pubsub = redis.pubsub()
    pubsub.subscribe(live.channel(project["id"]))
    pubsub.get_message(timeout=1)
    _, more = rows_of(_record_payload(project["id"], 2))
    assert live.publish(written_items(more)) == {project["id"]: 2}
    message = None
    for _ in range(20):
        message = pubsub.get_message(timeout=0.5)
        if message and message["type"] == "message":
            break
    assert message is not None and len(json.loads(message["data"])["events"]) == 2
    pubsub.close()


def test_the_issues_probe_is_refused_and_nothing_reaches_the_stream(kinesis, project) -> None:
    probe = '{"events":[{"event":"x","properties":{"k":"\\u0000"}}]}'
    res = ingest(None, key=project["api_key"], raw=probe)
    assert res.status == 422
    assert res.json()["error"]["details"] == [
        {
            "index": 0,
            "error": "properties.k contains a NUL character (\\u0000), which cannot be stored",
        }
    ]
    assert drain(kinesis) == []


def test_what_ingest_accepts_is_stored_in_jsonb_as_sent(kinesis, project, db) -> None:
    from decimal import Decimal

    # Numbers at the edges of what orjson keeps, text that looks like a NUL escape but is not,
    # and, beside them, an event with a number orjson cannot read and one with a NUL.
    numbers = {
        "u64": "18446744073709551615",
        "i64": "-9223372036854775808",
        "pow64": "18446744073709552000",  # 2**64 as JavaScript writes it
        "e20": "100000000000000000000",
        "max": "1.7976931348623157e308",
        "min": "5e-324",
        "tenth": "0.1",
        "negzero": "-0.0",
    }
    props = ",".join(f'"{k}":{v}' for k, v in numbers.items())
    raw = (
        '{"events":['
        f'{{"event":"edges","properties":{{{props},"text":"C:\\\\u0000","emoji":"\\ud83d\\ude00"}}}},'
        '{"event":"big","properties":{"n":1e400}},'
        '{"event":"nul","properties":{"k":"a\\u0000"}}]}'
    )
    res = ingest(None, key=project["api_key"], raw=raw)
    assert res.status == 202, res.body
    assert res.json()["accepted"] == 1
    assert [r["index"] for r in res.json()["rejected"]] == [1, 2]
    assert process(drain(kinesis)) == {"batchItemFailures": []}
    [text] = db.execute(
        "SELECT properties::text FROM events WHERE project_id = %s", (project["id"],)
    ).fetchone()
    stored = json.loads(text, parse_int=Decimal, parse_float=Decimal)
    for key, literal in numbers.items():
        assert stored[key] == Decimal(literal), key
    assert json.loads(text)["negzero"] == 0.0  # numeric has no negative zero
    assert stored["text"] == "C:\\u0000" and stored["emoji"] == "\U0001f600"


def test_a_nul_in_the_user_agent_is_accepted_and_the_user_agent_not_stored(
    kinesis, project, db
) -> None:
    from pulse.handlers.ingest import handler

    event = http_event(
        "POST",
        "/api/v1/events/ingest",
        body={"events": [{"event": "x"}]},
        headers={"x-api-key": project["api_key"], "user-agent": "Mozilla/5.0\x00 (X11)"},
    )
    assert call(handler, event).status == 202
    records = drain(kinesis)
    assert all("user_agent" not in json.loads(r["Data"]) for r in records)
    assert process(records) == {"batchItemFailures": []}
    [row] = events_of(db, project["id"])
    assert row["user_agent"] is None


def _emf_metrics(out: str) -> dict[str, float]:
    """The custom metrics in the embedded-metric-format lines printed by the handlers."""
    found: dict[str, float] = {}
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        doc = json.loads(line)
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = doc[metric["Name"]]
                found[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return found


def test_ingest_and_processor_publish_the_metrics_the_dashboard_reads(
    kinesis, project, capsys, monkeypatch
) -> None:
    from pulse import observability as o

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    # Given a batch of two good events and one the ingest function refuses
    body = {"events": [{"event": "a"}, {"event": "b"}, {"event": ""}]}
    capsys.readouterr()
    # When it is ingested and processed
    assert ingest(body, key=project["api_key"]).status == 202
    process(drain(kinesis))
    # Then each handler published its custom metrics, under the names the dashboard reads
    metrics = _emf_metrics(capsys.readouterr().out)
    assert metrics[o.EVENTS_ACCEPTED] == 2
    assert metrics[o.EVENTS_REJECTED] == 1
    assert metrics[o.EVENTS_WRITTEN] == 2
    assert metrics[o.BATCH_DURATION] > 0
