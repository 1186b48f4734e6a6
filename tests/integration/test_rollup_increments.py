"""The rollup adds new events as increments: after any sequence of writes, late events, rollups
and partial backfills, every rollup table equals a brute-force computation over the raw events;
it takes only queued events; overlapping runs and a run out of time leave nothing half done."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from pulse.data import rollups
from pulse.data.events import write_events
from pulse.rollup import service as rollup

NOW = datetime(2026, 3, 1, 12, 20, tzinfo=UTC)  # the open hour is 12:00-13:00 on Mar 1
OPEN_HOUR = NOW.replace(minute=0)
NAMES = ["page_view", "page_view", "click", "signup"]


@pytest.fixture
def project(api, new_user) -> str:
    user = new_user()
    res = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "R"})
    return res.json()["id"]


def _rows(project_id: str, rng: random.Random, start: datetime, end: datetime, n: int) -> list:
    """Events of few sessions and users, so that values recur across many hours (long
    presence chains) and late events land between hours a value was already seen in."""
    span = (end - start).total_seconds()
    out = []
    for _ in range(n):
        ts = start + timedelta(seconds=int(rng.random() * span))
        out.append(
            (
                project_id,
                str(uuid.uuid4()),
                rng.choice(NAMES),
                f"u{rng.randint(1, 6)}" if rng.random() < 0.5 else None,
                f'{{"path": "/p{rng.randint(1, 3)}"}}',
                f"s{rng.randint(1, 12)}" if rng.random() < 0.9 else None,
                "https://shop.test/x",
                None,
                "UA",
                "h",
                ts,
                ts,
                rng.choice(["Chrome", "Safari", None]),
                None,
                "desktop",
                rng.choice(["DE", None]),
            )
        )
    return out


def _hour(ts: datetime) -> datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def brute_presence_counts(rows: list, before: datetime) -> Counter:
    """(kind, event, hour, prev_hour) -> how many values of that hour were last seen then."""
    hours_of: dict[tuple[str, str, str], set[datetime]] = defaultdict(set)
    for r in rows:
        if r[10] >= before:
            continue
        for kind, value in (("s", r[5]), ("u", r[3])):
            if value is not None:
                hours_of[(kind, "", value)].add(_hour(r[10]))
                hours_of[(kind, r[2], value)].add(_hour(r[10]))
        if r[2] == "page_view":  # sessions and users by page, referrer, UTM source, browser, …
            for kind, key in _breakdown_keys(r):
                for presence, value in ((kind, r[5]), (kind.upper(), r[3])):
                    if value is not None:
                        hours_of[(presence, key, value)].add(_hour(r[10]))
    counts: Counter = Counter()
    for (kind, event, _), hours in hours_of.items():
        prev = None
        for h in sorted(hours):
            counts[(kind, event, h, prev)] += 1
            prev = h
    return counts


def _utc_day(t: datetime | None) -> datetime | None:
    return None if t is None else t.astimezone(UTC).replace(hour=0)


def regrouped(counts: Counter) -> tuple[Counter, Counter]:
    """presence_counts summed by (kind, event, UTC day, UTC day of prev_hour), as presence_days
    keeps them, and by (kind, event, prev_hour, UTC day of the hour), as presence_next keeps them
    (first sightings left out)."""
    days: Counter = Counter()
    nexts: Counter = Counter()
    for (kind, event, hour, prev), n in counts.items():
        days[(kind, event, _utc_day(hour), _utc_day(prev))] += n
        if prev is not None:
            nexts[(kind, event, prev, _utc_day(hour))] += n
    return +days, +nexts


def _breakdown_keys(r: tuple[Any, ...]) -> list[tuple[str, str]]:
    """A page_view's dimensions (kind, value), as these rows carry them: page path, referrer
    domain, UTM source, medium and campaign, browser, OS, device, country, screen, language."""
    return [
        ("p", r[4].split('"')[3]),
        ("r", r[7] or "(direct)"),
        ("m", "(none)"),
        ("n", "(none)"),
        ("g", "(none)"),
        ("b", r[12] or "(unknown)"),
        ("o", r[13] or "(unknown)"),
        ("d", r[14] or "(unknown)"),
        ("c", r[15] or "(unknown)"),
        ("z", "(unknown)"),
        ("l", "(unknown)"),
    ]


def brute_breakdowns(rows: list, before: datetime) -> Counter:
    return Counter(
        (kind, _hour(r[10]), key)
        for r in rows
        if r[10] < before and r[2] == "page_view"
        for kind, key in _breakdown_keys(r)
    )


def brute_rollups(rows: list, before: datetime) -> dict:
    out: dict[tuple[datetime, str], list] = defaultdict(lambda: [0, set(), set()])
    for r in rows:
        if r[10] < before:
            cell = out[(_hour(r[10]), r[2])]
            cell[0] += 1
            if r[5] is not None:
                cell[1].add(r[5])
            if r[3] is not None:
                cell[2].add(r[3])
    return {k: (v[0], len(v[1]), len(v[2])) for k, v in out.items()}


def brute_session_parts(rows: list, before: datetime) -> dict:
    parts: dict[tuple[datetime, str], list] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r[10]):
        if r[10] < before and r[5] is not None:
            parts[(_hour(r[10]), r[5])].append(r)
    return {key: _fold(evs) for key, evs in parts.items()}


def _path(r: tuple) -> str:
    return r[4].split('"')[3]


def _fold(evs: list) -> tuple:
    """A session's (or a part's) figures over its events, ties in time broken as the rollup
    breaks them: the greatest distinct id, the least entry page, the greatest exit page."""
    users = [r for r in evs if r[3] is not None]
    views = [r for r in evs if r[2] == "page_view"]
    return (
        min(r[10] for r in evs),
        max(r[10] for r in evs),
        len(evs),
        len(views),
        max(users, key=lambda r: (r[10], r[3]))[3] if users else None,
        _path(min(views, key=lambda r: (r[10], _path(r)))) if views else None,
        _path(max(views, key=lambda r: (r[10], _path(r)))) if views else None,
    )


def brute_session_totals(rows: list, before: datetime) -> dict:
    """Each session over its rolled-up events."""
    sessions: dict[str, list] = defaultdict(list)
    for r in rows:
        if r[10] < before and r[5] is not None:
            sessions[r[5]].append(r)
    return {sid: _fold(evs) for sid, evs in sessions.items()}


def brute_session_days(rows: list, before: datetime) -> tuple[dict, Counter]:
    """Per UTC day of their start, over the sessions' rolled-up events: how many sessions,
    their durations in µs, bounces and page views; and the sessions per (day, entry page)."""
    sessions: dict[str, list] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r[10]):
        if r[10] < before and r[5] is not None:
            sessions[r[5]].append(r)
    days: dict = defaultdict(lambda: [0, 0, 0, 0])
    entries: Counter = Counter()
    for evs in sessions.values():
        day = evs[0][10].date()
        views = [r for r in evs if r[2] == "page_view"]
        cell = days[day]
        cell[0] += 1
        cell[1] += (evs[-1][10] - evs[0][10]) // timedelta(microseconds=1)
        cell[2] += len(views) == 1
        cell[3] += len(views)
        if views:
            entries[(day, _fold(evs)[5])] += 1
    return {d: tuple(v) for d, v in days.items()}, entries


def stored(db: psycopg.Connection[Any], project: str) -> tuple[Counter, dict, dict]:
    counts = Counter(
        {
            (r[0], r[1], r[2], r[3]): r[4]
            for r in db.execute(
                "SELECT kind, event, hour, prev_hour, n FROM presence_counts "
                "WHERE project_id = %s AND n <> 0",
                (project,),
            ).fetchall()
        }
    )
    rolled = {
        (r[0], r[1]): (r[2], r[3], r[4])
        for r in db.execute(
            "SELECT hour, event, count, unique_sessions, unique_users FROM event_rollups_hourly "
            "WHERE project_id = %s",
            (project,),
        ).fetchall()
    }
    parts = {
        (r[0], r[1]): tuple(r[2:])
        for r in db.execute(
            "SELECT hour, session_id, started_at, ended_at, events, page_views, distinct_id, "
            "entry_page, exit_page FROM session_hourly WHERE project_id = %s",
            (project,),
        ).fetchall()
    }
    return counts, rolled, parts


def _by_first_column(db: psycopg.Connection[Any], select: str, project: str) -> dict:
    """The project's rows of ``select`` (no WHERE yet) as {first column: the rest}."""
    return {
        r[0]: tuple(r[1:])
        for r in db.execute(f"{select} WHERE project_id = %s", (project,)).fetchall()
    }


def check(db: psycopg.Connection[Any], project: str, rows: list) -> None:
    counts, rolled, parts = stored(db, project)
    assert Counter(
        {
            (r[0], r[1], r[2]): r[3]
            for r in db.execute(
                "SELECT kind, hour, value, count FROM breakdown_hourly WHERE project_id = %s",
                (project,),
            ).fetchall()
        }
    ) == brute_breakdowns(rows, OPEN_HOUR)
    assert counts == brute_presence_counts(rows, OPEN_HOUR)
    by_day, by_next = regrouped(counts)
    for table, want in (
        ("SELECT kind, event, day, prev_day, n FROM presence_days", by_day),
        ("SELECT kind, event, hour, next_day, n FROM presence_next", by_next),
    ):
        assert (
            Counter(
                {
                    tuple(r[:4]): r[4]
                    for r in db.execute(f"{table} WHERE project_id = %s", (project,)).fetchall()
                }
            )
            == want
        ), table
    assert rolled == brute_rollups(rows, OPEN_HOUR)
    assert parts == brute_session_parts(rows, OPEN_HOUR)
    assert _by_first_column(
        db,
        "SELECT session_id, started_at, ended_at, events, page_views, distinct_id, entry_page, "
        "exit_page FROM session_totals",
        project,
    ) == brute_session_totals(rows, OPEN_HOUR)
    days, entries = brute_session_days(rows, OPEN_HOUR)
    assert (
        _by_first_column(
            db, "SELECT day, sessions, duration_us, bounces, page_views FROM session_daily", project
        )
        == days
    )
    assert (
        Counter(
            {
                (r[0], r[1]): r[2]
                for r in db.execute(
                    "SELECT day, entry_page, sessions FROM session_entry_daily "
                    "WHERE project_id = %s",
                    (project,),
                ).fetchall()
            }
        )
        == entries
    )
    for table in ("presence_counts", "presence_days", "presence_next"):
        assert not db.execute(
            f"SELECT 1 FROM {table} WHERE project_id = %s AND n = 0", (project,)
        ).fetchone(), table


def test_increments_late_events_and_partial_backfills_equal_brute_force(project, db) -> None:
    rng = random.Random(7)
    start = datetime(2026, 2, 25, tzinfo=UTC)
    rows = _rows(project, rng, start, NOW, 600)
    write_events(rows)
    rollup.run(now=NOW)
    check(db, project, rows)
    for round_ in range(6):
        # Late events between hours already rolled up, events in the open hour, and sometimes
        # a backfill of a part of the range, in between.
        late = _rows(project, rng, start + timedelta(hours=rng.randint(0, 90)), NOW, 80)
        write_events(late)
        rows += late
        if round_ % 3 == 1:
            a = start + timedelta(hours=rng.randint(0, 60))
            rollups.mark_range_dirty(
                start=a, end=a + timedelta(hours=20), project_id=uuid.UUID(project)
            )
        done = rollup.run(now=NOW)
        assert done["remaining"] == 0
        check(db, project, rows)
    # The open hour's events are still queued, and nothing else is.
    queued = db.execute(
        'SELECT min("timestamp"), count(*) FROM rollup_queue WHERE project_id = %s', (project,)
    ).fetchone()
    assert queued[0] >= OPEN_HOUR
    assert queued[1] == sum(1 for r in rows if r[10] >= OPEN_HOUR)


def test_a_rollup_takes_the_queued_events_only(project, db) -> None:
    rng = random.Random(8)
    rows = _rows(project, rng, datetime(2026, 2, 27, tzinfo=UTC), OPEN_HOUR, 300)
    write_events(rows)
    rollup.run(now=NOW)
    # Events appended to the raw table behind the queue's back are not seen: the rollup does
    # not read the hours' raw events, only what was queued.
    hidden = _rows(project, rng, datetime(2026, 2, 28, 3, tzinfo=UTC), OPEN_HOUR, 40)
    db.execute("ALTER TABLE events DISABLE TRIGGER events_queue_for_rollup")
    try:
        write_events(hidden)
    finally:
        db.execute("ALTER TABLE events ENABLE TRIGGER events_queue_for_rollup")
    late = _rows(project, rng, datetime(2026, 2, 28, 3, tzinfo=UTC), OPEN_HOUR, 40)
    write_events(late)
    assert db.execute(
        "SELECT count(*) FROM rollup_queue WHERE project_id = %s", (project,)
    ).fetchone()[0] == len(late)
    rollup.run(now=NOW)
    check(db, project, rows + late)
    # A backfill rebuilds from the raw events, and then sees them.
    rollup.backfill(start=datetime(2026, 2, 27, tzinfo=UTC), end=NOW, project_id=uuid.UUID(project))
    check(db, project, rows + late + hidden)


def test_a_run_skips_a_project_another_run_holds(project, db, database) -> None:
    rows = _rows(project, random.Random(9), datetime(2026, 2, 28, tzinfo=UTC), OPEN_HOUR, 100)
    write_events(rows)
    with psycopg.connect(database) as other:
        with other.transaction():
            assert rollups.try_lock_project(_dict_rows(other), uuid.UUID(project))
            done = rollup.run(now=NOW)
            assert done["hours"] == 0
            assert _marks(db, project) > 0
    rollup.run(now=NOW)
    assert _marks(db, project) == 0
    check(db, project, rows)


def test_a_run_out_of_time_starts_nothing_and_says_what_is_left(project, db) -> None:
    rows = _rows(project, random.Random(10), datetime(2026, 2, 28, tzinfo=UTC), OPEN_HOUR, 100)
    write_events(rows)
    marks = _marks(db, project)
    done = rollup.run(now=NOW, time_left_ms=lambda: 5_000)
    assert done["hours"] == 0 and done["remaining"] >= marks > 0
    assert rollup.run(now=NOW, time_left_ms=lambda: 600_000)["remaining"] == 0
    check(db, project, rows)


def _vacuumed_since(db, before: datetime, tables: tuple[str, ...]) -> dict[str, bool]:
    """Whether each table was VACUUMed since ``before`` (the statistics reach
    pg_stat_user_tables within a moment, so they are read until all are or 2 s pass)."""
    vacuumed: dict[str, bool] = {}
    for _ in range(20):
        vacuumed = dict(
            db.execute(
                "SELECT relname, last_vacuum >= %s FROM pg_stat_user_tables "
                "WHERE relname = ANY(%s)",
                (before, list(tables)),
            ).fetchall()
        )
        if all(vacuumed.values()):
            break
        time.sleep(0.1)
    return vacuumed


def test_a_run_vacuums_the_queue_it_emptied(project, db) -> None:
    rows = _rows(project, random.Random(11), datetime(2026, 2, 28, tzinfo=UTC), OPEN_HOUR, 200)
    write_events(rows)
    before = db.execute("SELECT now()").fetchone()[0]
    assert rollup.run(now=NOW)["hours"] > 0
    tables = ("rollup_queue", "rollup_dirty_hours")
    assert _vacuumed_since(db, before, tables) == dict.fromkeys(tables, True)
    # The pooled connection is a transaction's again: writes and a rollup still work.
    late = _rows(project, random.Random(12), datetime(2026, 2, 28, 3, tzinfo=UTC), OPEN_HOUR, 30)
    write_events(late)
    rollup.run(now=NOW)
    check(db, project, rows + late)


def _queue_bytes(db: psycopg.Connection[Any]) -> int:
    return int(db.execute("SELECT pg_relation_size('rollup_queue')").fetchone()[0])


def test_a_run_that_drained_a_large_queue_compacts_it(project, db, monkeypatch) -> None:
    # Every event written is queued. A backfill or an import drains a large queue, but the
    # events of the open hour, written last, stay at the end of its file, so VACUUM cannot cut
    # it short: after 10M events the queue's file stayed 1.5 GB for ~100,000 rows, and every
    # report read it whole (190,000 pages for the overview's day of raw events, 700 ms).
    monkeypatch.setattr(rollups, "QUEUE_COMPACT_MIN_BYTES", 512 * 1024)
    closed = _rows(
        project, random.Random(14), datetime(2026, 3, 1, 9, tzinfo=UTC), OPEN_HOUR, 20_000
    )
    still_open = _rows(project, random.Random(15), OPEN_HOUR, NOW, 20)
    write_events(closed)
    write_events(still_open)
    assert _queue_bytes(db) > 2 * 1024 * 1024
    assert rollup.run(now=NOW)["hours"] > 0
    # what the open hour holds is a few pages; the file is rewritten to them
    assert _queue_bytes(db) <= rollups.QUEUE_COMPACT_MIN_BYTES
    assert db.execute(
        "SELECT count(*) FROM rollup_queue WHERE project_id = %s", (project,)
    ).fetchone()[0] == len(still_open)
    # the queue still takes events, and the next run rolls them up: nothing was lost
    late = _rows(project, random.Random(16), datetime(2026, 3, 1, 9, tzinfo=UTC), OPEN_HOUR, 30)
    write_events(late)
    rollup.run(now=NOW)
    check(db, project, closed + still_open + late)


def test_a_compaction_that_cannot_lock_the_queue_gives_up_and_the_run_is_done(
    project, db, database, monkeypatch
) -> None:
    # A report reading the queue holds a lock the rewrite must wait for: it waits no longer
    # than its timeout, and the rollup's work stands.
    monkeypatch.setattr(rollups, "QUEUE_COMPACT_MIN_BYTES", 0)
    monkeypatch.setattr(rollups, "QUEUE_COMPACT_RATIO", 0)  # any file is to be compacted
    monkeypatch.setattr(rollups, "QUEUE_COMPACT_LOCK_TIMEOUT", "200ms")
    rows = _rows(project, random.Random(19), datetime(2026, 3, 1, 9, tzinfo=UTC), OPEN_HOUR, 200)
    write_events(rows)
    with psycopg.connect(database) as reader:
        reader.execute("SELECT count(*) FROM rollup_queue").fetchone()  # its lock, held
        started = time.monotonic()
        assert rollup.run(now=NOW)["hours"] > 0
        assert time.monotonic() - started < 10
        assert reader.execute("SELECT count(*) FROM rollup_queue").fetchone()[0] > 0
    check(db, project, rows)
    assert rollups.compact_queue() is True  # nobody holds it now


def test_a_small_queue_is_left_as_it_is(project, db) -> None:
    # The rewrite locks the queue (and so the processor's writes) while it runs: a queue under
    # the floor, as an hour's churn leaves it, is never rewritten.
    write_events(_rows(project, random.Random(17), datetime(2026, 3, 1, 9, tzinfo=UTC), NOW, 300))
    rollup.run(now=NOW)
    before = db.execute(
        "SELECT relfilenode FROM pg_class WHERE relname = 'rollup_queue'"
    ).fetchone()[0]
    write_events(_rows(project, random.Random(18), datetime(2026, 3, 1, 9, tzinfo=UTC), NOW, 300))
    assert rollup.run(now=NOW)["hours"] > 0
    after = db.execute(
        "SELECT relfilenode FROM pg_class WHERE relname = 'rollup_queue'"
    ).fetchone()[0]
    assert after == before


def _marks(db: psycopg.Connection[Any], project: str) -> int:
    return db.execute(
        "SELECT count(*) FROM rollup_dirty_hours WHERE project_id = %s AND hour < %s",
        (project, OPEN_HOUR),
    ).fetchone()[0]


def _dict_rows(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    from psycopg.rows import dict_row

    conn.row_factory = dict_row  # type: ignore[assignment]
    return conn


def test_a_run_of_many_hours_leaves_the_rollups_vacuumed(project, db) -> None:
    # Reports read the rollups by index-only scans, which visit the table for every row on a
    # page the visibility map does not mark all-visible: on 10M events rolled up in one run and
    # not vacuumed since, the sessions report took 400 ms, 50 ms after a VACUUM. A run of many
    # hours (a backfill, a day of late events) vacuums what it wrote.
    rows = _rows(project, random.Random(13), datetime(2026, 2, 25, tzinfo=UTC), OPEN_HOUR, 300)
    write_events(rows)
    before = db.execute("SELECT now()").fetchone()[0]
    assert rollup.run(now=NOW)["hours"] >= rollup.VACUUM_AFTER_HOURS
    tables = ("presence_counts", "event_rollups_hourly", "breakdown_hourly", "session_totals")
    assert _vacuumed_since(db, before, tables) == dict.fromkeys(tables, True)
    check(db, project, rows)


@pytest.mark.parametrize(
    "probe",
    [
        "AND hour < %(t)s ORDER BY hour DESC LIMIT 1",  # the row before a changed hour
        "AND hour > %(t)s ORDER BY hour LIMIT 1",  # the row after it
        "AND hour >= %(t)s AND hour < %(t)s + interval '1 day'",  # a report's raw value
    ],
)
def test_a_value_is_looked_up_on_the_value_key(project, db, probe: str) -> None:
    # The rollup's chain probes and the reports' raw-value probes name a value and an hour
    # range. Only the key serves them: an index on (project_id, hour), which the rebuild's
    # DELETE once had, was walked for them whenever the planner's statistics were from a small
    # table, filtering every row of the project (a test's rollup: 0.1 s to 25 s a chunk).
    write_events(_rows(project, random.Random(12), datetime(2026, 2, 28, tzinfo=UTC), NOW, 50))
    rollup.run(now=NOW)
    db.execute("ANALYZE presence_hourly")
    plan = "\n".join(
        row[0]
        for row in db.execute(
            "EXPLAIN SELECT hour, prev_hour FROM presence_hourly WHERE project_id = %(p)s "
            "AND kind = 's' AND event = '' AND h = 42 " + probe,
            {"p": project, "t": NOW},
        )
    )
    assert "presence_hourly_pkey" in plan and "presence_hourly_hour_idx" not in plan, plan
