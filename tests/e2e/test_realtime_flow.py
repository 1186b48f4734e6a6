"""[4 of 8] through the running local stack: a dashboard's WebSocket gets each event ingested for
its project within a second; no token or another user's token is refused; a client that
vanished is cleaned up on the next push; ``localcloud tail`` prints the live events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.conftest import TEST_REDIS_URL
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e


def _account(stack: LocalStack) -> dict[str, Any]:
    project = stack.new_project("Live")
    return {"token": project.pop("token"), "project": project}


@pytest.fixture(scope="module")
def owner(local_stack: LocalStack) -> dict[str, Any]:
    return _account(local_stack)


@pytest.fixture(scope="module")
def stranger(local_stack: LocalStack) -> dict[str, Any]:
    return _account(local_stack)


def open_socket(stack: LocalStack, project_id: str, token: str | None) -> ClientConnection:
    query = f"project_id={project_id}" + (f"&token={token}" if token else "")
    return connect(f"{stack.ws_url}/?{query}", open_timeout=10, legacy=True)


def ingest(stack: LocalStack, api_key: str, n: int = 1, name: str = "page_view") -> list[str]:
    now = datetime.now(UTC).isoformat()
    uuids = [str(uuid.uuid4()) for _ in range(n)]
    body = {
        "sent_at": now,
        "events": [
            {"event": name, "uuid": u, "timestamp": now, "properties": {"i": i}}
            for i, u in enumerate(uuids)
        ],
    }
    # A 429 is resent after its Retry-After, as the SDK does: right after a test's load the
    # project key's rate limit may still be spent.
    with stack.client() as client:
        for _ in range(10):
            res = client.post("/api/v1/events/ingest", json=body, headers={"X-API-Key": api_key})
            if res.status_code != 429:
                break
            time.sleep(min(5.0, float(res.headers.get("retry-after", "1"))))
    assert res.status_code == 202, res.text
    return uuids


def events_until(
    client: ClientConnection, uuids: list[str], timeout: float
) -> list[dict[str, Any]]:
    """The messages read on ``client`` until every event in ``uuids`` arrived (within
    ``timeout`` seconds)."""
    started, missing = time.monotonic(), set(uuids)
    seen: list[dict[str, Any]] = []
    while missing:
        left = timeout - (time.monotonic() - started)
        assert left > 0, f"{len(missing)} events did not arrive within {timeout} s"
        message = json.loads(client.recv(timeout=left))
        seen.append(message)
        if message["type"] == "events":
            missing -= {e["uuid"] for e in message["events"]}
    return seen


@pytest.fixture
def socket_of_owner(local_stack: LocalStack, owner: dict[str, Any]) -> Iterator[ClientConnection]:
    client = open_socket(local_stack, owner["project"]["id"], owner["token"])
    yield client
    client.close()


def test_a_connected_dashboard_gets_ingested_events_within_a_second(
    local_stack: LocalStack, owner: dict[str, Any], socket_of_owner: ClientConnection
) -> None:
    # Given a dashboard connected with a valid token for its project
    # When events are ingested for the project
    started = time.monotonic()
    uuids = ingest(local_stack, owner["project"]["api_key"], n=5)
    # Then they arrive on the socket within a second of the ingest request
    seen = events_until(socket_of_owner, uuids, timeout=1.0)
    assert time.monotonic() - started < 1.0
    # with the live counters after the first of them
    if not any(m["type"] == "counters" for m in seen):
        seen.append(json.loads(socket_of_owner.recv(timeout=1)))
    counters = [m for m in seen if m["type"] == "counters"]
    assert counters and counters[0]["project_id"] == owner["project"]["id"]


def test_ping_backfill_and_an_unknown_action_over_the_socket(
    local_stack: LocalStack, owner: dict[str, Any], socket_of_owner: ClientConnection
) -> None:
    socket_of_owner.send('{"action":"ping","id":"p1"}')
    assert json.loads(socket_of_owner.recv(timeout=2)) == {"type": "pong", "id": "p1"}
    socket_of_owner.send('{"action":"teleport"}')
    assert json.loads(socket_of_owner.recv(timeout=2))["code"] == "unknown_action"
    uuids = ingest(local_stack, owner["project"]["api_key"], n=3, name="backfilled")
    events_until(socket_of_owner, uuids, timeout=2.0)
    socket_of_owner.send('{"action":"backfill","limit":3}')
    backfill: dict[str, Any] = {}
    while not backfill.get("backfill"):  # past the live counters, if any come first
        backfill = json.loads(socket_of_owner.recv(timeout=2))
    assert [e["uuid"] for e in backfill["events"]] == uuids


@pytest.mark.parametrize("who", ["nobody", "garbage", "stranger"])
def test_no_token_or_another_users_token_is_refused(
    local_stack: LocalStack, owner: dict[str, Any], stranger: dict[str, Any], who: str
) -> None:
    token = {"nobody": None, "garbage": "e.y.j", "stranger": stranger["token"]}[who]
    with pytest.raises(InvalidStatus) as refused:
        open_socket(local_stack, owner["project"]["id"], token)
    assert refused.value.response.status_code == (403 if who == "stranger" else 401)


def test_a_vanished_client_is_cleaned_up_on_the_next_push(
    local_stack: LocalStack, owner: dict[str, Any]
) -> None:
    project_id = owner["project"]["id"]
    r = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    key = f"{local_stack.redis_prefix}ws:project:{project_id}"
    before = set(r.zrange(key, 0, -1))
    # Given a client that connected, then vanished without a close frame reaching anyone
    client = open_socket(local_stack, project_id, owner["token"])
    (vanished,) = set(r.zrange(key, 0, -1)) - before
    client.socket.close()  # the TCP connection dies; no WebSocket close handshake
    # When the next events are pushed (and for the local gateway to notice the dead socket)
    deadline = time.monotonic() + 5
    while vanished in r.zrange(key, 0, -1):
        assert time.monotonic() < deadline, "the vanished connection is still registered"
        ingest(local_stack, owner["project"]["api_key"])
        time.sleep(0.2)
    # Then it is gone from the registry, hash and all
    assert not r.exists(f"{local_stack.redis_prefix}ws:conn:{vanished}")


def test_localcloud_tail_prints_the_projects_live_events(
    local_stack: LocalStack, owner: dict[str, Any]
) -> None:
    env_prefix = {"LOCAL_REDIS_KEY_PREFIX": local_stack.redis_prefix, "REDIS_URL": TEST_REDIS_URL}
    process = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "tail", owner["project"]["id"], "--json"],
        env={**os.environ, **env_prefix},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(
        target=lambda: lines.extend(iter(process.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    ).start()
    try:
        deadline = time.monotonic() + 20
        while not any(ln.startswith("tailing ") for ln in lines):  # subscribed
            assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.05)
        uuids = ingest(local_stack, owner["project"]["api_key"], n=2, name="tailed")
        deadline = time.monotonic() + 5
        while len([ln for ln in lines if '"tailed"' in ln]) < 2:
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.05)
        printed = [json.loads(ln) for ln in lines if '"tailed"' in ln]
        assert [e["uuid"] for e in printed] == uuids
    finally:
        process.terminate()
        process.wait(10)
