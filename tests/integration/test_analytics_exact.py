"""Every analytics figure equals a brute-force computation over the raw events, across hour,
day and month boundaries, in UTC and in zones with whole- and half-hour offsets, before and
after rollups, with late events, re-run rollups and a backfill."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from pulse.analytics import periods, service
from pulse.analytics.periods import Period
from pulse.data import rollups
from pulse.data.events import write_events
from pulse.rollup import service as rollup

NOW = datetime(2026, 2, 1, 10, 37, tzinfo=UTC)  # the open hour is 10:00-11:00 on Feb 1
NAMES = ["page_view"] * 5 + ["click", "signup", "purchase"]


def _row(project_id: str, ts: datetime, rng: random.Random) -> tuple[Any, ...]:
    session = f"s{rng.randint(1, 40)}"
    user = f"u{rng.randint(1, 15)}" if rng.random() < 0.6 else None
    return (
        project_id,
        str(uuid.uuid4()),
        rng.choice(NAMES),
        user,
        "{}",
        session,
        f"https://shop.test/p{rng.randint(1, 4)}?q=1",
        None,
        "UA",
        "h",
        ts,
        ts,
    )


def _generate(
    project_id: str, rng: random.Random, start: datetime, end: datetime, n: int
) -> list[tuple[Any, ...]]:
    span = (end - start).total_seconds()
    return [_row(project_id, start + timedelta(seconds=rng.random() * span), rng) for _ in range(n)]


def brute(
    rows: list[tuple[Any, ...]], start: datetime, end: datetime, event: str | None = None
) -> dict[str, int]:
    sel = [r for r in rows if start <= r[10] < end and (event is None or r[2] == event)]
    return {
        "count": len(sel),
        "s": len({r[5] for r in sel if r[5]}),
        "u": len({r[3] for r in sel if r[3]}),
    }


@pytest.fixture
def project(api, new_user) -> str:
    user = new_user()
    res = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "A"})
    return res.json()["id"]


RANGES = [
    ("2026-01-30T00:00:00+00:00", "2026-02-01T10:37:00+00:00"),  # to now
    ("2026-01-31T13:20:00+00:00", "2026-02-01T02:05:00+00:00"),  # unaligned, month boundary
    # unaligned around a whole UTC day: its uniques read by day, with values last seen that
    # first morning before the start (presence_days, presence_next)
    ("2026-01-30T05:20:00+00:00", "2026-02-01T10:37:00+00:00"),
    ("2026-01-31T00:00:00+00:00", "2026-02-01T00:00:00+00:00"),  # exactly one UTC day
    ("2026-01-31T23:10:00+00:00", "2026-01-31T23:50:00+00:00"),  # inside one hour
    ("2026-02-01T09:00:00+00:00", "2026-02-01T11:00:00+00:00"),  # includes the open hour
]
ZONES = ["UTC", "America/New_York", "Asia/Kolkata"]


def brute_sessions(rows: list[tuple[Any, ...]], start: datetime, end: datetime) -> list[dict]:
    """Each session with an event in [start, end), from those events, latest start first."""
    by_session: dict[str, list[tuple[Any, ...]]] = {}
    for r in sorted(rows, key=lambda r: r[10]):
        if start <= r[10] < end and r[5]:
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
                "entry_page": urlsplit(views[0][6]).path if views else None,
            }
        )
    return sorted(out, key=lambda x: (x["started_at"], x["session_id"]), reverse=True)


def check_sessions(pid: uuid.UUID, period: Period, want: list[dict]) -> None:
    got = service.sessions(pid, period, 10, None, NOW)
    assert got["sessions"] == len(want)
    n = max(len(want), 1)
    durations = [(w["ended_at"] - w["started_at"]).total_seconds() for w in want]
    assert got["avg_duration_s"] == pytest.approx(sum(durations) / n)
    assert got["bounce_rate"] == pytest.approx(sum(w["page_views"] == 1 for w in want) / n)
    assert got["pages_per_session"] == pytest.approx(sum(w["page_views"] for w in want) / n)
    entries = Counter(w["entry_page"] for w in want if w["entry_page"] is not None)
    assert [(e["path"], e["sessions"]) for e in got["top_entry_pages"]] == sorted(
        entries.items(), key=lambda kv: (-kv[1], kv[0])
    )[:10]
    listed = list(got["list"])
    cursor = got["next_cursor"]
    while cursor:
        page = service.sessions(pid, period, 10, cursor, NOW)
        listed += page["list"]
        cursor = page["next_cursor"]
    keys = ["session_id", "started_at", "ended_at", "events", "page_views", "distinct_id"]
    assert [{k: s[k] for k in [*keys, "entry_page"]} for s in listed] == want


def check_everything(project_id: str, rows: list[tuple[Any, ...]]) -> None:
    pid = uuid.UUID(project_id)
    for start_s, end_s in RANGES:
        start, end = datetime.fromisoformat(start_s), datetime.fromisoformat(end_s)
        for zone in ZONES:
            period = Period(start, end, ZoneInfo(zone))
            got = service.overview(pid, period, None, NOW)
            want, prev = brute(rows, start, end), brute(rows, start - (end - start), start)
            assert (got["total_events"], got["unique_sessions"], got["unique_users"]) == (
                want["count"],
                want["s"],
                want["u"],
            ), (start_s, end_s, zone)
            p = got["previous"]
            assert (p["total_events"], p["unique_sessions"], p["unique_users"]) == (
                prev["count"],
                prev["s"],
                prev["u"],
            )
            counts = Counter(r[2] for r in rows if start <= r[10] < end)
            if counts:
                top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
                assert got["top_event"] == {"name": top[0], "count": top[1]}
            else:
                assert got["top_event"] is None
            filtered = service.overview(pid, period, "click", NOW)
            wc = brute(rows, start, end, "click")
            assert (
                filtered["total_events"],
                filtered["unique_sessions"],
                filtered["unique_users"],
            ) == (wc["count"], wc["s"], wc["u"])

            for interval in ("hour", "day"):
                series = service.timeseries(pid, period, interval, None, NOW)
                bks = periods.buckets(period, interval)
                assert len(series["points"]) == len(bks)
                for point, b in zip(series["points"], bks, strict=True):
                    w = brute(rows, b.start, b.end)
                    assert (point["count"], point["unique_sessions"]) == (w["count"], w["s"]), (
                        start_s,
                        end_s,
                        zone,
                        interval,
                        point["bucket"],
                    )
                    assert (
                        datetime.fromisoformat(point["bucket"]).utcoffset() == b.label.utcoffset()
                    )

            if zone == "UTC":  # the sessions report has no buckets: the zone changes nothing
                check_sessions(pid, period, brute_sessions(rows, start, end))

            top_events = service.top_events(pid, period, 10, NOW)["events"]
            want_top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
            assert [(e["name"], e["count"]) for e in top_events] == want_top
            for e in top_events:
                assert e["unique_users"] == brute(rows, start, end, e["name"])["u"]


def test_figures_are_exact_through_rollups_late_events_and_backfill(project, db) -> None:
    rng = random.Random(42)
    start, end = datetime(2026, 1, 30, tzinfo=UTC), NOW
    rows = _generate(project, rng, start, end, 1500)
    write_events(rows)
    check_everything(project, rows)  # nothing rolled up yet: all raw

    done = rollup.run(now=NOW)
    assert done["hours"] > 0
    check_everything(project, rows)  # closed hours from rollups, the open hour raw
    dirty = db.execute(
        "SELECT count(*) FROM rollup_dirty_hours WHERE project_id = %s "
        "AND hour < '2026-02-01T10:00Z'",
        (project,),
    ).fetchone()[0]
    assert dirty == 0

    late = _generate(
        project,
        rng,
        datetime(2026, 1, 30, 5, tzinfo=UTC),
        datetime(2026, 1, 31, 22, tzinfo=UTC),
        120,
    )
    write_events(late)
    rows += late
    check_everything(project, rows)  # late events: their hours are dirty, read raw

    rollup.run(now=NOW)
    check_everything(project, rows)
    assert rollup.run(now=NOW)["hours"] == 0  # nothing left to do
    rollup.backfill(start=datetime(2026, 1, 29, tzinfo=UTC), end=NOW, project_id=uuid.UUID(project))
    check_everything(project, rows)

    # Hours marked for a rebuild are read raw, and events queued in them are not counted twice.
    rollups.mark_range_dirty(
        start=datetime(2026, 1, 31, 2, tzinfo=UTC),
        end=datetime(2026, 1, 31, 9, tzinfo=UTC),
        project_id=uuid.UUID(project),
    )
    more = _generate(
        project,
        rng,
        datetime(2026, 1, 31, 4, tzinfo=UTC),
        datetime(2026, 1, 31, 12, tzinfo=UTC),
        50,
    )
    write_events(more)
    rows += more
    check_everything(project, rows)
    rollup.run(now=NOW)
    check_everything(project, rows)

    rolled = {
        (r[0], r[1]): r[2]
        for r in db.execute(
            "SELECT hour, event, count FROM event_rollups_hourly WHERE project_id = %s "
            "AND hour < '2026-02-01T10:00Z'",
            (project,),
        ).fetchall()
    }
    want = Counter(
        (r[10].replace(minute=0, second=0, microsecond=0), r[2])
        for r in rows
        if r[10] < datetime(2026, 2, 1, 10, tzinfo=UTC)
    )
    assert rolled == dict(want)


def test_sessions_running_past_the_end_of_a_range_count_only_their_part_in_it(project) -> None:
    # Given short sessions that cross midnight (23:40 to 00:10) and one inside the day, rolled
    # up, with hours after midnight rolled up too
    rng = random.Random(5)
    rows = []
    for i, (first, minutes) in enumerate(
        [((23, 40), (0, 10, 30)), ((23, 55), (0, 20)), ((12, 0), (0, 5))]
    ):
        t0 = datetime(2026, 1, 31, *first, tzinfo=UTC)
        for m in minutes:
            row = list(_row(project, t0 + timedelta(minutes=m), rng))
            row[5] = f"cross{i}"
            rows.append(tuple(row))
    write_events(rows)
    rollup.run(now=NOW)
    # When the sessions report reads the day that ends at that midnight
    start, end = datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    # Then each session is its events of that day alone
    want = brute_sessions(rows, start, end)
    assert [w["events"] for w in want] == [1, 2, 2]
    check_sessions(uuid.UUID(project), Period(start, end, ZoneInfo("UTC")), want)
