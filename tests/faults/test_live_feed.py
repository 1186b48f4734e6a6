"""WebSocket faults on the running local platform: a dashboard's peer goes away in the middle of
pushes, and 500 idle dashboards are held. Each ends with every accepted event in Postgres once,
and the live feed going on."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.conftest import LocalStack
from tests.e2e.test_realtime_flow import events_until, ingest, open_socket
from tests.faults.conftest import (
    Throwaway,
    assert_exactly_once,
    assert_live_feed_resumes,
    wait_until,
)

pytestmark = pytest.mark.e2e


def _registered(throwaway: Throwaway, stack: LocalStack, project_id: str) -> set[str]:
    r = redis.Redis.from_url(throwaway.redis_url, decode_responses=True)
    return set(r.zrange(f"{stack.redis_prefix}ws:project:{project_id}", 0, -1))


def test_a_peer_gone_mid_push_costs_no_event_and_no_other_listener(
    stack_on_throwaway: LocalStack, throwaway: Throwaway
) -> None:
    stack = stack_on_throwaway
    project = stack.new_project("Gone peer")
    # Given two dashboards on the project, and batches of 100 events being pushed to both
    staying = open_socket(stack, project["id"], project["token"])
    before = _registered(throwaway, stack, project["id"])
    going = open_socket(stack, project["id"], project["token"])
    (gone_id,) = _registered(throwaway, stack, project["id"]) - before
    accepted: list[str] = []
    try:
        accepted += ingest(stack, project["api_key"], n=100, name="before")
        # When one peer's TCP connection dies while pushes to it are under way (no close frame)
        accepted += ingest(stack, project["api_key"], n=100, name="during")
        going.socket.close()
        for _ in range(5):
            accepted += ingest(stack, project["api_key"], n=100, name="after")
        # Then the other dashboard gets every event, and the gone one is forgotten
        events_until(staying, accepted, timeout=20)
    finally:
        staying.close()
    assert wait_until(lambda: gone_id not in _registered(throwaway, stack, project["id"]), 10)
    assert_exactly_once(stack.database_url, project["id"], set(accepted), set(accepted))
    assert_live_feed_resumes(stack, project)


async def _hold(url: str, n: int, uuids_after: Any) -> tuple[int, int]:
    """Open ``n`` dashboards, keep them idle, then count those that get the next push."""
    clients: list[ClientConnection] = []
    try:
        for start in range(0, n, 50):  # 50 handshakes at a time
            clients += await asyncio.gather(
                *(connect(url, open_timeout=60) for _ in range(min(50, n - start)))
            )
        await asyncio.sleep(5)  # idle
        open_now = sum(1 for c in clients if c.close_code is None)
        wanted = set(await asyncio.to_thread(uuids_after))

        async def gets_it(client: ClientConnection) -> bool:
            missing = set(wanted)
            try:
                async with asyncio.timeout(45):
                    while missing:
                        message = json.loads(await client.recv())
                        if message["type"] == "events":
                            missing -= {e["uuid"] for e in message["events"]}
            except (TimeoutError, Exception):
                return False
            return True

        reached = sum(await asyncio.gather(*(gets_it(c) for c in clients)))
        return open_now, reached
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


def test_500_idle_dashboards_are_held_and_all_get_the_next_push(
    stack_on_throwaway: LocalStack,
) -> None:
    stack = stack_on_throwaway
    project = stack.new_project("Five hundred")
    url = f"{stack.ws_url}/?project_id={project['id']}&token={project['token']}"
    accepted: list[str] = []

    def push() -> list[str]:
        accepted.extend(ingest(stack, project["api_key"], n=3, name="to_500"))
        return accepted

    # Given 500 dashboards connected and idle for 5 s
    started = time.monotonic()
    # (in a thread of its own: asyncio.run would leave this thread without the event loop that
    # the in-process handlers of later tests rely on)
    with ThreadPoolExecutor(1) as runner:
        open_now, reached = runner.submit(asyncio.run, _hold(url, 500, push)).result()
    # Then all are still open, and each gets the next events pushed
    assert open_now == 500
    assert reached == 500, f"{reached} of 500 got the push ({time.monotonic() - started:.0f} s)"
    assert_exactly_once(stack.database_url, project["id"], set(accepted), set(accepted))
    assert_live_feed_resumes(stack, project)
