"""``make load``: Locust (``locustfile.py``) against a local stack of its own, then the zero-loss
check.

    .venv/bin/python scripts/load.py [--users 40] [--rate 1] [--dashboards 2] [--run-time 60]

Starts the local runtime as ``make up`` does, on free ports, with its own database
(``PULSE_LOAD_DATABASE``, default ``pulse_load``) and data folder; creates ``--projects`` projects
with an owner each; runs Locust headless for ``--run-time`` seconds with ``--users`` visitors
(each ``--rate`` batches a second) and ``--dashboards`` open dashboards, bounded in time and
users, against 127.0.0.1 only. Then it prints requests/s, events/s, p50/p95/p99 and errors, the
backlog (accepted events not yet in Postgres) over the run, waits for the stream to drain, and
checks by uuid that Postgres holds every accepted event exactly once. Exits 1 when it does not.

The per-key ingest limit (6,000 requests a minute) is raised for the run: a few projects take all
the load here, and the limit would be what is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from scripts.bench import cpu_profile  # noqa: E402
from scripts.seed_events import wait_until_stored  # noqa: E402
from tests.apigw import BROWSER_USER_AGENT  # noqa: E402
from tests.e2e.conftest import start_local_stack, stop_local_stack  # noqa: E402

LOCUST = Path(sys.executable).parent / "locust"


def _stored_ids(database_url: str, project_ids: list[str]) -> list[str]:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT id::text FROM events WHERE project_id = ANY(%s::uuid[])", (project_ids,)
            ).fetchall()
        ]


def cpu_by_kind(root: int) -> cpu_profile.Snapshot:
    """CPU seconds used so far by each part of the stack whose runtime is ``root``: its threads
    by kind, the execution environments of each function, the local Kinesis. (Processes started
    by any of the runtime's threads: environments start on the gateway's threads.)"""
    return cpu_profile.snapshot(root)


def warm_up(url: str, api_key: str, clients: int = 8, rounds: int = 3) -> None:
    """Bring every ingest execution environment up before the clock starts: on this loaded
    machine a burst of cold starts (boto3, redis and psycopg imported on first use) can take
    longer than the function's 10 s timeout (docs/benchmarks.md)."""
    body = {"api_key": api_key, "events": [{"event": "warm_up"}]}

    def post(_: int) -> int:
        try:
            return httpx.post(
                f"{url}/api/v1/events/ingest",
                json=body,
                timeout=30,
                headers={"user-agent": BROWSER_USER_AGENT},
            ).status_code
        except httpx.HTTPError:
            return 0

    with ThreadPoolExecutor(clients) as pool:
        for _ in range(rounds):
            list(pool.map(post, range(clients)))


def backlog_verdict(samples: list[dict[str, float]], events_per_s: float) -> tuple[str, bool]:
    """Whether the backlog (accepted - stored) grew over the run: it is steady when its last
    samples are within a second of events, or no larger than in the first half."""
    lags = [s["accepted"] - s["stored"] for s in samples]
    if len(lags) < 4:
        return "too few samples to tell", True
    half = lags[: len(lags) // 2]
    tail = lags[-max(2, len(lags) // 4) :]
    steady = min(tail) <= max(events_per_s, 1.0) or min(tail) <= max(half)
    shown = ", ".join(str(int(x)) for x in lags)
    return f"backlog (events) every 5 s: {shown}", steady


def report(data: dict[str, Any], seconds: float) -> tuple[list[str], float]:
    lines = []
    total = data["stats"].get("Aggregated", {})
    events_per_s = len(data["accepted"]) / seconds if seconds else 0.0
    lines.append(
        f"requests: {total.get('requests', 0)} in {seconds:.0f} s, "
        f"{total.get('requests', 0) / seconds:.1f} requests/s, "
        f"{events_per_s:.1f} accepted events/s, errors: {total.get('failures', 0)}"
    )
    width = max(len(n) for n in data["stats"])
    lines.append(f"{'':{width}}  requests  failures   req/s    p50    p95    p99 (ms)")
    for name, s in sorted(data["stats"].items(), key=lambda kv: kv[0] == "Aggregated"):
        lines.append(
            f"{name:{width}}  {s['requests']:8d}  {s['failures']:8d}"
            f"  {s['requests'] / seconds:6.1f}"
            f"  {s['p50']:5.0f}  {s['p95']:5.0f}  {s['p99']:5.0f}"
        )
    for error, n in data["errors"].items():
        lines.append(f"error x{n}: {error}")
    return lines, events_per_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=40, help="visitors (SDK trackers)")
    parser.add_argument("--rate", type=float, default=1.0, help="batches a second per visitor")
    parser.add_argument("--dashboards", type=int, default=2, help="open dashboards")
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--run-time", type=int, default=60, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=20)
    args = parser.parse_args()
    if args.users < 1 or args.run_time > 600 or args.users > 2000:
        parser.error("1-2000 users, at most 600 s")

    os.environ.setdefault("PULSE_INGEST_RATE_LIMIT_PER_MINUTE", "1000000")
    work = Path(tempfile.mkdtemp(prefix="pulse-load-"))
    database = os.environ.get("PULSE_LOAD_DATABASE", "pulse_load")
    print(f"starting a local stack (database {database}, data {work}) …", flush=True)
    stack = start_local_stack(work / "local", database=database)
    try:
        projects = []
        for n in range(args.projects):
            p = stack.new_project(f"Load {n}")
            projects.append({"id": p["id"], "api_key": p["api_key"], "token": p["token"]})
        (work / "projects.json").write_text(json.dumps(projects))
        warm_up(stack.http_url, stack.new_project("Warm-up")["api_key"])
        out = work / "locust.json"
        env = {
            **os.environ,
            "PULSE_LOAD_PROJECTS": str(work / "projects.json"),
            "PULSE_LOAD_OUT": str(out),
            "PULSE_LOAD_RATE": str(args.rate),
            "PULSE_LOAD_DASHBOARDS": str(args.dashboards),
            "PULSE_LOAD_DATABASE_URL": stack.database_url,
        }
        print(
            f"locust: {args.users} visitors at {args.rate:g} batch/s each, "
            f"{args.dashboards} dashboards, {args.run_time} s, against {stack.http_url}",
            flush=True,
        )
        cpu_before = cpu_by_kind(stack.process.pid)
        locust_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            [str(LOCUST), "-f", str(ROOT / "locustfile.py"), "--headless", "--only-summary"]
            + ["-u", str(args.users + args.dashboards), "-r", str(args.spawn_rate)]
            + ["--run-time", f"{args.run_time}s", "--stop-timeout", "10", "-H", stack.http_url]
            + ["--exit-code-on-error", "0", "--loglevel", "WARNING"],
            env=env,
            check=True,
            timeout=args.run_time + 120,
        )
        locust_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_after = cpu_by_kind(stack.process.pid)
        data = json.loads(out.read_text())
        seconds = max(1.0, data["stopped"] - data["started"])
        lines, events_per_s = report(data, seconds)
        print("\n".join(lines))
        # Where the CPU went during the run (the machine's own Postgres and Redis not counted).
        requests = max(1, data["stats"].get("Aggregated", {}).get("requests", 0))
        steady, started = cpu_profile.diff(cpu_after, cpu_before)
        used = {k: steady.get(k, 0.0) + started.get(k, 0.0) for k in {*steady, *started}}
        used["locust (the load itself)"] = (locust_after.ru_utime + locust_after.ru_stime) - (
            locust_before.ru_utime + locust_before.ru_stime
        )
        print(
            "CPU during the run: "
            + ", ".join(
                f"{kind} {s:.1f} s ({1000 * s / requests:.1f} ms a request)"
                for kind, s in sorted(used.items(), key=lambda kv: -kv[1])
                if s >= 0.05
            )
        )
        backlog, steady = backlog_verdict(data["samples"], events_per_s)
        print(backlog)

        # The zero-loss check: every accepted event in Postgres, once; nothing never sent.
        accepted = set(data["accepted"])
        project_ids = [p["id"] for p in projects]
        drain_from = time.monotonic()
        wait_until_stored(
            lambda: len(accepted & set(_stored_ids(stack.database_url, project_ids))),
            len(accepted),
            timeout_s=120,
            settle_s=20,
        )
        drained_s = time.monotonic() - drain_from
        rows = _stored_ids(stack.database_url, project_ids)
        stored = set(rows)
        missing = accepted - stored
        doubled = len(rows) - len(stored)
        unknown = stored - accepted - set(data["unanswered"])
        print(f"stream drained {drained_s:.1f} s after the load stopped")
        print(
            f"stored {len(accepted & stored)} of {len(accepted)} accepted events "
            f"(missing {len(missing)}, stored twice {doubled}, never sent {len(unknown)}; "
            f"{len(stored - accepted)} of {len(data['unanswered'])} unanswered were stored)"
        )
        if data["unanswered"]:
            # What the platform said about the refusals (its log's warnings and errors).
            said = [ln for ln in stack.output if "WARNING" in ln or "ERROR" in ln or "error" in ln]
            print("".join(said[-8:]), end="")
        p95 = data["stats"].get("Aggregated", {}).get("p95", 0)
        print(
            f"sustainable: {'yes' if steady and p95 < 500 else 'no'} "
            f"(backlog {'steady' if steady else 'growing'}, p95 {p95:.0f} ms, target < 500 ms)"
        )
        return 0 if not missing and not doubled and not unknown and accepted else 1
    finally:
        stop_local_stack(stack)


if __name__ == "__main__":
    raise SystemExit(main())
