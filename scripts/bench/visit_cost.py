"""The CPU that working out a visit adds to an ingest request (``pulse.ingest.visit``).

    .venv/bin/python scripts/bench/visit_cost.py [--agents 2000]

Per request: the User-Agent's browser, OS, device type and bot verdict (cached per environment,
so measured both for a User-Agent seen before and for one never seen), and the country of the
address. Also the one-time cost in a fresh process: building the resolver and the crawler list.
Figures are CPU time of this process (``time.process_time``), medians of 5 runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pulse.ingest import visit
from scripts.bench.ingest_handler import source_ip, user_agent

FIRST_USE = """
import json, time
t0 = time.perf_counter()
from pulse.ingest import visit
t1 = time.perf_counter()
visit.warm()
t2 = time.perf_counter()
visit.country("5.9.0.1")
t3 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "warm_ms": (t2 - t1) * 1e3,
                  "country_ms": (t3 - t2) * 1e3}))
"""


def per_call_us(fn, items: list[str]) -> float:
    runs = []
    for _ in range(5):
        t0 = time.process_time()
        for item in items:
            fn(item)
        runs.append((time.process_time() - t0) / len(items) * 1e6)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=2000)
    args = parser.parse_args()
    agents = [user_agent(i, 0) for i in range(args.agents)]
    ips = [source_ip(i) for i in range(args.agents)]
    visit.warm()

    def uncached(ua: str) -> None:
        visit.of_user_agent.cache_clear()
        visit.of_user_agent(ua)

    new_ua = per_call_us(uncached, agents)
    for ua in agents[: visit.USER_AGENT_CACHE]:
        visit.of_user_agent(ua)
    seen_ua = per_call_us(visit.of_user_agent, agents[: visit.USER_AGENT_CACHE])
    country = per_call_us(visit.country, ips)
    first = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", FIRST_USE], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    print(f"User-Agent seen before (cached): {seen_ua:.1f} µs a request")
    print(
        f"User-Agent never seen (ua-parser-rs + crawlerdetect, both caches cold): "
        f"{new_ua:.0f} µs a request"
    )
    print(f"country of the address (iptocc): {country:.2f} µs a request")
    print(
        "fresh process, median of 5: import {:.0f} ms, building the resolver and the crawler "
        "list {:.0f} ms, first country {:.1f} ms".format(
            *(
                statistics.median(r[k] for r in first)
                for k in ("import_ms", "warm_ms", "country_ms")
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
