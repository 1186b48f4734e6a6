"""Load on the local ingest endpoint, shaped like the SDK's traffic, plus open dashboards.

Run it with ``make load`` (``scripts/load.py`` starts a local stack on free ports with its own
database, creates the projects, runs Locust headless for a bounded time, then checks Postgres).
Run by hand, it needs ``PULSE_LOAD_PROJECTS`` (a JSON file: ``[{"id", "api_key", "token"}]``)
and writes what it saw to ``PULSE_LOAD_OUT`` (JSON) when Locust quits.

- ``Visitor``: one SDK tracker each, a batch at ``PULSE_LOAD_RATE`` requests/s (default 1): mostly
  1-3 events, some 10, posted as ``text/plain`` with the key in the body (``api_key``), as
  ``sdk/src/tracker.js`` sends them, to one of a few projects. The uuids of every batch answered
  202 are kept, to be found in Postgres afterwards.
- ``Dashboard``: a signed-in owner with the project page open, reading the analytics endpoints
  every few seconds (``PULSE_LOAD_DASHBOARDS`` of them, default 2).
- A sampler reads, every few seconds, how many accepted events Postgres holds: the backlog.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import gevent
from locust import FastHttpUser, between, constant_throughput, events, task
from locust.env import Environment

INGEST = "/api/v1/events/ingest"
# What a person's browser sends: ingest drops the events of HTTP libraries as bots'.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
# The SDK sends a batch when 10 events are queued or 2 s after the first: mostly a page view
# and a click or two, sometimes a full queue.
BATCH_SIZES = (1, 1, 1, 2, 2, 3, 3, 1, 2, 10)
PAGES = ("/", "/pricing", "/docs", "/blog/launch", "/signup", "/checkout")
SAMPLE_EVERY_S = 5.0


def _projects() -> list[dict[str, str]]:
    path = os.environ.get("PULSE_LOAD_PROJECTS")
    if not path:
        return []
    with open(path) as fh:
        projects: list[dict[str, str]] = json.load(fh)
    return projects


PROJECTS = _projects()


class Tally:
    """What the visitors sent and what was accepted (ids), and the backlog samples."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[str] = []
        self.unanswered: list[str] = []  # sent, but no 202 came back (may or may not be stored)
        self.samples: list[dict[str, float]] = []
        self.started = 0.0
        self.stopped = 0.0

    def add(self, ids: list[str], accepted: bool) -> None:
        with self.lock:
            (self.accepted if accepted else self.unanswered).extend(ids)


TALLY = Tally()


def _batch(size: int, visitor: dict[str, str]) -> tuple[list[str], bytes]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    ids = [str(uuid.uuid4()) for _ in range(size)]
    page = random.choice(PAGES)
    batch = [
        {
            "event": "page_view" if n == 0 else random.choice(("click", "scroll", "signup")),
            "properties": {"path": page, "n": n},
            "distinct_id": visitor["distinct_id"],
            "session_id": visitor["session_id"],
            "page_url": f"https://shop.example{page}",
            "referrer": "https://search.example/",
            "timestamp": now,
            "uuid": event_id,
        }
        for n, event_id in enumerate(ids)
    ]
    body = {"api_key": visitor["api_key"], "events": batch, "sent_at": now, "retry": 0}
    return ids, json.dumps(body, separators=(",", ":")).encode()


class Visitor(FastHttpUser):
    weight = 100
    wait_time = constant_throughput(float(os.environ.get("PULSE_LOAD_RATE", "1")))

    def on_start(self) -> None:
        project = random.choice(PROJECTS)
        self.me = {
            "api_key": project["api_key"],
            "distinct_id": f"anon-{uuid.uuid4().hex[:12]}",
            "session_id": str(uuid.uuid4()),
        }
        self.sizes = random.sample(BATCH_SIZES, len(BATCH_SIZES))
        self.sent = 0

    @task
    def send_batch(self) -> None:
        size = self.sizes[self.sent % len(self.sizes)]
        self.sent += 1
        ids, body = _batch(size, self.me)
        with self.client.post(
            INGEST,
            data=body,
            # A visitor's browser: ingest drops the events of HTTP libraries as bots'.
            headers={"Content-Type": "text/plain;charset=UTF-8", "User-Agent": BROWSER_USER_AGENT},
            name=f"ingest ({'10' if size == 10 else '1-3'} events)",
            catch_response=True,
        ) as response:
            if response.status_code == 202:
                TALLY.add(ids, accepted=True)
                response.success()
            else:
                TALLY.add(ids, accepted=False)
                response.failure(f"status {response.status_code}")


class Dashboard(FastHttpUser):
    fixed_count = int(os.environ.get("PULSE_LOAD_DASHBOARDS", "2"))
    wait_time = between(2, 4)

    def on_start(self) -> None:
        project = random.choice(PROJECTS)
        self.base = f"/api/v1/analytics/{project['id']}"
        self.auth = {"Authorization": f"Bearer {project['token']}"}

    def _get(self, path: str, name: str) -> None:
        self.client.get(self.base + path, headers=self.auth, name=name)

    @task(3)
    def overview(self) -> None:
        self._get("/overview?range=24h", "analytics overview")
        self._get("/timeseries?range=24h", "analytics timeseries")
        self._get("/top-events?range=24h", "analytics top-events")

    @task(1)
    def feed(self) -> None:
        self._get("/events?limit=50", "analytics events")
        self._get("/pages?range=24h", "analytics pages")


def _stored(database_url: str, project_ids: list[str]) -> int:
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*) FROM events WHERE project_id = ANY(%s::uuid[])", (project_ids,)
        ).fetchone()
    return int(row[0]) if row else 0


def _sample(database_url: str) -> None:
    project_ids = [p["id"] for p in PROJECTS]
    while True:
        gevent.sleep(SAMPLE_EVERY_S)
        with TALLY.lock:
            accepted = len(TALLY.accepted)
        try:
            stored = _stored(database_url, project_ids)
        except Exception:
            continue
        TALLY.samples.append(
            {"t": round(time.time() - TALLY.started, 1), "accepted": accepted, "stored": stored}
        )


@events.test_start.add_listener
def _started(environment: Environment, **_: Any) -> None:
    TALLY.started = time.time()
    database_url = os.environ.get("PULSE_LOAD_DATABASE_URL")
    if database_url:
        gevent.spawn(_sample, database_url)


@events.test_stop.add_listener
def _stopped(environment: Environment, **_: Any) -> None:
    TALLY.stopped = time.time()


@events.quitting.add_listener
def _write(environment: Environment, **_: Any) -> None:
    out = os.environ.get("PULSE_LOAD_OUT")
    if not out:
        return
    stats: dict[str, Any] = {}
    for entry in [*environment.stats.entries.values(), environment.stats.total]:
        stats[entry.name] = {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "rps": entry.total_rps,
            "p50": entry.get_response_time_percentile(0.50),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
        }
    errors = {
        f"{e.method} {e.name}: {e.error}": e.occurrences for e in environment.stats.errors.values()
    }
    with open(out, "w") as fh:
        json.dump(
            {
                "started": TALLY.started,
                "stopped": TALLY.stopped or time.time(),
                "accepted": TALLY.accepted,
                "unanswered": TALLY.unanswered,
                "samples": TALLY.samples,
                "stats": stats,
                "errors": errors,
            },
            fh,
        )
