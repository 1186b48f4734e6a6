"""The users report's pages equal a brute-force grouping of the raw events, page after page,
whatever how many events one step of its walk reads."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pulse.analytics import service
from pulse.analytics.periods import Period
from pulse.data import analytics
from pulse.data.events import write_events

NOW = datetime(2026, 3, 1, 12, 20, tzinfo=UTC)


@pytest.fixture
def project(api, new_user) -> str:
    user = new_user()
    res = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "U"})
    return res.json()["id"]


def brute(rows: list, start: datetime, end: datetime) -> list[dict[str, Any]]:
    users: dict[str, list[datetime]] = {}
    for r in rows:
        if r[3] is not None and start <= r[10] < end:
            users.setdefault(r[3], []).append(r[10])
    out = [
        {"distinct_id": u, "first_seen": min(ts), "last_seen": max(ts), "event_count": len(ts)}
        for u, ts in users.items()
    ]
    return sorted(out, key=lambda x: (x["last_seen"], x["distinct_id"]), reverse=True)


@pytest.mark.parametrize("step", [3, 2000])
def test_user_pages_equal_brute_force(project, monkeypatch, step: int) -> None:
    monkeypatch.setattr(analytics, "_WALK_STEP", step)
    rng = random.Random(5)
    start = datetime(2026, 2, 26, tzinfo=UTC)
    rows = []
    base = start
    for _ in range(400):
        # whole seconds, and some events at the very same time, so that ties are met
        base += timedelta(seconds=rng.choice([0, 0, 1, 7, 60, 300]))
        user = f"u{int(40 * rng.random() ** 2)}" if rng.random() < 0.7 else None
        rows.append(
            (project, str(uuid.uuid4()), "x", user, "{}", "s", None, None, "UA", "h", base, base)
        )
    write_events(rows)
    pid = uuid.UUID(project)
    for a, b in [(start, NOW), (start + timedelta(hours=5), start + timedelta(hours=20))]:
        period = Period(a, b, ZoneInfo("UTC"))
        want = brute(rows, a, b)
        got: list[dict[str, Any]] = []
        page = service.users(pid, period, 7, None)
        while True:
            got += [{k: u[k] for k in want[0]} for u in page["users"]]
            if page["next_cursor"] is None:
                break
            page = service.users(pid, period, 7, page["next_cursor"])
        assert got == want
