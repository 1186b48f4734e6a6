"""A report reads the rollups and the queue of events not rolled up yet in one snapshot: a rollup
that commits between two of its statements (moving events from the queue into the rollups)
changes none of its figures."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pulse.analytics import service
from pulse.analytics.periods import Period
from pulse.data import analytics as analytics_sql
from pulse.data.events import write_events
from pulse.rollup import service as rollup
from tests.integration.test_analytics_exact import NOW, _generate, brute


@pytest.fixture
def project(api, new_user) -> str:
    user = new_user()
    res = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "A"})
    return res.json()["id"]


class _RollupAfterRollupsRead:
    """A connection whose first read of the hourly rollups is followed by a whole rollup run,
    committed from another thread (and so another connection) before the next statement: the
    report has read the rollups without the late events, and reads the queue after they left
    it."""

    rolled: dict[str, Any] = {}

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        cur = self._conn.execute(query, *args, **kwargs)
        if "event_rollups_hourly" in query and not self.rolled:
            worker = threading.Thread(target=lambda: self.rolled.update(rollup.run(now=NOW)))
            worker.start()
            worker.join()
        return cur


def test_a_rollup_committing_midway_changes_no_figure(project, monkeypatch) -> None:
    _RollupAfterRollupsRead.rolled = {}
    rng = random.Random(7)
    start = datetime(2026, 1, 31, tzinfo=UTC)
    rows = _generate(project, rng, start, NOW - timedelta(hours=2), 400)
    write_events(rows)
    rollup.run(now=NOW)
    late = _generate(project, rng, start + timedelta(hours=3), start + timedelta(hours=20), 60)
    write_events(late)  # queued, in hours already rolled up
    rows += late

    real = analytics_sql.connection

    @contextmanager
    def connection() -> Iterator[Any]:
        with real() as conn:
            yield _RollupAfterRollupsRead(conn)

    monkeypatch.setattr(analytics_sql, "connection", connection)
    period = Period(start, NOW, ZoneInfo("UTC"))
    got = service.top_events(uuid.UUID(project), period, 10, NOW)["events"]

    assert _RollupAfterRollupsRead.rolled["hours"] > 0  # the rollup did move them midway
    counts: dict[str, int] = {}
    for r in rows:
        if start <= r[10] < NOW:
            counts[r[2]] = counts.get(r[2], 0) + 1
    want = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [(e["name"], e["count"]) for e in got] == want
    for e in got:
        assert e["unique_users"] == brute(rows, start, NOW, e["name"])["u"]


def test_a_snapshot_gives_its_connection_back_as_it_was() -> None:
    from pulse.db.connection import connection, snapshot

    with snapshot(), connection() as conn:
        assert conn.execute("SHOW transaction_isolation").fetchone()["transaction_isolation"] == (
            "repeatable read"
        )
        with snapshot(), connection() as inner:  # nested: the same snapshot
            assert inner is conn
    assert (conn.isolation_level, conn.read_only) == (None, None)  # writes work on it again
