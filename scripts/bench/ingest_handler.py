"""Ingest handler throughput per core (in-process, 10-event requests) and its cold start.

    .venv/bin/python scripts/bench/ingest_handler.py [--requests 3000] [--agents 500]

Each request comes from a public IPv4 address of its own and carries one of ``--agents``
distinct browser User-Agents (the seed's browsers, each in several versions; 0: every request
a User-Agent never seen before, the worst case for the parser's and bot list's caches).

The handler runs in this process against a real Redis and Postgres and a moto Kinesis server
in a separate process (``python -m localcloud aws``, keep-alive like the real endpoints);
events per second *per core* is events / CPU seconds of this process
(so the emulator's and Redis's own CPU is not counted). Cold start: median of
``python -X importtime -c "import pulse.handlers.ingest"`` over 7 runs, and the first request of
a fresh process (imports of boto3, redis and psycopg happen on that first use).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from scripts.bench.common import cleanup_redis, configure_environment, fresh_database, median

configure_environment()


def start_aws_emulator() -> tuple[subprocess.Popen[str], str]:
    """``localcloud aws`` on a port it binds itself (0: any free one); returns it and its URL,
    from the line it prints once it listens."""
    moto = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "aws"],
        env={**os.environ, "LOCAL_AWS_PORT": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert moto.stdout is not None
    for line in moto.stdout:
        if line.startswith("AWS emulator on "):
            return moto, line.split()[-1]
    moto.kill()
    raise RuntimeError("the AWS emulator did not start")


def import_time_ms(runs: int = 7) -> float:
    values = []
    for _ in range(runs):
        out = (
            subprocess.run(
                [sys.executable, "-X", "importtime", "-c", "import pulse.handlers.ingest"],
                capture_output=True,
                text=True,
                check=True,
            )
            .stderr.strip()
            .splitlines()[-1]
        )
        values.append(int(re.split(r"\s*\|\s*", out)[1]) / 1000)
    return median(values)


FIRST_REQUEST = """
import json, sys, time
t0 = time.perf_counter()
from pulse.handlers.ingest import handler
t1 = time.perf_counter()
sys.path.insert(0, {root!r})
from tests.apigw import LambdaContextStub, http_event
event = http_event("POST", "/api/v1/events/ingest", body={body!r}, headers={{"x-api-key": {key!r}}})
res = handler(event, LambdaContextStub())
t2 = time.perf_counter()
assert res["statusCode"] == 202, res
print(json.dumps({{"import_ms": (t1 - t0) * 1000, "first_request_ms": (t2 - t1) * 1000}}))
"""


def user_agent(i: int, agents: int) -> str:
    """One of ``agents`` distinct browser User-Agents (a new one per request when 0)."""
    from scripts.seed_events import DEVICES

    variant = i if agents == 0 else i % agents
    base = DEVICES[variant % len(DEVICES)].user_agent
    version = variant // len(DEVICES)
    base = re.sub(r"\b13[13]\.0", f"{100 + version}.0", base)
    return re.sub(r"18([._])1", lambda m: f"{10 + version}{m[1]}1", base)


def source_ip(i: int) -> str:
    """A public IPv4 address (never 0/8, 10/8, 127/8, multicast or reserved)."""
    first = 1 + (i * 37) % 223
    while first in (10, 100, 127, 169, 172, 192, 198, 203):
        first += 1
    return f"{first}.{(i * 7) % 256}.{(i * 13) % 256}.{1 + i % 254}"


def request_body(i: int) -> dict:
    now = datetime.now(UTC).isoformat()
    return {
        "sent_at": now,
        "events": [
            {
                "event": "page_view" if j % 3 else "click",
                "uuid": str(uuid.uuid4()),
                "session_id": f"sess_{i % 500}",
                "distinct_id": f"user_{i % 97}",
                "page_url": "https://example.com/pricing",
                "referrer": "https://google.com",
                "properties": {"path": "/pricing", "title": "Pricing", "screen": "1920x1080"},
                "timestamp": now,
            }
            for j in range(10)
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--agents", type=int, default=500)
    args = parser.parse_args()
    fresh_database()
    moto, endpoint = start_aws_emulator()
    try:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        import boto3

        deadline = time.monotonic() + 15
        while True:
            try:
                boto3.client("kinesis").create_stream(StreamName="pulse-events", ShardCount=2)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        from pulse.data.projects import insert_project
        from pulse.data.users import insert_user
        from pulse.domain.projects import new_api_key

        user = insert_user(email=f"b{uuid.uuid4().hex[:6]}@x.io", password_hash="x")
        key = new_api_key()
        insert_project(owner_id=user.id, name="bench", domain=None, api_key=key)

        cold = json.loads(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    FIRST_REQUEST.format(root=str(ROOT), body=request_body(0), key=key),
                ],
                capture_output=True,
                text=True,
                check=True,
                env=os.environ,
            )
            .stdout.strip()
            .splitlines()[-1]  # after what the handler logs to stdout
        )

        from pulse.handlers.ingest import handler
        from tests.apigw import LambdaContextStub, http_event

        events = [
            http_event(
                "POST",
                "/api/v1/events/ingest",
                body=request_body(i),
                headers={"x-api-key": key, "user-agent": user_agent(i, args.agents)},
                source_ip=source_ip(i),
            )
            for i in range(args.requests)
        ]
        ctx = LambdaContextStub()
        for ev in events[:50]:
            handler(ev, ctx)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for ev in events[50:]:
            res = handler(ev, ctx)
            assert res["statusCode"] == 202, res
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        n_events = (len(events) - 50) * 10
        agents = "a new one each" if args.agents == 0 else f"{args.agents} distinct"
        print(f"{len(events) - 50} requests of 10 events, User-Agents: {agents}")
        print(f"events per CPU-second (per core): {n_events / cpu:,.0f}  (target >= 5,000)")
        print(f"events per wall-second, one thread: {n_events / wall:,.0f}")
        print(f"handler CPU per request: {cpu / (len(events) - 50) * 1000:.2f} ms")
        print(
            f"import time (python -X importtime, median of 7): {import_time_ms():.0f} ms "
            "(target <= 150)"
        )
        print(
            f"fresh process: import {cold['import_ms']:.0f} ms, first request "
            f"{cold['first_request_ms']:.0f} ms (boto3, redis, psycopg load on first use)"
        )
    finally:
        moto.terminate()
        cleanup_redis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
