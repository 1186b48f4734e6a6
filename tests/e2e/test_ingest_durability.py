"""A 202 from ingest means kept: under many concurrent clients, and across a `kill -9` of the
whole local runtime, every accepted event ends up in Postgres exactly once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.apigw import BROWSER_USER_AGENT
from tests.e2e.conftest import (
    E2E_DATABASE,
    LocalStack,
    children,
    start_local_stack,
    stop_local_stack,
    wait_gone,
)

pytestmark = pytest.mark.e2e

# Batch sizes the clients cycle through: mostly the 1-3 events of real pages, some large ones.
BATCH_SIZES = (1, 2, 1, 3, 10, 1, 100, 5)


def _body(size: int) -> tuple[list[str], dict[str, Any]]:
    now = datetime.now(UTC).isoformat()
    ids = [str(uuid.uuid4()) for _ in range(size)]
    return ids, {
        "sent_at": now,
        "events": [
            {
                "event": "page_view",
                "uuid": event_id,
                "session_id": f"s-{event_id[:6]}",
                "properties": {"path": "/load"},
                "timestamp": now,
            }
            for event_id in ids
        ],
    }


class Load:
    """Client threads posting batches; they record what was accepted (202) and what was sent."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url, self.api_key = url, api_key
        self.accepted: list[str] = []
        self.sent: list[str] = []
        self.refused = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def client(self, index: int, requests: int) -> None:
        with httpx.Client(
            base_url=self.url, timeout=30, headers={"user-agent": BROWSER_USER_AGENT}
        ) as http:
            for n in range(requests):
                if self.stop.is_set():
                    return
                ids, body = _body(BATCH_SIZES[(index + n) % len(BATCH_SIZES)])
                with self.lock:
                    self.sent.extend(ids)
                try:
                    r = http.post(
                        "/api/v1/events/ingest", json=body, headers={"X-API-Key": self.api_key}
                    )
                except httpx.HTTPError:
                    continue  # the server went away mid-request: not accepted
                if r.status_code == 202:
                    assert r.json()["accepted"] == len(ids)
                    with self.lock:
                        self.accepted.extend(ids)
                else:
                    with self.lock:
                        self.refused += 1

    def run(self, clients: int, requests: int) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self.client, args=(i, requests), daemon=True)
            for i in range(clients)
        ]
        for t in threads:
            t.start()
        return threads


def _stored(database_url: str, project_id: str) -> tuple[int, set[str]]:
    """(rows, distinct ids) of the project."""
    with psycopg.connect(database_url) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id::text FROM events WHERE project_id = %s", (project_id,)
            ).fetchall()
        ]
    return len(ids), set(ids)


def _wait_until(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return
        time.sleep(0.2)


def test_sixteen_clients_at_once_lose_nothing_and_double_nothing(local_stack: LocalStack) -> None:
    # Given a project and 16 clients posting 200 batches each, of 1 to 100 events
    project = local_stack.new_project("Concurrent")
    load = Load(local_stack.http_url, project["api_key"])

    # When they all post at once
    for t in load.run(clients=16, requests=200):
        t.join()

    # Then every accepted event is stored exactly once
    assert load.refused == 0
    accepted = set(load.accepted)
    assert len(accepted) == len(load.accepted) > 16 * 200
    _wait_until(lambda: _stored(local_stack.database_url, project["id"])[0] >= len(accepted), 120)
    rows, stored = _stored(local_stack.database_url, project["id"])
    assert (rows, stored) == (len(accepted), accepted)


def test_a_kill_of_the_runtime_under_load_loses_no_accepted_event(tmp_path: Path) -> None:
    # Given the local platform taking in a steady load
    database = f"{E2E_DATABASE}_crash"
    stack = start_local_stack(tmp_path, database=database)
    try:
        project = stack.new_project("Crash")
        load = Load(stack.http_url, project["api_key"])
        threads = load.run(clients=8, requests=10_000)
        _wait_until(lambda: len(load.accepted) > 3000, 60)
        # When the whole runtime is killed with SIGKILL in the middle of it
        started = children(stack.process.pid)
        stack.process.kill()
        stack.process.wait(10)
    finally:
        if stack.process.poll() is None:
            stack.process.kill()
    load.stop.set()
    for t in threads:
        t.join(30)
    accepted = set(load.accepted)
    assert len(accepted) > 3000
    # (what it started, its functions' environments and the local Kinesis, ends by itself)
    assert wait_gone(started) == [], "processes outlived the killed runtime"

    # Then a restart on the same data delivers what the stream held, and each event once
    restarted = start_local_stack(tmp_path, database=database, fresh=False)
    try:
        _wait_until(lambda: accepted <= _stored(stack.database_url, project["id"])[1], 60)
        rows, stored = _stored(stack.database_url, project["id"])
        assert accepted - stored == set(), f"{len(accepted - stored)} accepted events lost"
        assert rows == len(stored), "an event was stored twice"
        # events whose answer was lost in the kill may be stored, but nothing that was not sent
        assert stored <= set(load.sent)
        # and the restarted platform takes in new events as before
        more = Load(restarted.http_url, project["api_key"])
        for t in more.run(clients=1, requests=3):
            t.join()
        assert len(more.accepted) > 0
        _wait_until(lambda: set(more.accepted) <= _stored(stack.database_url, project["id"])[1], 30)
        assert set(more.accepted) <= _stored(stack.database_url, project["id"])[1]
    finally:
        stop_local_stack(restarted)
