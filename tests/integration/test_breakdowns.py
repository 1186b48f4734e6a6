"""Every breakdown dimension (the page, entry and exit pages, referrer, UTM source, medium and
campaign, browser, OS, device, country, screen, language, and an event property) equals a
brute-force count over the raw events, unfiltered and filtered: before any rollup, after one,
with late events in rolled-up hours, and after a partial backfill. The rollup queue's trigger
and the queries compute the dimensions alike (the figures before and after a rollup come from
one and the other)."""

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

from pulse.analytics import filters, service
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
    "https://www.shop.test/pricing",  # a link inside the site: no referrer
    "https://SHOP.test/",
]
RANGES = [
    (datetime(2026, 2, 26, tzinfo=UTC), NOW),
    (datetime(2026, 2, 27, 5, 10, tzinfo=UTC), datetime(2026, 2, 28, 22, 45, tzinfo=UTC)),
    (datetime(2026, 3, 1, 11, 30, tzinfo=UTC), datetime(2026, 3, 1, 13, tzinfo=UTC)),
]
ROLLED = [
    "page",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "browser",
    "os",
    "device",
    "country",
    "screen",
    "language",
]
FILTERS: list[list[str]] = [
    [],
    ["country:DE"],
    ["page:/p2", "browser:Chrome"],
    ["prop.plan:pro"],
    ["browser:(unknown)", "event:page_view"],
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
        for key, values in (
            ("utm_source", ["news", "mail", "ads"]),
            ("utm_medium", ["email", "cpc"]),
            ("utm_campaign", ["spring", "launch"]),
            ("screen", ["1920x1080", "390x844"]),
            ("language", ["en-US", "de-DE", "fr"]),
            ("plan", ["pro", "free", 3, True]),
        ):
            if rng.random() < 0.3:
                props[key] = rng.choice(values)
        session = rng.randint(1, 30)
        out.append(
            (
                project_id,
                str(uuid.uuid4()),
                "page_view" if rng.random() < 0.8 else "click",
                f"u{rng.randint(1, 12)}" if rng.random() < 0.6 else None,
                json.dumps(props),
                f"s{session}" if rng.random() < 0.95 else None,
                rng.choice(["https://shop.test/a/b?x=1", "https://shop.test/", "not a url"]),
                rng.choice(REFERRERS),
                "UA",
                "h",
                ts,
                ts,
                rng.choice(["Chrome", "Firefox", None]),
                rng.choice(["Mac OS X", "Android", None]),
                rng.choice(["desktop", "mobile", None]),
                rng.choice(["DE", "FR", None]) if session % 3 else "US",
            )
        )
    return out


def _text(value: Any) -> str:
    """A JSON property value as Postgres' ->> gives it."""
    return value if isinstance(value, str) else json.dumps(value)


def value_of(row: tuple[Any, ...], field: str) -> str | None:
    props = json.loads(row[4])
    if field in ("page", "entry_page", "exit_page"):
        if "path" in props:
            return str(props["path"])
        m = re.match(r"^[a-z]+://[^/]+(/[^?#]*)", row[6])
        return m.group(1) if m else None
    if field == "referrer":
        m = re.match(r"^[a-z]+://(?:www\.)?([^/:?#]+)", row[7] or "")
        page = re.match(r"^[a-z]+://(?:www\.)?([^/:?#]+)", row[6] or "")
        if m and page and m.group(1).lower() == page.group(1).lower():
            return None  # a link inside the site is no referrer
        return m.group(1).lower() if m else "(direct)"
    if field.startswith("utm_"):
        return _text(props.get(field, "(none)"))
    if field in ("screen", "language"):
        return _text(props.get(field, "(unknown)"))
    if field == "event":
        return str(row[2])
    if field.startswith("prop."):
        key = field[len("prop.") :]
        return _text(props[key]) if key in props else None
    column = {"browser": 12, "os": 13, "device": 14, "country": 15}[field]
    return row[column] if row[column] is not None else "(unknown)"


def matching(rows: list, start: datetime, end: datetime, flt: list[str]) -> list:
    pairs = [f.split(":", 1) for f in flt]
    return [r for r in rows if start <= r[10] < end and all(value_of(r, k) == v for k, v in pairs)]


def brute(rows: list, dimension: str) -> list[dict[str, Any]]:
    """The top 10 values of ``dimension`` over ``rows`` (already in range and filtered)."""
    counts: dict[str, int] = defaultdict(int)
    sessions: dict[str, set[str]] = defaultdict(set)
    users: dict[str, set[str]] = defaultdict(set)
    picked: list[tuple[str | None, tuple[Any, ...]]] = []
    if dimension in ("entry_page", "exit_page"):
        # A session's first (last) page view, a tie in time going to the least (greatest)
        # path, a missing path counting as the greatest; its user is its latest distinct id
        # (the greatest on a tie) among all its events.
        by_session: dict[str, list] = defaultdict(list)
        for r in rows:
            if r[5] is not None:
                by_session[r[5]].append(r)
        for sid, evs in by_session.items():
            views = [r for r in evs if r[2] == "page_view"]
            if not views:
                continue
            order = [
                (r[10], value_of(r, dimension) is None, value_of(r, dimension) or "", r)
                for r in views
            ]
            first = (min if dimension == "entry_page" else max)(order, key=lambda o: o[:3])[3]
            known = [r for r in evs if r[3] is not None]
            user = max(known, key=lambda r: (r[10], r[3]))[3] if known else None
            picked.append((value_of(first, dimension), (None, None, None, user, None, sid)))
    else:
        every = dimension.startswith("prop.")
        picked = [(value_of(r, dimension), r) for r in rows if every or r[2] == "page_view"]
    for value, r in picked:
        if value is not None:
            counts[value] += 1
            if r[5] is not None:
                sessions[value].add(r[5])
            if r[3] is not None:
                users[value].add(r[3])
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return [
        {
            "value": v,
            "count": c,
            "unique_sessions": len(sessions[v]),
            "unique_users": len(users[v]),
        }
        for v, c in top
    ]


def check(project: str, rows: list) -> None:
    pid = uuid.UUID(project)
    for start, end in RANGES:
        period = Period(start, end, ZoneInfo("UTC"))
        for flt in FILTERS:
            match = filters.parse(flt)
            sel = matching(rows, start, end, flt)
            for dimension in [*ROLLED, "entry_page", "exit_page"]:
                got = service.breakdown(pid, period, dimension, 10, NOW, match)["items"]
                assert got == brute(sel, dimension), (start, end, flt, dimension)
            got = service.breakdown(pid, period, None, 10, NOW, match, "plan")["items"]
            assert got == brute(sel, "prop.plan"), (start, end, flt, "plan")


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


def test_an_event_named_like_a_dimension_value_counts_only_its_events(project) -> None:
    """Presence rows of a dimension hold its value where an event's hold the event's name: the
    overview of the event "Chrome" must not read the browser "Chrome"'s rows."""
    rng = random.Random(3)
    rows = _rows(project, rng, datetime(2026, 2, 28, tzinfo=UTC), 300)
    rows = [(*r[:2], "Chrome" if i % 4 == 0 else r[2], *r[3:]) for i, r in enumerate(rows)]
    write_events(rows)
    rollup.run(now=NOW)
    period = Period(datetime(2026, 2, 28, tzinfo=UTC), NOW, ZoneInfo("UTC"))
    got = service.overview(uuid.UUID(project), period, "Chrome", NOW)
    chrome = [r for r in rows if r[2] == "Chrome"]
    assert (got["total_events"], got["unique_sessions"], got["unique_users"]) == (
        len(chrome),
        len({r[5] for r in chrome if r[5]}),
        len({r[3] for r in chrome if r[3]}),
    )


def _event(
    project_id: str, session: str, at: datetime, event: str, user: str | None, path: str | None
) -> tuple[Any, ...]:
    props = json.dumps({"path": path} if path else {})
    return (project_id, str(uuid.uuid4()), event, user, props, session, "not a url", None,
            "UA", "h", at, at, "Chrome", "Linux", "desktop", "DE")  # fmt: skip


def test_ties_in_time_go_to_the_least_entry_the_greatest_exit_and_user(project) -> None:
    """Events of a session at the same instant: its entry page is the least path among its
    first page views, its exit page the greatest among its last (a page view without a path
    the greatest of all), its user the greatest distinct id among its latest identified events.
    Read from the queue, from raw events at a range's edge, and from the rolled-up parts."""
    at, edge = datetime(2026, 2, 28, 10, tzinfo=UTC), datetime(2026, 2, 27, 5, 30, tzinfo=UTC)
    rows = [
        _event(project, "t1", at, "page_view", "u2", "/b"),
        _event(project, "t1", at, "page_view", "u1", "/a"),
        _event(project, "t1", at, "click", "u3", None),
        _event(project, "t1", at - timedelta(minutes=5), "click", "u9", None),
        _event(project, "t2", edge, "page_view", None, "/c"),
        _event(project, "t2", edge, "page_view", None, None),
        _event(project, "t3", edge, "page_view", "u5", "/z"),
        _event(project, "t3", edge, "page_view", "u4", "/y"),
        _event(project, "t3", edge + timedelta(minutes=1), "click", "u6", None),
        _event(project, "t3", edge + timedelta(minutes=1), "click", "u7", None),
    ]
    write_events(rows)
    pid = uuid.UUID(project)
    expected = {"t1": ("u3", "/a"), "t2": (None, "/c"), "t3": ("u7", "/y")}
    for state in ("queued", "rolled up"):
        for start, end in RANGES[:2]:
            period = Period(start, end, ZoneInfo("UTC"))
            sel = matching(rows, start, end, [])
            for dimension in ("entry_page", "exit_page"):
                got = service.breakdown(pid, period, dimension, 10, NOW, filters.parse([]))
                assert got["items"] == brute(sel, dimension), (state, start, dimension)
            listed = service.sessions(pid, period, 50, None, NOW)["list"]
            got_sessions = {s["session_id"]: (s["distinct_id"], s["entry_page"]) for s in listed}
            want = {sid: v for sid, v in expected.items() if any(r[5] == sid for r in sel)}
            assert got_sessions == want, (state, start)
        rollup.run(now=NOW)
