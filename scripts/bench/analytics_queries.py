"""Analytics query latency on a large project, side by side with raw-events-only answers.

    .venv/bin/python scripts/bench/analytics_queries.py [--events 10000000] [--days 90] [--reps 20]
                                                        [--fresh] [--only breakdown,filtered]
                                                        [--ranges 7d,30d]

Generates (once; kept in database ``$PULSE_BENCH_DATABASE_analytics``, by default
``pulse_bench_analytics``, unless --fresh) a project with
``--events`` events over ``--days`` days straight into Postgres with COPY: daily and weekly
cycles, a few event names dominating, ~1 event in 10 starting a session (so ~1M sessions for
10M events), ~100k identified users on 40% of the sessions; each session has a browser, OS,
device type, country, screen and language (a few values each, skewed), and 1 event in 5 a
``plan`` property. Then it rolls everything up (timed) and measures p50/p95 of each endpoint
through the real "api" Lambda handler for 24h, 7d, 30d and 90d, and of the same figures
computed from raw events alone; then every breakdown dimension (``breakdown``) and reports with
filters (``filtered``).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from scripts.bench.common import (
    BENCH_DB,
    EVENT_NAMES,
    PAGE_PATHS,
    PG_SERVER,
    configure_environment,
    copy_events,
    pct,
    session_rows,
    use_database,
)

DB = f"{BENCH_DB}_analytics"
URL = f"{PG_SERVER}/{DB}"
configure_environment()
os.environ["PULSE_DATABASE_URL"] = URL


# What a visit is, per session: (value, weight) choices, skewed like real traffic.
VISIT = {
    "browser": [("Chrome", 60), ("Mobile Safari", 20), ("Firefox", 8), ("Edge", 7), (None, 5)],
    "os": [("Windows", 40), ("iOS", 22), ("Mac OS X", 18), ("Android", 15), ("Linux", 5)],
    "device": [("desktop", 60), ("mobile", 35), ("tablet", 5)],
    "country": [
        (c, w)
        for c, w in zip("US DE GB FR IN BR JP CA NL ES".split(), range(20, 0, -2), strict=True)
    ]
    + [(None, 3)],
    "screen": [("1920x1080", 35), ("390x844", 25), ("1440x900", 20), ("2560x1440", 10)],
    "language": [("en-US", 50), ("de-DE", 15), ("fr-FR", 10), ("en-GB", 10), ("ja", 5)],
}
PLANS = ["free", "pro", "team"]


def _pick(rng: random.Random, field: str) -> Any:
    values, weights = zip(*VISIT[field], strict=True)
    return rng.choices(values, weights)[0]


def with_visit(rng: random.Random, rows: list[tuple]) -> list[tuple]:
    """One session's rows with its visit (the columns after the twelfth) and, on page views,
    the tracker's screen and language; 1 event in 5 gets a ``plan`` property."""
    visit = {f: _pick(rng, f) for f in VISIT}
    out = []
    for r in rows:
        props = r[4][:-1]  # '{"path":"/x"' without its closing brace
        if r[2] == "page_view":
            props += f',"screen":"{visit["screen"]}","language":"{visit["language"]}"'
        if rng.random() < 0.2:
            props += f',"plan":"{rng.choice(PLANS)}"'
        out.append(
            (
                *r[:4],
                props + "}",
                *r[5:12],
                *(visit[f] for f in ("browser", "os", "device")),
                visit["country"],
            )
        )
    return out


def _visit_rows(
    rng: random.Random, project_id: str, *, users: int, start: datetime, end: datetime, most: int
) -> list[tuple]:
    """One session's events with its visit's attributes: by one of ``users`` users (the low
    numbers far more often) in 4 sessions of 10, anonymous in the others."""
    user = f"user_{int(users * rng.random() ** 2)}" if rng.random() < 0.4 else None
    return with_visit(
        rng,
        session_rows(
            rng,
            project_id,
            session=uuid.uuid4().hex[:16],
            user=user,
            start=start,
            end=end,
            names=EVENT_NAMES,
            paths=PAGE_PATHS,
            most=most,
        ),
    )


def _hour_weight(t: datetime) -> float:
    daily = 0.35 + 0.65 * math.sin(math.pi * ((t.hour - 6) % 24) / 24) ** 2
    weekly = 0.7 if t.weekday() >= 5 else 1.0
    return daily * weekly


def generate(conn, project_id: str, n_events: int, days: int, now: datetime) -> None:
    rng = random.Random(2026)
    start = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    hours = [
        start + timedelta(hours=i) for i in range(int((now - start).total_seconds() // 3600) + 1)
    ]
    weights = [_hour_weight(h) for h in hours]
    total_w = sum(weights)
    # Sessions average ~9.59 events (an exponential length, floored, cut at now), measured.
    n_sessions = math.ceil(n_events / 9.59)
    n_users = max(1, n_sessions // 10)
    conn.execute("SELECT pulse_ensure_event_partitions(%s, %s)", (start, now + timedelta(hours=1)))
    written, t0 = 0, time.monotonic()
    rows: list[tuple] = []
    for hour, w in zip(hours, weights, strict=True):
        sessions_here = max(0, round(n_sessions * w / total_w))
        for _ in range(sessions_here):
            rows += _visit_rows(
                rng,
                project_id,
                users=n_users,
                start=hour + timedelta(seconds=rng.random() * 3600),
                end=now,
                most=10**9,
            )
        if len(rows) >= 50_000:
            written += copy_events(conn, rows)
            rows = []
            print(
                f"\r  generated {written:,} events ({written / (time.monotonic() - t0):,.0f}/s)",
                end="",
                file=sys.stderr,
            )
    if rows:
        written += copy_events(conn, rows)
    print(f"\r  generated {written:,} events in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    conn.execute("ANALYZE events")
    conn.commit()


BREAKDOWNS = (
    "page",
    "entry_page",
    "exit_page",
    "referrer",
    "utm_source",
    "browser",
    "os",
    "device",
    "country",
    "screen",
    "language",
)
# Reports with filters: read from raw events (rollups hold no filters).
FILTERED = (
    ("overview country:DE", "overview", "&filter=country:DE"),
    ("overview page:/pricing", "overview", "&filter=page:/pricing"),
    ("timeseries country:DE", "timeseries", "&interval=day&filter=country:DE"),
    ("top-events prop.plan:pro", "top-events", "&filter=prop.plan:pro"),
    ("browser by country:DE", "breakdown", "&dimension=browser&filter=country:DE"),
    ("sessions country:DE", "sessions", "&filter=country:DE"),
    ("users country:DE", "users", "&filter=country:DE"),
    ("events country:DE", "events", "&filter=country:DE"),
)

RAW_SQL = {
    "overview": "SELECT count(*), count(DISTINCT session_id), count(DISTINCT distinct_id) "
    "FROM events WHERE project_id = %(p)s AND timestamp >= %(s)s AND timestamp < %(e)s",
    "timeseries": "SELECT date_trunc('day', timestamp), count(*), count(DISTINCT session_id) "
    "FROM events WHERE project_id = %(p)s AND timestamp >= %(s)s AND timestamp < %(e)s "
    "GROUP BY 1",
    "top-events": "SELECT event, count(*), count(DISTINCT distinct_id) FROM events "
    "WHERE project_id = %(p)s AND timestamp >= %(s)s AND timestamp < %(e)s GROUP BY 1 "
    "ORDER BY 2 DESC LIMIT 10",
}


def _sessions_from_raw_events(project_id: Any, start: datetime, end: datetime) -> None:
    """What the sessions endpoint reads with no session parts: every hour from raw events."""
    from pulse.analytics import periods
    from pulse.data import sessions

    split = periods.split(start, end, open_hour=start, rebuild_hours=set())
    sessions.session_report(
        project_id=project_id, split=split, limit_pages=10, limit=50, after=None
    )


RAW_CALLS = {"sessions": _sessions_from_raw_events}


def _write_dirty(project_id: str, n: int, *, seed: int = 7) -> None:
    """``n`` events over the last 24 hours (sessions of ~10 events), written as the processor
    writes them: queued for the rollup, their hours marked dirty."""
    from pulse.data.events import stream_events

    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows: list[tuple] = []
    while len(rows) < n:
        rows += _visit_rows(
            rng,
            project_id,
            users=10_000,
            start=now - timedelta(seconds=rng.random() * 86_400),
            end=now,
            most=n - len(rows),
        )
    for i in range(0, len(rows), 5000):
        stream_events([(rows[i : i + 5000], [])])
    print(f"wrote {len(rows):,} events over the last 24 hours, not rolled up", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--raw-reps", type=int, default=3, help="0 leaves the raw answers out")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument(
        "--dirty-events",
        type=int,
        default=0,
        help="after the rollup, write this many events over the last 24 hours through the "
        "processor's path and measure with them not rolled up (dirty and open hours)",
    )
    parser.add_argument(
        "--late-events",
        type=int,
        default=0,
        help="with --dirty-events: roll those up (as the 5-minute schedule does), then write "
        "this many late events over the same 24 hours: every hour of the day is dirty again, "
        "its late events queued",
    )
    parser.add_argument(
        "--only",
        default="reports,breakdown,filtered",
        help="which groups to measure: reports (the original endpoints), breakdown (every "
        "dimension), filtered (reports with filters)",
    )
    parser.add_argument("--ranges", default="24h,7d,30d,90d")
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="measure the kept database as it is: no rollup and no writes (another checkout's "
        "code on the same state, e.g. a day of events never rolled up)",
    )
    args = parser.parse_args()

    import psycopg

    use_database(DB, fresh=args.fresh)
    from pulse.data.projects import insert_project, list_projects
    from pulse.data.users import get_user_by_email, insert_user
    from pulse.domain.projects import new_api_key

    owner = get_user_by_email(email="bench@pulse.local") or insert_user(
        email="bench@pulse.local", password_hash="x"
    )
    projects = list_projects(owner_id=owner.id)
    now = datetime.now(UTC)
    if projects:
        project = projects[0]
        print(f"reusing project {project.id} in {DB}", file=sys.stderr)
    else:
        project = insert_project(
            owner_id=owner.id, name="bench", domain=None, api_key=new_api_key()
        )
        with psycopg.connect(URL) as conn:
            generate(conn, str(project.id), args.events, args.days, now)
    from pulse.rollup import service as rollup

    t0 = time.monotonic()
    marked = 0
    with psycopg.connect(URL, autocommit=True) as conn:
        n_events = conn.execute(
            "SELECT count(*) FROM events WHERE project_id = %s", (project.id,)
        ).fetchone()[0]
        if (
            not args.as_is
            and not conn.execute(
                "SELECT 1 FROM event_rollups_hourly WHERE project_id = %s LIMIT 1", (project.id,)
            ).fetchone()
        ):
            from pulse.data.rollups import mark_range_dirty

            marked = mark_range_dirty(
                start=now - timedelta(days=args.days + 1),
                end=now + timedelta(hours=1),
                project_id=project.id,
            )
    if not args.as_is:  # --as-is measures the database as it is: no rollup, no writes
        done = rollup.run()
        rollup_s = time.monotonic() - t0
        if marked:
            print(f"rolled up {done['hours']} hours ({n_events:,} events) in {rollup_s:.0f} s")
        if args.dirty_events:
            _write_dirty(str(project.id), args.dirty_events)
        if args.dirty_events and args.late_events:
            t0 = time.monotonic()
            hours = rollup.run()["hours"]
            print(f"rolled up {hours} hours in {time.monotonic() - t0:.1f} s", file=sys.stderr)
            _write_dirty(str(project.id), args.late_events, seed=8)

    from pulse.auth.tokens import issue_pair
    from pulse.handlers.api import handler
    from tests.apigw import LambdaContextStub, http_event

    token = issue_pair(owner.id).access_token
    ctx = LambdaContextStub()
    print(
        f"\n{n_events:,} events over {args.days} days; p50 / p95 in ms over {args.reps} "
        f"requests each (raw-only: {args.raw_reps})"
    )
    ranges = {
        name: days
        for name, days in {"24h": 1, "7d": 7, "30d": 30, "90d": 90}.items()
        if name in args.ranges.split(",")
    }
    groups = args.only.split(",")
    cases: list[tuple[str, str, str]] = []  # (label, endpoint, extra query)
    if "reports" in groups:
        endpoints = ("overview", "timeseries", "top-events", "sessions", "users", "events")
        for endpoint in (*endpoints, "pages", "referrers", "utm-sources"):
            extra = "&interval=day" if endpoint == "timeseries" else ""
            cases.append((endpoint, endpoint, extra))
    if "breakdown" in groups:
        for dim in BREAKDOWNS:
            cases.append((dim, "breakdown", f"&dimension={dim}"))
        cases.append(("prop.plan", "breakdown", "&property=plan"))
    if "filtered" in groups:
        for label, endpoint, extra in FILTERED:
            cases.append((label, endpoint, extra))
    width = max(len(c[0]) for c in cases) + 2
    print(f"{'endpoint':<{width}}{'range':>6}{'p50':>9}{'p95':>9}{'raw p50':>10}{'speed-up':>10}")
    for label, endpoint, extra in cases:
        for name, days in ranges.items():
            query = f"range={name}{extra}"
            event = http_event(
                "GET", f"/api/v1/analytics/{project.id}/{endpoint}", token=token, query=query
            )
            times = []
            for _ in range(args.reps):
                t = time.perf_counter()
                res = handler(event, ctx)
                times.append((time.perf_counter() - t) * 1000)
                assert res["statusCode"] == 200, res
            raw_line = ""
            if args.raw_reps and endpoint in RAW_CALLS and label == endpoint:
                end = datetime.now(UTC)
                raw_times = []
                for _ in range(args.raw_reps):
                    t = time.perf_counter()
                    RAW_CALLS[endpoint](project.id, end - timedelta(days=days), end)
                    raw_times.append((time.perf_counter() - t) * 1000)
                raw_p50 = statistics.median(raw_times)
                raw_line = f"{raw_p50:>10.0f}{raw_p50 / statistics.median(times):>9.0f}x"
            if args.raw_reps and endpoint in RAW_SQL and label == endpoint:
                raw_times = []
                end = datetime.now(UTC)
                with psycopg.connect(URL) as conn:
                    for _ in range(args.raw_reps):
                        t = time.perf_counter()
                        conn.execute(
                            RAW_SQL[endpoint],
                            {"p": project.id, "e": end, "s": end - timedelta(days=days)},
                        ).fetchall()
                        raw_times.append((time.perf_counter() - t) * 1000)
                raw_p50 = statistics.median(raw_times)
                raw_line = f"{raw_p50:>10.0f}{raw_p50 / statistics.median(times):>9.0f}x"
            print(
                f"{label:<{width}}{name:>6}{statistics.median(times):>9.1f}{pct(times, 95):>9.1f}"
                f"{raw_line}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
