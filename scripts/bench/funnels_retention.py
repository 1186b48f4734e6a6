"""Funnel and retention latency on a large project, through the real "api" Lambda handler.

    .venv/bin/python scripts/bench/funnels_retention.py [--events 2000000] [--days 30]
                                                        [--reps 10] [--fresh]

Generates (once; kept in database ``$PULSE_BENCH_DATABASE`` or ``pulse_bench_funnels`` unless
--fresh) a project with ``--events`` events over ``--days`` days straight into Postgres with
COPY, shaped as scripts/bench/analytics_queries.py's (sessions of ~10 events, ~40% of them of
identified users, a few event names dominating), and rolls it all up (retention's "seen
before" check reads the presence chain). Then it measures p50/p95 of funnels (ad hoc,
by session and by user, 3 steps with a page match) and retention (day and week, with and
without a return event) for 7d and 30d.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from scripts.bench.common import (
    EVENT_NAMES,
    PAGE_PATHS,
    PG_SERVER,
    configure_environment,
    copy_events,
    pct,
    session_rows,
    use_database,
)

DB = os.environ.get("PULSE_BENCH_DATABASE", "pulse_bench_funnels")
URL = f"{PG_SERVER}/{DB}"
configure_environment()
os.environ["PULSE_DATABASE_URL"] = URL

FUNNEL = [
    {"event": "page_view", "page": "/pricing"},
    {"event": "signup"},
    {"event": "purchase"},
]


def generate(project_id: str, n_events: int, days: int, now: datetime) -> int:
    import psycopg

    rng = random.Random(2026)
    start = now - timedelta(days=days)
    n_sessions = math.ceil(n_events / 9.59)
    n_users = max(1, n_sessions // 10)
    written = 0
    with psycopg.connect(URL) as conn:
        conn.execute(
            "SELECT pulse_ensure_event_partitions(%s, %s)", (start, now + timedelta(hours=1))
        )
        rows: list[tuple] = []
        for _ in range(n_sessions):
            user = f"user_{int(n_users * rng.random() ** 2)}" if rng.random() < 0.4 else None
            rows += session_rows(
                rng,
                project_id,
                session=uuid.uuid4().hex[:16],
                user=user,
                start=start + timedelta(seconds=rng.random() * days * 86_400),
                end=now,
                names=EVENT_NAMES,
                paths=PAGE_PATHS,
                most=10**9,
            )
            if len(rows) >= 50_000:
                written += copy_events(conn, rows)
                rows = []
                print(f"\r  generated {written:,} events", end="", file=sys.stderr)
        if rows:
            written += copy_events(conn, rows)
        conn.execute("ANALYZE events")
        conn.commit()
    print(f"\r  generated {written:,} events", file=sys.stderr)
    return written


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--fresh", action="store_true")
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
    if projects:
        project = projects[0]
        print(f"reusing project {project.id} in {DB}", file=sys.stderr)
    else:
        project = insert_project(
            owner_id=owner.id, name="bench", domain=None, api_key=new_api_key()
        )
        now = datetime.now(UTC)
        generate(str(project.id), args.events, args.days, now)
        # Roll everything up, as the schedule would have: retention asks the presence chain
        # whether a user was seen before its range.
        from pulse.data.rollups import mark_range_dirty
        from pulse.rollup import service as rollup

        mark_range_dirty(
            start=now - timedelta(days=args.days + 1),
            end=now + timedelta(hours=1),
            project_id=project.id,
        )
        t0 = time.monotonic()
        while rollup.run().get("hours"):
            pass
        print(f"  rolled up in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    with psycopg.connect(URL) as conn:
        n_events = conn.execute(
            "SELECT count(*) FROM events WHERE project_id = %s", (project.id,)
        ).fetchone()[0]

    from pulse.auth.tokens import issue_pair
    from pulse.handlers.api import handler
    from tests.apigw import LambdaContextStub, http_event

    token = issue_pair(owner.id).access_token
    ctx = LambdaContextStub()
    base = f"/api/v1/analytics/{project.id}"
    cases = []
    for rng in ("7d", "30d"):
        for by in ("session", "user"):
            body = {"steps": FUNNEL, "window": "1d", "by": by}
            cases.append(
                (f"funnel by {by}", rng, "POST", f"{base}/funnels/query", f"range={rng}", body)
            )
        for period, ret in (("day", None), ("week", None), ("day", "purchase")):
            q = f"range={rng}&period={period}" + (f"&return_event={ret}" if ret else "")
            label = f"retention {period}" + (f" ({ret})" if ret else "")
            cases.append((label, rng, "GET", f"{base}/retention", q, None))
    print(f"\n{n_events:,} events over {args.days} days; ms over {args.reps} requests each")
    print(f"{'query':<28}{'range':>6}{'p50':>9}{'p95':>9}")
    for label, rng, method, path, query, body in cases:
        event = http_event(method, path, token=token, query=query, body=body)
        times = []
        for _ in range(args.reps):
            t = time.perf_counter()
            res = handler(event, ctx)
            times.append((time.perf_counter() - t) * 1000)
            assert res["statusCode"] == 200, res
        print(f"{label:<28}{rng:>6}{pct(times, 50):>9.0f}{pct(times, 95):>9.0f}")
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
