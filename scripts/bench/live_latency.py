"""Real-time latency and fan-out through the local stack, as `make up` runs it.

    .venv/bin/python scripts/bench/live_latency.py [--events 1000] [--rate 50] [--connections 500]

Starts the local runtime on free ports with its own database (like tests/e2e), then:

1. Latency: one dashboard connected over the WebSocket API; ``--events`` events are ingested one
   per request at ``--rate`` requests/s; for each, the time from just before its ingest request
   to the moment its ``events`` message is read at the client. p50/p95/p99/max.
2. Fan-out: ``--connections`` dashboards connected to one project; ``--rounds`` batches of 10
   events are ingested; for each, the time from the ingest request until the last of the
   connections has the batch, and the rate (connections served per second of fan-out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from websockets.asyncio.client import connect as aconnect  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from tests.apigw import BROWSER_USER_AGENT  # noqa: E402
from tests.e2e.conftest import LocalStack, start_local_stack, stop_local_stack  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


def account(stack: LocalStack) -> tuple[str, dict[str, Any]]:
    project = stack.new_project("live")
    return project.pop("token"), project


def ingest_body(uuids: list[str]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "sent_at": now,
        "events": [
            {"event": "page_view", "uuid": u, "timestamp": now, "properties": {"path": "/x"}}
            for u in uuids
        ],
    }


def latency(stack: LocalStack, token: str, project: dict[str, Any], n: int, rate: float) -> None:
    url = f"{stack.ws_url}/?project_id={project['id']}&token={token}"
    sent: dict[str, float] = {}
    received: dict[str, float] = {}
    done = threading.Event()
    with connect(url, open_timeout=10) as ws:

        def reader() -> None:
            while len(received) < n and not done.is_set():
                try:
                    message = json.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                at = time.monotonic()
                if message.get("type") == "events":
                    for event in message["events"]:
                        received.setdefault(event["uuid"], at)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        interval = 1.0 / rate
        with httpx.Client(
            base_url=stack.http_url, timeout=10, headers={"user-agent": BROWSER_USER_AGENT}
        ) as client:
            next_at = time.monotonic()
            for _ in range(n):
                event_id = str(uuid.uuid4())
                sent[event_id] = time.monotonic()
                res = client.post(
                    "/api/v1/events/ingest",
                    json=ingest_body([event_id]),
                    headers={"X-API-Key": project["api_key"]},
                )
                assert res.status_code == 202, res.text
                next_at += interval
                time.sleep(max(0.0, next_at - time.monotonic()))
        deadline = time.monotonic() + 10
        while len(received) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        done.set()
        thread.join(2)
    latencies = [(received[u] - sent[u]) * 1000 for u in sent if u in received]
    print(f"Latency, ingest request -> message at the client ({n} events at {rate:.0f}/s):")
    print(f"  delivered {len(latencies)}/{n}")
    if latencies:
        print(
            f"  p50 {percentile(latencies, 50):.0f} ms   p95 {percentile(latencies, 95):.0f} ms   "
            f"p99 {percentile(latencies, 99):.0f} ms   max {max(latencies):.0f} ms   "
            f"mean {statistics.mean(latencies):.0f} ms"
        )


async def fan_out(
    stack: LocalStack, token: str, project: dict[str, Any], connections: int, rounds: int
) -> None:
    url = f"{stack.ws_url}/?project_id={project['id']}&token={token}"
    opened = time.monotonic()
    sockets = []
    for start in range(0, connections, 50):  # open in waves of 50 ($connect checks the DB)
        sockets += await asyncio.gather(
            *(aconnect(url, open_timeout=30) for _ in range(min(50, connections - start)))
        )
    print(
        f"Fan-out to {connections} connections (opened in {time.monotonic() - opened:.1f} s), "
        f"{rounds} batches of 10 events:"
    )
    spans: list[float] = []
    missed = 0
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=10) as client:
        for _ in range(rounds):
            uuids = {str(uuid.uuid4()) for _ in range(10)}

            async def wait_for_batch(ws: Any, uuids: set[str] = uuids) -> float | None:
                missing = set(uuids)
                try:
                    while missing:
                        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
                        if message.get("type") == "events":
                            missing -= {e["uuid"] for e in message["events"]}
                except TimeoutError:
                    return None
                return time.monotonic()

            waiters = [asyncio.create_task(wait_for_batch(ws)) for ws in sockets]
            started = time.monotonic()
            res = await client.post(
                "/api/v1/events/ingest",
                json=ingest_body(sorted(uuids)),
                headers={"X-API-Key": project["api_key"]},
            )
            assert res.status_code == 202, res.text
            arrivals = await asyncio.gather(*waiters)
            got = [a for a in arrivals if a is not None]
            missed += len(arrivals) - len(got)
            if got:
                spans.append(max(got) - started)
            await asyncio.sleep(0.3)
    for ws in sockets:
        await ws.close()
    if spans:
        median = statistics.median(spans)
        print(
            f"  ingest -> all {connections} clients: median {median * 1000:.0f} ms, "
            f"max {max(spans) * 1000:.0f} ms; missed deliveries {missed}"
        )
        print(f"  fan-out rate: {connections / median:,.0f} connections/s (end to end)")


def processor_side(stack: LocalStack, connections: int) -> None:
    reports = []
    for line in stack.output:
        if "live fan-out" in line:
            try:
                reports.append(json.loads(line))
            except ValueError:
                continue
    big = [r for r in reports if r.get("connections") == connections]
    if not big:
        return
    elapsed = statistics.median(r["elapsed_ms"] for r in big)
    rate = statistics.median(r["messages"] / r["elapsed_ms"] * 1000 for r in big)
    incomplete = sum(1 for r in big if r.get("skipped") or r.get("failed"))
    print(
        f"  processor side: fan-out to {connections} connections takes {elapsed:.0f} ms "
        f"(median), {rate:,.0f} post_to_connection/s; {incomplete} incomplete"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50, help="ingest requests per second")
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    # The processor logs each fan-out's report at INFO: the processor-side figures below.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"
    stack = start_local_stack(Path(tempfile.mkdtemp()), database="pulse_bench_live")
    try:
        token, project = account(stack)
        if args.events:
            latency(stack, token, project, args.events, args.rate)
        if args.connections:
            asyncio.run(fan_out(stack, token, project, args.connections, args.rounds))
            processor_side(stack, args.connections)
    finally:
        stop_local_stack(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
