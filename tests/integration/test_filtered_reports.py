"""Every report with filters (overview, timeseries, top events, sessions, users, events) equals
a brute-force computation over the raw events that match every filter: before any rollup,
after one (a filtered report must not read the unfiltered rollups), with late events, and with
hours marked for a rebuild. The field values are those of test_breakdowns."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pulse.analytics import filters, periods, service
from pulse.analytics.periods import Period
from pulse.data import rollups
from pulse.data.events import write_events
from pulse.rollup import service as rollup
from tests.integration.test_breakdowns import NOW, RANGES, _rows, matching, value_of

FILTERS = [
    ["country:DE"],
    ["page:/p2", "browser:Chrome"],
    ["prop.plan:pro"],
    ["prop.plan:3", "device:(unknown)"],
    ["event:click", "referrer:(direct)"],
]


@pytest.fixture
def project(api, new_user) -> str:
    user = new_user()
    res = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "F"})
    return res.json()["id"]


def stats(rows: list) -> tuple[int, int, int]:
    return (len(rows), len({r[5] for r in rows if r[5]}), len({r[3] for r in rows if r[3]}))


def by_count(rows: list) -> list[tuple[str, int]]:
    """The events' names with their counts, most counted first (then by name)."""
    return sorted(Counter(r[2] for r in rows).items(), key=lambda kv: (-kv[1], kv[0]))


def brute_sessions(rows: list) -> list[dict[str, Any]]:
    by_session: dict[str, list] = {}
    for r in sorted(rows, key=lambda r: (r[10], r[1])):
        if r[5]:
            by_session.setdefault(r[5], []).append(r)
    out = []
    for sid, evs in by_session.items():
        users = [r[3] for r in evs if r[3]]
        views = [r for r in evs if r[2] == "page_view"]
        out.append(
            {
                "session_id": sid,
                "started_at": evs[0][10],
                "ended_at": evs[-1][10],
                "events": len(evs),
                "page_views": len(views),
                "distinct_id": users[-1] if users else None,
                "entry_page": value_of(views[0], "page") if views else None,
            }
        )
    return sorted(out, key=lambda x: (x["started_at"], x["session_id"]), reverse=True)


def pages(fetch: Any, key: str) -> list[dict[str, Any]]:
    """Every page of a cursor-paginated report."""
    got, cursor = [], None
    for _ in range(1000):  # a cursor that never ends is a failure, not a hang
        page = fetch(cursor)
        got += page[key]
        cursor = page["next_cursor"]
        if not cursor:
            return got
    raise AssertionError("the pages never end")


def check(project: str, rows: list) -> None:
    pid = uuid.UUID(project)
    for start, end in RANGES:
        period = Period(start, end, ZoneInfo("UTC"))
        prev = period.previous()
        for flt in FILTERS:
            m = filters.parse(flt)
            sel = matching(rows, start, end, flt)
            where = (start, end, flt)

            ov = service.overview(pid, period, None, NOW, m)
            assert (ov["total_events"], ov["unique_sessions"], ov["unique_users"]) == stats(sel)
            p = ov["previous"]
            assert (p["total_events"], p["unique_sessions"], p["unique_users"]) == stats(
                matching(rows, prev.start, prev.end, flt)
            ), where
            names = by_count(sel)
            for block, ranked in (
                (ov, names),
                (p, by_count(matching(rows, prev.start, prev.end, flt))),
            ):
                assert block["top_event"] == (
                    {"name": ranked[0][0], "count": ranked[0][1]} if ranked else None
                ), where
            clicks = service.overview(pid, period, "click", NOW, m)
            assert clicks["total_events"] == sum(r[2] == "click" for r in sel), where

            series = service.timeseries(pid, period, "hour", None, NOW, m)["points"]
            for point, b in zip(series, periods.buckets(period, "hour"), strict=True):
                want = stats(matching(rows, b.start, b.end, flt))
                assert (point["count"], point["unique_sessions"]) == want[:2], (where, b)

            top = service.top_events(pid, period, 10, NOW, m)["events"]
            assert [(e["name"], e["count"]) for e in top] == names[:10], where
            for e in top:
                assert e["unique_users"] == stats([r for r in sel if r[2] == e["name"]])[2]

            want_sessions = brute_sessions(sel)
            got = service.sessions(pid, period, 7, None, NOW, m)
            assert got["sessions"] == len(want_sessions), where
            n = max(len(want_sessions), 1)
            assert got["pages_per_session"] == pytest.approx(
                sum(w["page_views"] for w in want_sessions) / n
            )
            listed = pages(
                lambda c, period=period, m=m: service.sessions(pid, period, 7, c, NOW, m), "list"
            )
            keys = [*want_sessions[0]] if want_sessions else []
            assert [{k: s[k] for k in keys} for s in listed] == want_sessions, where

            seen: dict[str, list[datetime]] = {}
            for r in sel:
                if r[3]:
                    seen.setdefault(r[3], []).append(r[10])
            want_users = sorted(
                (
                    {
                        "distinct_id": u,
                        "first_seen": min(ts),
                        "last_seen": max(ts),
                        "event_count": len(ts),
                    }
                    for u, ts in seen.items()
                ),
                key=lambda x: (x["last_seen"], x["distinct_id"]),
                reverse=True,
            )
            users = pages(
                lambda c, period=period, m=m: service.users(pid, period, 5, c, m), "users"
            )
            keys = ["distinct_id", "first_seen", "last_seen", "event_count"]
            assert [{k: u[k] for k in keys} for u in users] == want_users, where

            evs = pages(
                lambda c, period=period, m=m: service.events(
                    pid, period, 20, c, event=None, distinct_id=None, session_id=None, match=m
                ),
                "events",
            )
            want_ids = [r[1] for r in sorted(sel, key=lambda r: (r[10], r[1]), reverse=True)]
            assert [e["uuid"] for e in evs] == want_ids, where


def test_filtered_reports_are_exact_before_and_after_rollups(project) -> None:
    rng = random.Random(7)
    rows = _rows(project, rng, NOW - timedelta(days=4), 700)
    write_events(rows)
    check(project, rows)
    rollup.run(now=NOW)
    check(project, rows)
    late = _rows(project, rng, NOW - timedelta(days=2), 120)
    write_events(late)
    rows += late
    check(project, rows)
    rollups.mark_range_dirty(
        start=NOW - timedelta(days=3), end=NOW - timedelta(days=2), project_id=uuid.UUID(project)
    )
    rollup.run(now=NOW)
    check(project, rows)


def test_wholly_raw_buckets_that_do_not_meet_count_only_their_own_events(project) -> None:
    """Splits read wholly raw are read as one range and each event given to its bucket by time
    (``_raw_events``): events between two buckets that do not meet belong to neither, and the
    buckets may come in any order."""
    from pulse.data import analytics as sql

    rng = random.Random(5)
    rows = _rows(project, rng, datetime(2026, 2, 26, tzinfo=NOW.tzinfo), 600)
    write_events(rows)
    a, b = datetime(2026, 2, 27, 3, tzinfo=NOW.tzinfo), datetime(2026, 2, 27, 15, tzinfo=NOW.tzinfo)
    c, d = datetime(2026, 2, 28, 1, tzinfo=NOW.tzinfo), datetime(2026, 2, 28, 9, tzinfo=NOW.tzinfo)
    match = filters.parse(["device:desktop"])
    got = sql.bucket_stats(
        project_id=uuid.UUID(project),
        splits=[periods.raw_split(c, d), periods.raw_split(a, b)],
        event=None,
        match=match,
    )
    want = [
        stats(matching(rows, c, d, ["device:desktop"])),
        stats(matching(rows, a, b, ["device:desktop"])),
    ]
    assert [(g["count"], g["s"], g["u"]) for g in got] == want
    assert all(w[0] > 10 for w in want) and stats(matching(rows, b, c, ["device:desktop"]))[0] > 10
