"""Ctrl-C (SIGINT) of the local runtime while it is busy: it stops taking requests, finishes
those in flight, drains what it accepted from the stream into Postgres, then exits; a restart on
the same data delivers nothing twice and the live feed resumes."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import children, start_local_stack, stop_local_stack, wait_gone
from tests.e2e.test_ingest_durability import Load
from tests.faults.conftest import (
    FAULTS_DATABASE,
    LEAN,
    assert_exactly_once,
    assert_live_feed_resumes,
    stored,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_ctrl_c_under_load_drains_every_accepted_event_before_exiting(tmp_path: Path) -> None:
    # Given the local platform taking in a steady load
    database = f"{FAULTS_DATABASE}_sigint"
    stack = start_local_stack(tmp_path, database=database, extra_env=LEAN)
    try:
        project = stack.new_project("Ctrl-C")
        load = Load(stack.http_url, project["api_key"])
        threads = load.run(clients=4, requests=100_000)
        assert wait_until(lambda: len(load.accepted) > 500, 60)
        # When it gets a Ctrl-C in the middle of it
        started = children(stack.process.pid)
        stack.process.send_signal(signal.SIGINT)
        code = stack.process.wait(60)
    finally:
        if stack.process.poll() is None:
            stack.process.kill()
    load.stop.set()
    for t in threads:
        t.join(30)
    accepted, sent = set(load.accepted), set(load.sent)
    # Then it exited cleanly, leaving no process behind
    assert code == 0, "".join(stack.output[-30:])
    assert wait_gone(started) == []
    # with every event it accepted already in Postgres, before any restart
    rows = stored(stack.database_url, project["id"])
    assert accepted - set(rows) == set(), (
        f"{len(accepted - set(rows))} of {len(accepted)} accepted events were left undelivered"
    )
    # And a restart on the same data stores nothing twice, and the live feed resumes
    restarted = start_local_stack(tmp_path, database=database, fresh=False, extra_env=LEAN)
    try:
        time.sleep(2)  # what the stream held past the last checkpoint is delivered again
        assert_exactly_once(restarted.database_url, project["id"], accepted, sent, 30)
        assert_live_feed_resumes(restarted, {**project})
    finally:
        stop_local_stack(restarted)
