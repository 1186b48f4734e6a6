"""Retention equals a brute-force count over the raw events: cohorts by the day or week (in the
range's time zone) of a user's first event ever, returns per later period, with and without a
return event; a user first seen before the range is in no cohort."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from pulse.analytics import retention
from pulse.analytics.periods import Period, parse_tz
from pulse.data import rollups
from pulse.data.events import write_events
from pulse.rollup import service as rollup

START = datetime(2026, 4, 1, tzinfo=UTC)
NAMES = ["page_view", "page_view", "signup", "buy"]


def _events(project: str, rng: random.Random, n: int) -> list[tuple[Any, ...]]:
    rows = []
    for _ in range(n):
        # Mostly over five weeks; some users' first events come before any range below.
        ts = START + timedelta(seconds=rng.randrange(-5 * 86_400, 35 * 86_400))
        rows.append(
            (
                project,
                str(uuid.uuid4()),
                rng.choice(NAMES),
                f"u{rng.randint(1, 150)}" if rng.random() < 0.9 else None,
                "{}",
                f"s{rng.randint(1, 400)}",
                "https://shop.test/a",
                None,
                "UA",
                "h",
                ts,
                ts,
            )
        )
    return rows


def _period_of(ts: datetime, tz: str, unit: str) -> date:
    local = ts.astimezone(parse_tz(tz)).date()
    return local - timedelta(days=local.weekday()) if unit == "week" else local


def brute_retention(
    rows: list[tuple[Any, ...]],
    start: datetime,
    end: datetime,
    tz: str,
    unit: str,
    return_event: str | None,
) -> tuple[dict[date, int], dict[tuple[date, date], int]]:
    first: dict[str, datetime] = {}
    for r in rows:
        if r[3] is not None and (r[3] not in first or r[10] < first[r[3]]):
            first[r[3]] = r[10]
    cohort = {u: _period_of(t, tz, unit) for u, t in first.items() if start <= t < end}
    sizes: dict[date, int] = defaultdict(int)
    for c in cohort.values():
        sizes[c] += 1
    active: set[tuple[str, date]] = {
        (r[3], _period_of(r[10], tz, unit))
        for r in rows
        if r[3] in cohort
        and start <= r[10] < end
        and (return_event is None or r[2] == return_event)
    }
    returns: dict[tuple[date, date], int] = defaultdict(int)
    for user, p in active:
        returns[(cohort[user], p)] += 1
    return dict(sizes), dict(returns)


@pytest.fixture
def project(api, new_user) -> str:
    user = new_user()
    res = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "R"})
    return res.json()["id"]


CASES = [
    # (start, end, tz, unit)
    (START, START + timedelta(days=14), "UTC", "day"),
    (
        START + timedelta(hours=7, minutes=30),
        START + timedelta(days=10, hours=3),
        "Asia/Kolkata",
        "day",
    ),
    (START + timedelta(days=1), START + timedelta(days=30), "America/New_York", "week"),
    (START, START + timedelta(days=35), "UTC", "week"),
]


@pytest.mark.parametrize(
    ("return_event", "state"),
    [
        (None, "never rolled up"),
        ("buy", "never rolled up"),
        (None, "late events queued"),
        ("buy", "late events queued"),
        (None, "days to rebuild"),
        ("buy", "days to rebuild"),
    ],
)
def test_retention_equals_brute_force(project: str, return_event: str | None, state: str) -> None:
    # Given random users' events over five weeks, some first seen before the ranges; either
    # never rolled up (every range read from the queue and raw edges), or rolled up (read from
    # the presence rows) and then joined by late events (queued, dirty hours) before and inside
    # the ranges, some of them the first events ever of users seen in a range; and then, in the
    # last state, days before and inside the ranges marked for a rebuild (read raw)
    rng = random.Random(7)
    rows = _events(project, rng, 4000)
    # First seen within the hour that holds an unaligned range start, after that start (the
    # hour's presence row is earlier than the start, the event is not), and before it.
    for user, at in (
        ("edge-after", timedelta(hours=7, minutes=45)),
        ("edge-before", timedelta(hours=7, minutes=10)),
    ):
        for later in (timedelta(0), timedelta(days=2)):
            ts = START + at + later
            rows.append(
                (
                    project,
                    str(uuid.uuid4()),
                    "buy",
                    user,
                    "{}",
                    "s-edge",
                    "https://shop.test/a",
                    None,
                    "UA",
                    "h",
                    ts,
                    ts,
                )
            )
    write_events(rows)
    if state != "never rolled up":
        rollup.run()
        late = _events(project, rng, 300)
        late = [
            r[:3] + (r[3] and f"late-{r[3]}" if rng.random() < 0.5 else r[3],) + r[4:] for r in late
        ]
        write_events(late)
        rows += late
    if state == "days to rebuild":
        for day in (-2, 3, 9):
            at = START + timedelta(days=day)
            rollups.mark_range_dirty(start=at, end=at + timedelta(days=1), project_id=UUID(project))
    for start, end, tz, unit in CASES:
        # When retention is computed
        got = retention.retention(
            UUID(project),
            Period(start, end, parse_tz(tz)),
            unit,
            return_event,  # type: ignore[arg-type]
        )
        # Then every cohort's size and every cell equal the brute-force count
        sizes, returns = brute_retention(rows, start, end, tz, unit, return_event)
        labels = [p.date() for p in got.periods]
        assert labels == sorted(set(labels))
        assert set(sizes) <= set(labels)
        for c in got.cohorts:
            key = c.cohort.date()
            assert c.size == sizes.get(key, 0), (unit, tz, key)
            want = [returns.get((key, p), 0) for p in labels[labels.index(key) :]]
            assert c.counts == want, (unit, tz, key)
            assert c.shares == [n / c.size if c.size else 0.0 for n in c.counts]
        assert sum(c.size for c in got.cohorts) == sum(sizes.values()) > 0
        if return_event is None:
            assert all(c.counts[0] == c.size for c in got.cohorts)
