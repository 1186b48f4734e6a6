"""Sustained events/s from HTTP to rows in Postgres, through the local stack as `make up` runs it.

    .venv/bin/python scripts/bench/e2e_ingest.py [--seconds 20] [--clients 8] [--batch 10]
        [--cpu-profile] [--analytics-clients 2] [--live] [--database NAME] [--code DIR]

Starts the local runtime on free ports with its own database (``--database``, or
``PULSE_BENCH_E2E_DATABASE``, default ``pulse_bench_e2e``), warms the ingest environments, then
several client threads post batches of ``--batch`` events for the given time; the figure is
events / (time from the first request to the moment the last row is in Postgres). Then it prints
``stored N of M accepted`` (the rows of the bench's project, once the stream has drained) and
exits non-zero when they differ.

- ``--cpu-profile``: the CPU time each component of the stack used from the first request until
  the stream drained, per request and per event (``scripts/bench/cpu_profile.py``), with a Redis
  server of the benchmark's own so that Redis's CPU is the stack's alone.
- ``--analytics-clients N``: N more threads read the dashboard's reports (overview, timeseries,
  top events) of the loaded project through the gateway during the load: p50/p95.
- ``--live``: a dashboard connected over the WebSocket API to another project, into which one
  event a request is ingested every 100 ms during the load: ingest request -> pushed message
  p50/p95 (as ``live_latency.py`` measures it, but under the load).
- ``--code DIR``: run the stack from another checkout (its ``functions`` and ``localstack``
  first on ``PYTHONPATH``), for before/after comparisons under the same client.
- ``--json-out FILE``: append the figures as one JSON line (for interleaved A/B runs).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from scripts.bench import cpu_profile  # noqa: E402
from scripts.seed_events import stored_report, wait_until_stored  # noqa: E402
from tests.apigw import BROWSER_USER_AGENT  # noqa: E402
from tests.e2e.conftest import LocalStack, start_local_stack, stop_local_stack  # noqa: E402
from tests.ports import free_port  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def batch_body(n: int, session: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "sent_at": now,
        "events": [
            {
                "event": "page_view",
                "uuid": str(uuid.uuid4()),
                "session_id": session,
                "properties": {"path": "/x"},
                "timestamp": now,
            }
            for _ in range(n)
        ],
    }


def start_private_redis() -> tuple[subprocess.Popen[bytes], str] | None:
    """A throwaway redis-server on a free port (no persistence), or None without one."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    for _ in range(3):
        # Below the ephemeral range: a port picked by binding 0 could be taken by any outgoing
        # connection before redis-server binds it (tests/ports.py).
        port = free_port()
        process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
            + ["--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return process, f"redis://127.0.0.1:{port}/0"
            except OSError:
                time.sleep(0.05)
        process.kill()  # it exited (another program took the port in between) or never answered
        process.wait()
    raise RuntimeError("redis-server did not start on any of three free ports")


def warm_up(stack: LocalStack, clients: int, environments: int) -> None:
    """Bring the ingest environments up (cold starts cost CPU and seconds) on a project of its
    own, so that the measured project holds only the measured events: concurrent requests until
    ``environments`` of them run (they start one at a time, 60 s at most), then a few rounds
    more, so that each has served requests."""
    key = stack.new_project("warm")["api_key"]

    def post(_: int) -> None:
        with httpx.Client(base_url=stack.http_url, timeout=60) as c:
            for _ in range(3):
                c.post(
                    "/api/v1/events/ingest",
                    json=batch_body(1, "w"),
                    headers={"X-API-Key": key, "User-Agent": BROWSER_USER_AGENT},
                )

    def running() -> int:
        return sum(
            1
            for kind, _ in cpu_profile.snapshot(stack.process.pid)
            if kind.startswith("ingest function")
        )

    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post, range(clients)))
        while running() < environments and time.monotonic() < deadline:
            list(pool.map(post, range(clients)))
        # Then every environment serves requests (boto3, redis and psycopg load on the first).
        for _ in range(4):
            list(pool.map(post, range(clients)))


class AnalyticsReader:
    """Threads that read the dashboard's reports of a project until stopped."""

    PATHS = ("overview", "timeseries", "top-events")

    def __init__(self, stack: LocalStack, project: dict[str, Any], clients: int) -> None:
        self.stack, self.project, self.clients = stack, project, clients
        self.latencies: dict[str, list[float]] = {p: [] for p in self.PATHS}
        self.errors = 0
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(clients)]

    def _run(self, i: int) -> None:
        headers = {"Authorization": f"Bearer {self.project['token']}"}
        with httpx.Client(base_url=self.stack.http_url, timeout=30, headers=headers) as c:
            n = i
            while not self.stop.is_set():
                path = self.PATHS[n % len(self.PATHS)]
                n += 1
                started = time.monotonic()
                r = c.get(f"/api/v1/analytics/{self.project['id']}/{path}", params={"range": "24h"})
                if r.status_code == 200:
                    self.latencies[path].append((time.monotonic() - started) * 1000)
                else:
                    self.errors += 1

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def finish(self) -> list[str]:
        self.stop.set()
        for t in self.threads:
            t.join()
        every = [v for values in self.latencies.values() for v in values]
        lines = [f"Analytics during the load ({self.clients} readers, range 24h):"]
        for path, values in self.latencies.items():
            if values:
                lines.append(
                    f"  {path:<11} n={len(values):<5} p50 {percentile(values, 50):.0f} ms  "
                    f"p95 {percentile(values, 95):.0f} ms  max {max(values):.0f} ms"
                )
        if every:
            lines.append(
                f"  all         n={len(every):<5} p50 {percentile(every, 50):.0f} ms  "
                f"p95 {percentile(every, 95):.0f} ms; {self.errors} errors"
            )
        return lines


class LiveProbe:
    """A dashboard on the WebSocket API of its own project; one event ingested every
    ``interval_s``, each timed from before its ingest request to its pushed message."""

    def __init__(self, stack: LocalStack, interval_s: float = 0.1) -> None:
        self.stack, self.interval_s = stack, interval_s
        self.project = stack.new_project("live")
        self.sent: dict[str, float] = {}
        self.received: dict[str, float] = {}
        self.failed = 0
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ready = threading.Event()

    def _read(self) -> None:
        from websockets.sync.client import connect

        url = f"{self.stack.ws_url}/?project_id={self.project['id']}&token={self.project['token']}"
        with connect(url, open_timeout=30) as ws:
            self._ready.set()
            until = None
            while until is None or time.monotonic() < until:
                if self.stop.is_set() and until is None:
                    until = time.monotonic() + 10  # what is in flight still arrives
                if until is not None and len(self.received) >= len(self.sent):
                    return
                try:
                    message = json.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                at = time.monotonic()
                if message.get("type") == "events":
                    for event in message["events"]:
                        self.received.setdefault(event["uuid"], at)

    def _post(self) -> None:
        key = self.project["api_key"]
        with httpx.Client(base_url=self.stack.http_url, timeout=30) as c:
            next_at = time.monotonic()
            while not self.stop.is_set():
                body = batch_body(1, "live")
                event_id = body["events"][0]["uuid"]
                self.sent[event_id] = time.monotonic()
                r = c.post(
                    "/api/v1/events/ingest",
                    json=body,
                    headers={"X-API-Key": key, "User-Agent": BROWSER_USER_AGENT},
                )
                if r.status_code != 202:
                    self.sent.pop(event_id)
                    self.failed += 1
                next_at += self.interval_s
                time.sleep(max(0.0, next_at - time.monotonic()))

    def start(self) -> None:
        reader = threading.Thread(target=self._read, daemon=True)
        reader.start()
        if not self._ready.wait(30):
            raise RuntimeError("the live probe could not connect")
        self._threads = [reader, threading.Thread(target=self._post, daemon=True)]
        self._threads[1].start()

    def finish(self) -> list[str]:
        self.stop.set()
        self._threads[1].join()
        self._threads[0].join(15)
        lat = [(self.received[u] - t) * 1000 for u, t in self.sent.items() if u in self.received]
        lines = [
            f"Live feed during the load (1 event every {self.interval_s * 1000:.0f} ms): "
            f"delivered {len(lat)} of {len(self.sent)}, {self.failed} failed requests"
        ]
        if lat:
            lines.append(
                f"  ingest request -> pushed message: p50 {percentile(lat, 50):.0f} ms  "
                f"p95 {percentile(lat, 95):.0f} ms  p99 {percentile(lat, 99):.0f} ms  "
                f"max {max(lat):.0f} ms"
            )
        return lines

    def p95(self) -> float | None:
        lat = [(self.received[u] - t) * 1000 for u, t in self.sent.items() if u in self.received]
        return percentile(lat, 95) if lat else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=10, help="events a request (1-100)")
    parser.add_argument(
        "--database", default=os.environ.get("PULSE_BENCH_E2E_DATABASE", "pulse_bench_e2e")
    )
    parser.add_argument("--cpu-profile", action="store_true")
    parser.add_argument(
        "--environments",
        type=int,
        default=int(os.environ.get("LOCAL_FUNCTION_CONCURRENCY", "4")),
        help="ingest environments to warm before the clock starts (0 with --code of an "
        "in-process runtime)",
    )
    parser.add_argument(
        "--rate", type=float, default=0, help="requests/s in all (0: as fast as answered)"
    )
    parser.add_argument("--analytics-clients", type=int, default=0)
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--code", type=Path, help="run the stack from this checkout")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument(
        "--idle", type=float, default=0, help="first measure the idle stack's CPU this long"
    )
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    # One project takes all the load here; its per-key limit (6,000 requests a minute) would
    # otherwise be what is measured.
    os.environ.setdefault("PULSE_INGEST_RATE_LIMIT_PER_MINUTE", "1000000")
    extra_env: dict[str, str] = {}
    if args.code:
        code = args.code.resolve()
        extra_env["PYTHONPATH"] = f"{code / 'functions'}:{code / 'localstack'}"
    redis = start_private_redis() if args.cpu_profile else None
    kwargs: dict[str, Any] = {"redis_url": redis[1]} if redis else {}
    load_before = os.getloadavg()
    stack = start_local_stack(
        Path(tempfile.mkdtemp()), database=args.database, extra_env=extra_env, **kwargs
    )
    status = 1
    try:
        warm_up(stack, args.clients, args.environments)
        project = stack.new_project("bench")
        live = LiveProbe(stack) if args.live else None
        readers = (
            AnalyticsReader(stack, project, args.analytics_clients)
            if args.analytics_clients
            else None
        )
        sent = [0] * args.clients
        requests = [0] * args.clients
        errors = [0] * args.clients
        db_name = args.database
        if args.idle:
            # What the stack costs doing nothing (pollers, timers): CPU ms a second.
            idle_before = cpu_profile.snapshot(
                stack.process.pid, redis_pid=redis[0].pid if redis else None
            )
            time.sleep(args.idle)
            idle_used, _ = cpu_profile.diff(
                cpu_profile.snapshot(stack.process.pid, redis_pid=redis[0].pid if redis else None),
                idle_before,
            )
            print(
                f"idle for {args.idle:g} s: {sum(idle_used.values()) * 1000 / args.idle:.0f} ms "
                "of CPU a second ("
                + ", ".join(
                    f"{k} {v * 1000 / args.idle:.0f}"
                    for k, v in sorted(idle_used.items(), key=lambda kv: -kv[1])
                    if v * 1000 / args.idle >= 1
                )
                + ")"
            )
        monitor = psycopg.connect(stack.database_url, autocommit=True)
        pg_before = cpu_profile.per_pid(cpu_profile.postgres_backends(monitor, db_name))
        cpu_before = cpu_profile.snapshot(
            stack.process.pid, redis_pid=redis[0].pid if redis else None
        )
        self_before = resource.getrusage(resource.RUSAGE_SELF)
        machine_before = cpu_profile.machine_busy()
        stop_at = time.monotonic() + args.seconds

        host, port = stack.http_url.removeprefix("http://").split(":")
        headers = {
            "X-API-Key": project["api_key"],
            "Content-Type": "application/json",
            # a browser's, as the tracker's requests carry one (ingest drops HTTP libraries as
            # bots)
            "User-Agent": BROWSER_USER_AGENT,
        }

        # With --rate, each client paces itself (open loop): the CPU a request is then compared
        # at the same request rate, whatever else the machine runs.
        interval = args.clients / args.rate if args.rate else 0.0

        def client(i: int) -> None:
            # http.client on a kept-alive connection: about a third of httpx's CPU a request,
            # which the stack would otherwise share its two cores with.
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            n = 0
            next_at = time.monotonic()
            while time.monotonic() < stop_at:
                if interval:
                    next_at += interval
                    time.sleep(max(0.0, next_at - time.monotonic()))
                body = json.dumps(batch_body(args.batch, f"s{i}-{n % 50}")).encode()
                try:
                    conn.request("POST", "/api/v1/events/ingest", body, headers)
                    r = conn.getresponse()
                    answer = r.read()
                except OSError:
                    conn.close()
                    errors[i] += 1
                    continue
                if r.status == 202:
                    sent[i] += int(json.loads(answer)["accepted"])
                    requests[i] += 1
                else:
                    errors[i] += 1
                n += 1
            conn.close()

        started = time.monotonic()
        if live:
            live.start()
        if readers:
            readers.start()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        posted_at = time.monotonic()
        extra_lines: list[str] = []
        if readers:
            extra_lines += readers.finish()
        if live:
            extra_lines += live.finish()
        total = sum(sent)

        def stored() -> int:
            row = monitor.execute(
                "SELECT count(*) FROM events WHERE project_id = %s", (project["id"],)
            ).fetchone()
            return int(row[0]) if row else 0

        # Until every accepted event is in, or the count has stopped growing for 15 s.
        n = wait_until_stored(stored, total, poll_s=0.1)
        done = time.monotonic()
        cpu_after = cpu_profile.snapshot(
            stack.process.pid, redis_pid=redis[0].pid if redis else None
        )
        pg_after = cpu_profile.per_pid(cpu_profile.postgres_backends(monitor, db_name))
        self_after = resource.getrusage(resource.RUSAGE_SELF)
        machine_after = cpu_profile.machine_busy()
        monitor.close()
        served = sum(requests)
        print(
            f"{args.clients} clients for {args.seconds:.0f} s: {total:,} events accepted "
            f"in {served:,} requests, {sum(errors)} failed requests, {n:,} rows in Postgres"
        )
        accept_s = posted_at - started
        print(
            f"HTTP accept rate:            {total / accept_s:,.0f} events/s, "
            f"{served / accept_s:,.0f} requests/s of {args.batch} events"
        )
        print(
            f"HTTP -> Postgres sustained:  {n / (done - started):,.0f} events/s "
            f"(stream drained {done - posted_at:.1f} s after the last request)"
        )
        for line in extra_lines:
            print(line)
        used, cold = cpu_profile.diff(cpu_after, cpu_before)
        used["Postgres (the stack's backends)"] = cpu_profile.used_by(pg_after, pg_before)
        client_cpu = (self_after.ru_utime + self_after.ru_stime) - (
            self_before.ru_utime + self_before.ru_stime
        )
        busy = machine_after[0] - machine_before[0]
        wall = machine_after[1] - machine_before[1]
        ours = sum(v for v in used.values() if v > 0) + client_cpu
        load_after = os.getloadavg()
        machine_line = (
            f"machine: {busy / wall:.0%} of its {os.cpu_count()} cores busy during the run, "
            f"this run's processes (stack and clients) {ours / wall:.0%}; load average "
            f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
        )
        if args.cpu_profile:
            print(
                f"\nCPU by component, from the first request until the stream drained "
                f"({done - started:.1f} s; {served:,} requests, {total:,} events):"
            )
            for line in cpu_profile.table(used, served, total):
                print(line)
            if cold:
                print(
                    "(not in the table: processes started during the run, cold starts included: "
                    + ", ".join(f"{k} {v:.2f} s" for k, v in cold.items())
                    + ")"
                )
            print(
                f"(the benchmark's own clients: {client_cpu * 1000 / max(served, 1):.3f} ms a "
                f"request{'' if redis else '; Redis not measured: no redis-server here'})"
            )
        print(machine_line)
        line, status = stored_report(n, total)
        print(line)
        if args.json_out:
            with args.json_out.open("a") as fh:
                fh.write(
                    json.dumps(
                        {
                            "label": args.label,
                            "batch": args.batch,
                            "clients": args.clients,
                            "rate": args.rate,
                            "requests_per_s": served / accept_s,
                            "events_per_s": n / (done - started),
                            "accepted": total,
                            "stored": n,
                            "cpu_ms_per_request": {
                                k: v * 1000 / max(served, 1) for k, v in used.items()
                            },
                            "client_cpu_ms_per_request": client_cpu * 1000 / max(served, 1),
                            "machine_busy": busy / wall,
                            "ours": ours / wall,
                            "load": [load_before[0], load_after[0]],
                            "analytics_p95": (
                                percentile([v for vs in readers.latencies.values() for v in vs], 95)
                                if readers and any(readers.latencies.values())
                                else None
                            ),
                            "live_p95": live.p95() if live else None,
                            "at": datetime.now(UTC).isoformat(),
                        }
                    )
                    + "\n"
                )
    finally:
        stop_local_stack(stack)
        if redis:
            redis[0].terminate()
            redis[0].wait(10)
    return status


if __name__ == "__main__":
    sys.exit(main())
