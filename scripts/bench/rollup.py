"""What a rollup costs: after the seed, for late events, and for a backfill.

    .venv/bin/python scripts/bench/rollup.py seed                 # 20k events over 168 hours
    .venv/bin/python scripts/bench/rollup.py late [--base 1000000] [--late 20000,200000,2000000]
    .venv/bin/python scripts/bench/rollup.py backfill             # the analytics bench's project

``seed`` and ``late`` write through the processor's own write path (``stream_events``: COPY, the
queue trigger, the dirty marks) into a fresh database ``$PULSE_BENCH_DATABASE_rollup`` (by default
``pulse_bench_rollup``), then time
``rollup.run()``. ``late`` first writes and rolls up ``--base`` events over 30 days, then, for
each count in ``--late``, writes that many late events spread over the same 30 days and times the
rollup that adds them: its cost should grow with the late events, not with the base or the number
of dirty hours. ``backfill`` marks every hour of the project of ``analytics_queries.py``
(database ``$PULSE_BENCH_DATABASE_analytics``, made by that script) for a rebuild and times the
rollup that rebuilds them from the raw events.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from scripts.bench.common import (
    BENCH_DB,
    bench_project,
    configure_environment,
    pct,
    session_rows,
    use_database,
)

configure_environment()

NAMES = ["page_view"] * 6 + ["click", "scroll", "add_to_cart", "signup"]
PATHS = ["/", "/pricing", "/blog", "/docs", "/signup"] + [f"/p/{i}" for i in range(30)]


def _use_database(name: str, *, fresh: bool) -> None:
    import os

    os.environ["PULSE_DATABASE_URL"] = use_database(name, fresh=fresh)


def _events(
    project_id: str, n: int, start: datetime, end: datetime, rng: random.Random, users: int
) -> list[tuple]:
    """``n`` events in sessions of ~10 events a few minutes long, starting anywhere in the
    range; 40 % of the sessions belong to one of ``users`` identified users."""
    rows: list[tuple] = []
    span = (end - start).total_seconds()
    while len(rows) < n:
        sid = uuid.uuid4().hex[:16]
        user = f"user_{rng.randrange(users)}" if rng.random() < 0.4 else None
        rows += session_rows(
            rng,
            project_id,
            session=sid,
            user=user,
            start=start + timedelta(seconds=rng.random() * span),
            end=end,
            names=NAMES,
            paths=PATHS,
            most=n - len(rows),
        )
    return rows


def _write(rows: list[tuple]) -> float:
    """Write through the processor's path, 5,000 rows a batch; returns the seconds taken."""
    from pulse.data.events import stream_events

    t0 = time.monotonic()
    for i in range(0, len(rows), 5000):
        stream_events([(rows[i : i + 5000], [])])
    return time.monotonic() - t0


def _rollup() -> tuple[float, dict[str, int]]:
    from pulse.rollup import service

    t0 = time.monotonic()
    done = service.run()
    return time.monotonic() - t0, done


def _dirty_hours(project_id: str) -> int:
    from pulse.db.connection import connection

    with connection() as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM rollup_dirty_hours WHERE project_id = %s", (project_id,)
        ).fetchone()
    return int(row["n"]) if row else 0  # type: ignore[call-overload]


def seed() -> None:
    _use_database(f"{BENCH_DB}_rollup", fresh=True)
    project = bench_project()
    now = datetime.now(UTC)
    rows = _events(project, 20_000, now - timedelta(days=7), now, random.Random(1), 300)
    _write(rows)
    hours = _dirty_hours(project)
    _reports(project, "before the rollup (every hour dirty)")
    seconds, done = _rollup()
    print(f"seed: {len(rows):,} events in {hours} dirty hours rolled up in {seconds:.2f} s {done}")
    _reports(project, "after the rollup")
    from pulse.rollup import service

    t0 = time.monotonic()
    service.backfill(start=now - timedelta(days=8), end=now, project_id=uuid.UUID(project))
    print(f"seed: the same hours rebuilt (a backfill) in {time.monotonic() - t0:.2f} s")


REPORTS = (
    "overview",
    "timeseries",
    "top-events",
    "sessions",
    "users",
    "pages",
    "referrers",
    "utm-sources",
)


def _reports(project: str, label: str, reps: int = 20) -> None:
    """p50 / p95 of every report over the range 7d, through the real "api" handler."""
    import statistics

    from pulse.auth.tokens import issue_pair
    from pulse.data.users import get_user_by_email
    from pulse.handlers.api import handler
    from tests.apigw import LambdaContextStub, http_event

    owner = get_user_by_email(email="bench@pulse.local")
    assert owner is not None
    token = issue_pair(owner.id).access_token
    print(f"reports, range 7d, {label}: p50 / p95 ms over {reps} requests")
    for name in REPORTS:
        query = "range=7d" + ("&interval=hour" if name == "timeseries" else "")
        event = http_event("GET", f"/api/v1/analytics/{project}/{name}", token=token, query=query)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            res = handler(event, LambdaContextStub())
            times.append((time.perf_counter() - t0) * 1000)
            assert res["statusCode"] == 200, res
        print(f"  {name:<12}{statistics.median(times):>8.1f}{pct(times, 95):>8.1f}")


def late(base: int, counts: list[int]) -> None:
    _use_database(f"{BENCH_DB}_rollup", fresh=True)
    project = bench_project()
    rng = random.Random(2)
    now = datetime.now(UTC)
    start = now - timedelta(days=30)
    closed = now.replace(minute=0, second=0, microsecond=0)
    rows = _events(project, base, start, closed, rng, 20_000)
    written = _write(rows)
    seconds, done = _rollup()
    print(
        f"base: {len(rows):,} events over 30 days written in {written:.0f} s, "
        f"rolled up in {seconds:.1f} s ({done['hours']} hours)"
    )
    print(f"{'late events':>12}{'dirty hours':>13}{'rollup s':>10}{'µs/event':>10}")
    for n in counts:
        rows = _events(project, n, start, closed, rng, 20_000)
        _write(rows)
        hours = _dirty_hours(project)
        seconds, _ = _rollup()
        print(f"{n:>12,}{hours:>13,}{seconds:>10.1f}{seconds / n * 1e6:>10.0f}")


def backfill() -> None:
    _use_database(f"{BENCH_DB}_analytics", fresh=False)
    from pulse.db.connection import connection
    from pulse.rollup import service

    with connection() as conn:
        row = conn.execute(
            "SELECT p.id, (SELECT count(*) FROM events e WHERE e.project_id = p.id) AS n, "
            '(SELECT min("timestamp") FROM events e WHERE e.project_id = p.id) AS lo '
            "FROM projects p ORDER BY p.created_at LIMIT 1"
        ).fetchone()
    if row is None:
        sys.exit("no project in pulse_bench_analytics: run scripts/bench/analytics_queries.py")
    t0 = time.monotonic()
    done = service.backfill(
        start=row["lo"].replace(minute=0, second=0, microsecond=0),
        end=datetime.now(UTC) + timedelta(hours=1),
        project_id=row["id"],
    )
    print(f"backfill: {row['n']:,} events rebuilt in {time.monotonic() - t0:.0f} s {done}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["seed", "late", "backfill"])
    parser.add_argument("--base", type=int, default=1_000_000)
    parser.add_argument("--late", default="20000,200000,2000000")
    args = parser.parse_args()
    if args.mode == "seed":
        seed()
    elif args.mode == "late":
        late(args.base, [int(x) for x in args.late.split(",")])
    else:
        backfill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
