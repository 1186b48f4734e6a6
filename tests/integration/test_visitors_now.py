"""Visitors now: exact against brute force over the events of the last five minutes, through
the real processor handler, the API, the ws function and the fan-out."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pulse.analytics import service
from pulse.cache import get_redis
from pulse.data.events import write_events, written_items
from pulse.processor import live
from pulse.realtime import fanout, visitors
from tests.apigw import LambdaContextStub
from tests.integration.conftest import ApiCall
from tests.integration.test_realtime import _register, message_event, recv
from tests.kinesis_events import stream_event


def _brute_force(db, project_id: str, now: datetime) -> int:
    return db.execute(
        'SELECT count(DISTINCT session_id) FROM events WHERE project_id = %s AND "timestamp" >= %s',
        (project_id, now - timedelta(seconds=visitors.WINDOW_S)),
    ).fetchone()[0]


def _payload(project_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"v": 1, "project_id": project_id, "received_at": datetime.now(UTC).isoformat(),
            "events": events}  # fmt: skip


@pytest.fixture
def project(api: ApiCall, new_user) -> dict[str, Any]:
    user = new_user()
    pid = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "N"}).json()
    return {**user, "pid": pid["id"]}


def test_visitors_now_equals_brute_force_through_the_processor(project, db) -> None:
    from pulse.handlers.processor import handler

    pid = project["pid"]
    rng = random.Random(16)
    now = datetime.now(UTC)
    events = []
    # Given sessions with events spread over the last 12 minutes, some a little in the future,
    # some without a session, and one session's events in several batches out of order
    for n in range(300):
        offset = rng.uniform(-720, 30)
        events.append(
            {
                "id": str(uuid.uuid4()),
                "event": rng.choice(["page_view", "click"]),
                "timestamp": (now + timedelta(seconds=offset)).isoformat(),
                "session_id": None if n % 17 == 0 else f"s{rng.randrange(60)}",
            }
        )
    rng.shuffle(events)
    batches = [events[i : i + 40] for i in range(0, len(events), 40)]
    for i, batch in enumerate(batches):
        event = stream_event([_payload(pid, batch)], first_seq=i * 10)
        assert handler(event, LambdaContextStub()) == {"batchItemFailures": []}
    # Then at every moment from now on the count is the brute force's (the processor trims
    # what left the window as of its own clock, so moments before it wrote are not asked)
    now = datetime.now(UTC)
    for later in (0, 45, 120, 299, 301, 400):
        at = now + timedelta(seconds=later)
        got = service.visitors_now(uuid.UUID(pid), now=at)
        assert got["visitors"] == _brute_force(db, pid, at), later
    # and the count drops exactly when the oldest session counted leaves the window
    got = service.visitors_now(uuid.UUID(pid), now=now)
    oldest = db.execute(
        'SELECT min(last) FROM (SELECT max("timestamp") AS last FROM events WHERE project_id = %s '
        "AND session_id IS NOT NULL GROUP BY session_id) s WHERE last >= %s",
        (pid, now - timedelta(seconds=visitors.WINDOW_S)),
    ).fetchone()[0]
    assert got["next_change_at"] == oldest + timedelta(seconds=visitors.WINDOW_S)
    assert got["visitors"] > 0


def test_the_api_answers_visitors_now(api, project) -> None:
    pid = project["pid"]
    ts = datetime.now(UTC) - timedelta(seconds=10)
    rows = [(pid, str(uuid.uuid4()), "page_view", None, "{}", f"s{n}", None, None, "UA", "h",
             ts, ts) for n in range(3)]  # fmt: skip
    live.publish(written_items(write_events(rows)))
    r = api("GET", f"/api/v1/analytics/{pid}/visitors-now", token=project["access_token"])
    assert r.status == 200, r.body
    assert (r.json()["visitors"], r.json()["window_s"]) == (3, 300)
    assert api("GET", f"/api/v1/analytics/{uuid.uuid4()}/visitors-now",
               token=project["access_token"]).status == 404  # fmt: skip
    assert api("GET", f"/api/v1/analytics/{pid}/visitors-now").status == 401


def test_a_lost_redis_update_is_rebuilt_from_postgres(project, db) -> None:
    pid = project["pid"]
    now = datetime.now(UTC)
    rows = [(pid, str(uuid.uuid4()), "x", None, "{}", f"s{n % 4}", None, None, "UA", "h",
             now - timedelta(seconds=n * 20), now) for n in range(20)]  # fmt: skip
    items = written_items(write_events(rows))
    # Given Redis missed the batch (the processor owes its counters)
    live.owe(items)
    assert service.visitors_now(uuid.UUID(pid), now=now)["visitors"] == 0
    # When the next update reaches Redis, the set is rebuilt from Postgres
    live.settle_owed()
    got = service.visitors_now(uuid.UUID(pid), now=now)["visitors"]
    assert got == _brute_force(db, pid, now) == 4


def test_deleting_the_project_forgets_its_visitors(api, project) -> None:
    pid = project["pid"]
    ts = datetime.now(UTC)
    row = (pid, str(uuid.uuid4()), "x", None, "{}", "s1", None, None, "UA", "h", ts, ts)
    live.publish(written_items(write_events([row])))
    assert get_redis().exists(visitors.now_key(pid))
    api("DELETE", f"/api/v1/projects/{pid}", token=project["access_token"])
    assert not get_redis().exists(visitors.now_key(pid))


def _rows(pid: str, sessions: list[str]) -> list[tuple]:
    ts = datetime.now(UTC)
    return [(pid, str(uuid.uuid4()), "page_view", None, json.dumps({}), s, None, None, "UA",
             "h", ts, ts) for s in sessions]  # fmt: skip


def _messages(client, until: str) -> list[dict[str, Any]]:
    out = []
    while True:
        message = recv(client)
        out.append(message)
        if message["type"] == until:
            return out


def test_the_fan_out_pushes_visitors_now_when_it_changes(gateway) -> None:
    pid = str(uuid.uuid4())
    client, conn_id = gateway.connect_with_id()
    _register(pid, conn_id)
    # A batch with two new sessions: events, counters, then visitors now = 2
    items = written_items(_rows(pid, ["a", "b"]))
    live.publish(items)
    fanout.fan_out(items)
    pushed = _messages(client, "visitors_now")
    assert [m["type"] for m in pushed] == ["events", "counters", "visitors_now"]
    assert pushed[-1]["visitors"] == 2 and pushed[-1]["next_change_at"]
    # A batch of the same sessions changes nothing: no visitors_now
    items = written_items(_rows(pid, ["a"]))
    live.publish(items)
    fanout.fan_out(items)
    assert recv(client)["type"] == "events"
    with pytest.raises(TimeoutError):
        client.recv(timeout=0.3)
    # A third session: pushed again
    items = written_items(_rows(pid, ["c"]))
    live.publish(items)
    fanout.fan_out(items)
    assert _messages(client, "visitors_now")[-1]["visitors"] == 3
    client.close()


def test_backfill_and_the_visitors_now_action_answer_it(ws, gateway) -> None:
    pid = str(uuid.uuid4())
    client, conn_id = gateway.connect_with_id()
    _register(pid, conn_id)
    live.publish(written_items(_rows(pid, ["a", "b", "c", "a"])))
    ws(message_event(conn_id, {"action": "backfill"}))
    answer = _messages(client, "visitors_now")
    assert [m["type"] for m in answer] == ["events", "counters", "visitors_now"]
    assert answer[-1]["visitors"] == 3
    ws(message_event(conn_id, {"action": "visitors_now", "id": "q1"}))
    reply = recv(client)
    assert (reply["type"], reply["visitors"], reply["id"]) == ("visitors_now", 3, "q1")
    # not for a project the connection does not listen to
    ws(message_event(conn_id, {"action": "visitors_now", "project_id": str(uuid.uuid4())}))
    assert recv(client)["code"] == "forbidden"
    client.close()


def test_the_window_edges_are_exact(project, db) -> None:
    pid = project["pid"]
    at = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=500_000)
    edge = at - timedelta(seconds=visitors.WINDOW_S)
    rows = [(pid, str(uuid.uuid4()), "x", None, "{}", sid, None, None, "UA", "h", ts, ts)
            for sid, ts in (("in", edge), ("out", edge - timedelta(milliseconds=1)),
                            ("ahead", at + timedelta(minutes=3)))]  # fmt: skip
    live.publish(written_items(write_events(rows)))
    got = service.visitors_now(uuid.UUID(pid), now=at)
    assert got["visitors"] == _brute_force(db, pid, at) == 2
    assert got["next_change_at"] == at
