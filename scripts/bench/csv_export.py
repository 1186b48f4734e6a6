"""The raw-events CSV export: memory and speed over a million events.

    PULSE_BENCH_DATABASE=pulse_bench_export .venv/bin/python scripts/bench/csv_export.py \
        [--events 1000000] [--keep]

Writes ``--events`` events (about 300 bytes of CSV each, properties included) over 30 days into
a fresh database, then exports them all through the real "api" Lambda handler (API Gateway
events in, responses out), page after page as a client does (``GET .../events.csv`` with the
``x-next-cursor`` of each answer), writing the pages to /dev/null. Prints the peak RSS of this
process (``ru_maxrss``) before the export and after every tenth of it, the pages, rows and bytes,
and the rows per second. Constant memory means the peak stops growing after the first pages.
``--keep`` reuses the database made by an earlier run with as many events.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from scripts.bench.common import bench_project, configure_environment, use_database  # noqa: E402

configure_environment()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(url: str, project_id: str, events: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pulse_ensure_event_partitions(now() - interval '31 days', now() + interval "
            "'1 day')"
        )
        conn.execute(
            "INSERT INTO events (project_id, id, event, distinct_id, properties, session_id, "
            'page_url, referrer, user_agent, ip_hash, "timestamp", received_at) '
            "SELECT %(p)s, gen_random_uuid(), (ARRAY['page_view','click','signup'])[1 + n %% 3], "
            "'user-' || (n %% 5000), jsonb_build_object('path', '/p/' || (n %% 300), "
            "'plan', 'pro', 'note', 'a \"quoted\", text'), 's-' || (n / 7), "
            "'https://shop.test/p/' || (n %% 300), 'https://ref.test/', 'UA', 'h', "
            "now() - interval '30 days' + n * (interval '30 days' / %(n)s), now() "
            "FROM generate_series(1, %(n)s) AS n",
            {"p": project_id, "n": events},
        )
        conn.execute("ANALYZE events")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    name = os.environ.get("PULSE_BENCH_DATABASE", "pulse_bench_export")
    url = use_database(name, fresh=not args.keep)
    os.environ["PULSE_DATABASE_URL"] = url

    from pulse.auth import tokens
    from pulse.data.projects import list_projects
    from pulse.data.users import get_user_by_email
    from pulse.handlers.api import handler
    from tests.apigw import call, http_event

    owner = get_user_by_email(email="bench@pulse.local")
    projects = list_projects(owner_id=owner.id) if owner and args.keep else []
    if projects:
        project_id = str(projects[0].id)
    else:
        project_id = bench_project()
        started = time.perf_counter()
        seed(url, project_id, args.events)
        print(f"seeded {args.events:,} events in {time.perf_counter() - started:.1f} s")
    owner = get_user_by_email(email="bench@pulse.local")
    assert owner is not None
    token = tokens.issue_pair(owner.id).access_token
    print(f"peak RSS before the export: {rss_mb():.0f} MB")
    rows = pages = size = 0
    cursor = None
    marks = iter(range(1, 11))
    mark = next(marks)
    started = time.perf_counter()
    with open(os.devnull, "w") as sink:
        while True:
            query = "range=90d" + (f"&cursor={cursor}" if cursor else "")
            event = http_event(
                "GET", f"/api/v1/analytics/{project_id}/events.csv", token=token, query=query
            )
            response = call(handler, event)
            assert response.status == 200, response.body[:200]
            sink.write(response.body)
            pages += 1
            size += len(response.body.encode())
            rows += response.body.count("\r\n") - (1 if pages == 1 else 0)
            while rows >= args.events * mark / 10:
                print(f"  {rows:>9,} rows, {pages:>4} pages: peak RSS {rss_mb():.0f} MB")
                mark = next(marks, 11)
            cursor = response.headers.get("x-next-cursor")
            if not cursor:
                break
    elapsed = time.perf_counter() - started
    print(
        f"exported {rows:,} rows in {pages} pages, {size / 1e6:.0f} MB of CSV, "
        f"in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s, {size / 1e6 / elapsed:.1f} MB/s); "
        f"peak RSS {rss_mb():.0f} MB; load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
