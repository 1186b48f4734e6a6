"""The local platform (``make up``'s runtime) on throwaway Postgres and Redis servers, while
batches flow: Postgres stopped for 10 s, Redis down, the processor's execution environment
killed mid-batch. Each ends with every accepted event in Postgres exactly once, and the live
feed resuming."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import redis

from tests.e2e.conftest import LocalStack, children
from tests.e2e.test_ingest_durability import Load
from tests.faults.conftest import (
    Throwaway,
    assert_exactly_once,
    assert_live_feed_resumes,
    wait_until,
)

pytestmark = pytest.mark.e2e


def _under_load(stack: LocalStack, clients: int = 3) -> tuple[Load, list, dict]:
    project = stack.new_project("Fault")
    load = Load(stack.http_url, project["api_key"])
    threads = load.run(clients=clients, requests=100_000)
    assert wait_until(lambda: len(load.accepted) > 200, 30), "no load got through"
    return load, threads, project


def _finish(load: Load, threads: list) -> tuple[set[str], set[str]]:
    load.stop.set()
    for t in threads:
        t.join(30)
    return set(load.accepted), set(load.sent)


def test_postgres_stopped_for_10_s_while_batches_flow(
    stack_on_throwaway: LocalStack, throwaway: Throwaway
) -> None:
    # Given batches flowing into the platform
    load, threads, project = _under_load(stack_on_throwaway)
    # When its Postgres is stopped for 10 s, then started again
    throwaway.postgres.stop()
    down_at = len(load.accepted)
    time.sleep(10)
    accepted_while_down = len(load.accepted) - down_at
    throwaway.postgres.start()
    time.sleep(3)
    accepted, sent = _finish(load, threads)
    # Then ingest kept accepting (the keys were cached), and every accepted event is stored once
    assert accepted_while_down > 0
    assert_exactly_once(stack_on_throwaway.database_url, project["id"], accepted, sent, 90)
    assert_live_feed_resumes(stack_on_throwaway, project)


def _processor_environments(stack: LocalStack) -> list[int]:
    out = []
    for pid in children(stack.process.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"pulse.handlers.processor" in command:
            out.append(pid)
    return out


def test_the_processor_killed_half_way_through_batches(stack_on_throwaway: LocalStack) -> None:
    # Given batches flowing
    load, threads, project = _under_load(stack_on_throwaway)
    # When the processor's execution environments are killed (SIGKILL) again and again while
    # they write, half way through their batches
    killed = 0
    for _ in range(5):
        for pid in _processor_environments(stack_on_throwaway):
            os.kill(pid, signal.SIGKILL)
            killed += 1
        time.sleep(0.7)
    time.sleep(2)
    accepted, sent = _finish(load, threads)
    # Then the poller delivered those batches again, and each event is stored once
    assert killed >= 3
    assert_exactly_once(stack_on_throwaway.database_url, project["id"], accepted, sent, 60)
    assert_live_feed_resumes(stack_on_throwaway, project)


def test_redis_down_ingest_keeps_accepting_and_counters_are_rebuilt(
    stack_on_throwaway: LocalStack, throwaway: Throwaway
) -> None:
    # Given batches flowing, and the live counters of the hour in Redis
    load, threads, project = _under_load(stack_on_throwaway, clients=2)
    # When Redis goes down for 5 s
    throwaway.redis.stop()
    down_at = len(load.accepted)
    time.sleep(5)
    accepted_while_down = len(load.accepted) - down_at
    refused_while_down = load.refused
    throwaway.redis.start()
    time.sleep(3)
    accepted, sent = _finish(load, threads)
    # Then ingest kept accepting (keys from Postgres, the rate limit not enforced), and every
    # accepted event is stored once
    assert accepted_while_down > 0, f"ingest refused {refused_while_down} batches"
    assert_exactly_once(stack_on_throwaway.database_url, project["id"], accepted, sent, 60)
    assert_live_feed_resumes(stack_on_throwaway, project)
    # and the hour's live counter counts every event again, those of the outage included
    r = redis.Redis.from_url(throwaway.redis_url, decode_responses=True)
    hour = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime())
    key = f"{stack_on_throwaway.redis_prefix}live:{project['id']}:{hour}"
    total = len(accepted) + 2  # and the two of the live feed check

    def counted() -> bool:
        return int(r.hget(key, "events") or 0) >= total

    assert wait_until(counted, 20), f"counter {r.hget(key, 'events')} of {total} events"
