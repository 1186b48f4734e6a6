"""Funnels equal a brute-force walk over the raw events: sequential steps within the window from
the first entry, strict ordering (an event at the same instant as the previous step's does not
count), repeated steps, page and property matches, by session and by user; and the median times
between steps."""

from __future__ import annotations

import json
import random
import re
import statistics
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from pulse.analytics import funnels
from pulse.analytics.periods import Period, parse_tz
from pulse.data.events import write_events
from pulse.db.connection import connection
from pulse.models.funnels import FunnelStep, window_seconds
from pulse.rollup import service as rollup

START = datetime(2026, 3, 10, tzinfo=UTC)
NAMES = ["page_view", "page_view", "signup", "buy", "click"]
PATHS = ["/a", "/b", "/c"]
PLANS: list[Any] = ["pro", "free", 42, True, None]
_PAGE_PATH = re.compile(r"^[a-z]+://[^/]+(/[^?#]*)")


def _events(project: str, rng: random.Random, n: int) -> list[tuple[Any, ...]]:
    rows = []
    for _ in range(n):
        # Whole seconds, few of them per actor's span: ties between events happen often.
        ts = START + timedelta(seconds=rng.randrange(0, 3 * 86_400, 7))
        props: dict[str, Any] = {}
        plan = rng.choice(PLANS)
        if plan is not None:
            props["plan"] = plan
        if rng.random() < 0.3:
            props["path"] = rng.choice(PATHS)
        rows.append(
            (
                project,
                str(uuid.uuid4()),
                rng.choice(NAMES),
                f"u{rng.randint(1, 25)}" if rng.random() < 0.8 else None,
                json.dumps(props),
                f"s{rng.randint(1, 60)}" if rng.random() < 0.9 else None,
                f"https://shop.test{rng.choice(PATHS)}?x=1",
                None,
                "UA",
                "h",
                ts,
                ts,
            )
        )
    return rows


def _text(value: Any) -> str | None:
    """What Postgres's ``->>`` gives for a JSON value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _matches(row: tuple[Any, ...], step: FunnelStep) -> bool:
    if row[2] != step.event:
        return False
    props = json.loads(row[4])
    if step.page is not None:
        found = _PAGE_PATH.match(row[6] or "")
        path = props.get("path", found.group(1) if found else None)
        if path != step.page:
            return False
    if step.property is not None:
        if _text(props.get(step.property.key)) != step.property.value:
            return False
    return True


def brute_funnel(
    rows: list[tuple[Any, ...]],
    start: datetime,
    end: datetime,
    steps: list[FunnelStep],
    window: timedelta,
    by: str,
) -> list[tuple[int, float | None]]:
    col = 5 if by == "session" else 3
    per_actor: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        if r[col] is not None and start <= r[10] < end:
            per_actor[r[col]].append(r)
    counts = [0] * len(steps)
    gaps: list[list[float]] = [[] for _ in steps]
    for evs in per_actor.values():
        entries = [r[10] for r in evs if _matches(r, steps[0])]
        if not entries:
            continue
        first = prev = min(entries)
        counts[0] += 1
        for k in range(1, len(steps)):
            later = [r[10] for r in evs if _matches(r, steps[k]) and prev < r[10] <= first + window]
            if not later:
                break
            nxt = min(later)
            counts[k] += 1
            gaps[k].append((nxt - prev).total_seconds())
            prev = nxt
    return [
        (counts[k], statistics.median(gaps[k]) if k and gaps[k] else None)
        for k in range(len(steps))
    ]


def S(event: str, page: str | None = None, prop: tuple[str, str] | None = None) -> FunnelStep:
    return FunnelStep.model_validate(
        {
            "event": event,
            "page": page,
            "property": {"key": prop[0], "value": prop[1]} if prop else None,
        }
    )


FUNNELS = [
    [S("page_view"), S("signup"), S("buy")],
    [S("page_view", page="/a"), S("page_view", page="/b")],
    [S("page_view"), S("page_view"), S("page_view")],  # repeated steps: distinct, later events
    [S("signup", prop=("plan", "pro")), S("buy")],
    [S("click", prop=("plan", "42")), S("buy", prop=("plan", "true"))],
    [S("page_view"), S("click"), S("signup"), S("page_view", page="/c"), S("buy"), S("click")],
]
WINDOWS = ["30m", "2h", "1d"]


@pytest.fixture
def project(api, new_user) -> str:
    user = new_user()
    res = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "F"})
    return res.json()["id"]


@pytest.mark.parametrize(("seed", "archived"), [(1, False), (2, False), (3, True)])
def test_funnels_equal_brute_force(project: str, seed: int, archived: bool) -> None:
    # Given random events over three days, with many ties and some before the range
    rng = random.Random(seed)
    rows = _events(project, rng, 3000)
    write_events(rows)
    if archived:  # the three days rolled up and archived: funnels read the archive's files
        rollup.run(now=START + timedelta(days=3, hours=2))
        with connection() as conn:
            days = conn.execute(
                "SELECT count(*) AS n FROM archived_days WHERE project_id = %s", (project,)
            ).fetchone()
        assert days is not None and days["n"] == 3
    ranges = [
        (START, START + timedelta(days=3)),
        (START + timedelta(hours=13, minutes=17), START + timedelta(days=2, hours=1)),
    ]
    for start, end in ranges:
        period = Period(start, end, parse_tz("UTC"))
        for steps in FUNNELS:
            for window in WINDOWS:
                for by in ("session", "user"):
                    # When the funnel is computed
                    got = funnels.compute(
                        UUID(project),
                        period,
                        steps=steps,
                        window_s=window_seconds(window),
                        count_by=by,  # type: ignore[arg-type]
                    )
                    # Then each step's count and median gap equal the brute-force walk's
                    want = brute_funnel(
                        rows, start, end, steps, timedelta(seconds=window_seconds(window)), by
                    )
                    label = (start, [s.event for s in steps], window, by)
                    assert [s.count for s in got.steps] == [n for n, _ in want], label
                    for s, (_, median) in zip(got.steps, want, strict=True):
                        if median is None:
                            assert s.median_seconds_from_previous is None, label
                        else:
                            assert s.median_seconds_from_previous == pytest.approx(median), label
    assert any(s.count for s in got.steps)


def test_ties_ordering_and_first_entry(project: str) -> None:
    # Given hand-made sessions that pin the semantics down
    t = START + timedelta(hours=5)

    def ev(name: str, session: str, at: timedelta, path: str = "/a") -> tuple[Any, ...]:
        ts = t + at
        return (
            project,
            str(uuid.uuid4()),
            name,
            "u-" + session,
            "{}",
            session,
            f"https://x.test{path}",
            None,
            "UA",
            "h",
            ts,
            ts,
        )

    rows = [
        # tie: signup at the very instant of the page view does not follow it
        ev("page_view", "tie", timedelta(0)),
        ev("signup", "tie", timedelta(0)),
        # out of order: signup before the page view does not count
        ev("signup", "order", timedelta(0)),
        ev("page_view", "order", timedelta(seconds=5)),
        # first entry: the window runs from the first page view, not a later one
        ev("page_view", "first", timedelta(0)),
        ev("page_view", "first", timedelta(hours=3)),
        ev("signup", "first", timedelta(hours=3, seconds=1)),
        # converts: 90 s after the page view
        ev("page_view", "ok", timedelta(0)),
        ev("signup", "ok", timedelta(seconds=90)),
        # an entry before the range: its in-range page view is the entry
        ev("page_view", "early", -timedelta(hours=6)),
        ev("page_view", "early", timedelta(seconds=10)),
        ev("signup", "early", timedelta(seconds=40)),
    ]
    write_events(rows)
    period = Period(START, START + timedelta(days=1), parse_tz("UTC"))
    got = funnels.compute(
        UUID(project),
        period,
        steps=[S("page_view"), S("signup")],
        window_s=3600,
        count_by="session",
    )
    # Then: entries tie, order, first, ok, early (5); converted ok and early (2)
    assert [s.count for s in got.steps] == [5, 2]
    assert got.steps[1].median_seconds_from_previous == pytest.approx(60.0)
    assert got.steps[1].drop_off == 3
    assert got.steps[1].conversion_from_first == pytest.approx(0.4)
