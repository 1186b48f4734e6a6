"""Sustained events/s from HTTP to rows in Postgres, through the local stack as `make up` runs it.

    .venv/bin/python scripts/bench/e2e_ingest.py [--seconds 20] [--clients 8] [--batch 10]

Starts the local runtime on free ports with its own database, then several client threads post
batches of ``--batch`` events for the given time; the figure is events / (time from the first
request to the moment the last row is in Postgres). Then it prints ``stored N of M accepted``
(the rows of the bench's project, once the stream has drained) and exits non-zero when they
differ.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from scripts.seed_events import stored_report, wait_until_stored  # noqa: E402
from tests.apigw import BROWSER_USER_AGENT  # noqa: E402
from tests.e2e.conftest import start_local_stack, stop_local_stack  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=10, help="events a request (1-100)")
    args = parser.parse_args()
    # One project takes all the load here; its per-key limit (6,000 requests a minute) would
    # otherwise be what is measured.
    os.environ.setdefault("PULSE_INGEST_RATE_LIMIT_PER_MINUTE", "1000000")
    stack = start_local_stack(Path(tempfile.mkdtemp()), database="pulse_bench_e2e")
    try:
        project = stack.new_project("bench")
        sent = [0] * args.clients
        errors = [0] * args.clients
        stop_at = time.monotonic() + args.seconds

        def client(i: int) -> None:
            with httpx.Client(
                base_url=stack.http_url, timeout=30, headers={"user-agent": BROWSER_USER_AGENT}
            ) as c:
                n = 0
                while time.monotonic() < stop_at:
                    now = datetime.now(UTC).isoformat()
                    body = {
                        "sent_at": now,
                        "events": [
                            {
                                "event": "page_view",
                                "uuid": str(uuid.uuid4()),
                                "session_id": f"s{i}-{n % 50}",
                                "properties": {"path": "/x"},
                                "timestamp": now,
                            }
                            for _ in range(args.batch)
                        ],
                    }
                    r = c.post(
                        "/api/v1/events/ingest",
                        json=body,
                        headers={"X-API-Key": project["api_key"]},
                    )
                    if r.status_code == 202:
                        sent[i] += int(r.json()["accepted"])
                    else:
                        errors[i] += 1
                    n += 1

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        posted_at = time.monotonic()
        total = sum(sent)
        with psycopg.connect(stack.database_url, autocommit=True) as conn:

            def stored() -> int:
                row = conn.execute(
                    "SELECT count(*) FROM events WHERE project_id = %s", (project["id"],)
                ).fetchone()
                return int(row[0]) if row else 0

            # Until every accepted event is in, or the count has stopped growing for 15 s.
            n = wait_until_stored(stored, total, poll_s=0.1)
        done = time.monotonic()
        print(
            f"{args.clients} clients for {args.seconds:.0f} s: {total:,} events accepted, "
            f"{sum(errors)} failed requests, {n:,} rows in Postgres"
        )
        requests = total // args.batch
        print(
            f"HTTP accept rate:            {total / (posted_at - started):,.0f} events/s, "
            f"{requests / (posted_at - started):,.0f} requests/s of {args.batch} events"
        )
        print(
            f"HTTP -> Postgres sustained:  {n / (done - started):,.0f} events/s "
            f"(stream drained {done - posted_at:.1f} s after the last request)"
        )
        line, status = stored_report(n, total)
        print(line)
    finally:
        stop_local_stack(stack)
    return status


if __name__ == "__main__":
    sys.exit(main())
