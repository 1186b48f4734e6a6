"""Pages, referrers and UTM sources equal a brute-force count over the raw events: before any
rollup, after one, with late events in rolled-up hours, and after a partial backfill. The
rollup queue's trigger and the queries compute the dimensions alike (the figures before and
after a rollup come from one and the other)."""

from __future__ import annotations

import json
import random
import re
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pulse.analytics import service
from pulse.analytics.periods import Period
from pulse.data import rollups
from pulse.data.events import write_events
from pulse.rollup import service as rollup

NOW = datetime(2026, 3, 1, 12, 20, tzinfo=UTC)
REFERRERS = [
    None,
    "https://www.Google.com/search?q=x",
    "http://news.ycombinator.com/item?id=1",
    "https://duckduckgo.com",
    "android-app://com.slack/",
]
RANGES = [
    (datetime(2026, 2, 26, tzinfo=UTC), NOW),
    (datetime(2026, 2, 27, 5, 10, tzinfo=UTC), datetime(2026, 2, 28, 22, 45, tzinfo=UTC)),
    (datetime(2026, 3, 1, 11, 30, tzinfo=UTC), datetime(2026, 3, 1, 13, tzinfo=UTC)),
]


@pytest.fixture
def project(api, new_user) -> str:
    user = new_user()
    res = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "B"})
    return res.json()["id"]


def _rows(project_id: str, rng: random.Random, start: datetime, n: int) -> list[tuple[Any, ...]]:
    span = (NOW - start).total_seconds()
    out = []
    for _ in range(n):
        ts = start + timedelta(seconds=int(rng.random() * span))
        props: dict[str, Any] = {}
        if rng.random() < 0.5:
            props["path"] = f"/p{rng.randint(1, 5)}"
        if rng.random() < 0.3:
            props["utm_source"] = rng.choice(["news", "mail", "ads"])
        out.append(
            (
                project_id,
                str(uuid.uuid4()),
                "page_view" if rng.random() < 0.8 else "click",
                None,
                json.dumps(props),
                f"s{rng.randint(1, 30)}" if rng.random() < 0.95 else None,
                rng.choice(["https://shop.test/a/b?x=1", "https://shop.test/", "not a url"]),
                rng.choice(REFERRERS),
                "UA",
                "h",
                ts,
                ts,
            )
        )
    return out


def _dimension(row: tuple[Any, ...], dimension: str) -> str | None:
    props = json.loads(row[4])
    if dimension == "path":
        if "path" in props:
            return str(props["path"])
        m = re.match(r"^[a-z]+://[^/]+(/[^?#]*)", row[6])
        return m.group(1) if m else None
    if dimension == "referrer":
        m = re.match(r"^[a-z]+://(?:www\.)?([^/:?#]+)", row[7] or "")
        return m.group(1).lower() if m else "(direct)"
    return str(props.get("utm_source", "(none)"))


def brute(rows: list, start: datetime, end: datetime, dimension: str) -> list[dict[str, Any]]:
    counts: dict[str, int] = defaultdict(int)
    sessions: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r[2] == "page_view" and start <= r[10] < end:
            value = _dimension(r, dimension)
            if value is not None:
                counts[value] += 1
                if r[5] is not None:
                    sessions[value].add(r[5])
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return [{"value": v, "count": c, "unique_sessions": len(sessions[v])} for v, c in top]


def check(project: str, rows: list) -> None:
    pid = uuid.UUID(project)
    for start, end in RANGES:
        period = Period(start, end, ZoneInfo("UTC"))
        for dimension in ("path", "referrer", "utm_source"):
            got = service.breakdown(pid, period, dimension, 10, NOW)["items"]
            assert got == brute(rows, start, end, dimension), (start, end, dimension)


def test_breakdowns_are_exact_before_and_after_rollups(project) -> None:
    rng = random.Random(11)
    rows = _rows(project, rng, datetime(2026, 2, 25, tzinfo=UTC), 900)
    write_events(rows)
    check(project, rows)  # all raw: the queries' expressions
    rollup.run(now=NOW)
    check(project, rows)  # closed hours from the rollup: the trigger's expressions
    late = _rows(project, rng, datetime(2026, 2, 27, tzinfo=UTC), 150)
    write_events(late)
    rows += late
    check(project, rows)  # late events in rolled-up hours, read raw
    rollup.run(now=NOW)
    check(project, rows)
    rollups.mark_range_dirty(
        start=datetime(2026, 2, 27, 3, tzinfo=UTC),
        end=datetime(2026, 2, 28, 3, tzinfo=UTC),
        project_id=uuid.UUID(project),
    )
    check(project, rows)  # hours marked for a rebuild, read raw
    rollup.run(now=NOW)
    check(project, rows)
