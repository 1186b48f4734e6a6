"""scripts/seed_events.py against the running local stack: every generated event lands in
Postgres once, with its user agent, and the script says so (``stored N of M accepted``); running
it again with the same seed adds nothing."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pulse.ingest import visit
from scripts.seed_events import NETWORKS, generate_traffic, iso
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 500


@pytest.fixture(scope="module")
def project(local_stack: LocalStack) -> dict[str, Any]:
    return local_stack.new_project("Seed")


def _seed(stack: LocalStack, api_key: str, now: datetime) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "scripts/seed_events.py",
            "--events",
            str(EVENTS),
            "--seed",
            "11",
            "--now",
            iso(now),
            "--api-key",
            api_key,
            "--url",
            f"{stack.http_url}/api/v1/events/ingest",
            "--concurrency",
            "4",
            "--database-url",
            stack.database_url,
            # as make seed does with make up's .local/edge-secret.txt: each visitor's address
            *(
                ["--edge-secret-file", str(stack.data_dir / "edge-secret.txt")]
                if stack.data_dir
                else []
            ),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _rows(stack: LocalStack, project_id: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.database_url) as conn:
        return conn.execute(
            "SELECT id::text, event, distinct_id, session_id, browser, ip_hash, timestamp,"
            " user_agent, country"
            " FROM events WHERE project_id = %s AND event <> 'seed_sentinel'",
            (project_id,),
        ).fetchall()


def _wait_for(stack: LocalStack, project_id: str, n: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while len(_rows(stack, project_id)) < n:
        assert time.monotonic() < deadline, f"fewer than {n} rows after {timeout} s"
        time.sleep(0.1)


def _sentinel(stack: LocalStack, api_key: str, project_id: str) -> None:
    """Send one more event and wait for it: the local stream has one shard, read in order, so
    everything sent before it has been processed by then."""
    now = iso(datetime.now(UTC))
    with stack.client() as client:
        res = client.post(
            "/api/v1/events/ingest",
            json={"api_key": api_key, "sent_at": now, "events": [{"event": "seed_sentinel"}]},
        )
        assert res.status_code == 202, res.text
    deadline = time.monotonic() + 20
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        while not conn.execute(
            "SELECT 1 FROM events WHERE project_id = %s AND event = 'seed_sentinel'"
            " AND received_at > now() - interval '1 minute'",
            (project_id,),
        ).fetchone():
            assert time.monotonic() < deadline, "the sentinel did not arrive"
            time.sleep(0.1)


def test_seed_script_sends_every_event_once(local_stack: LocalStack, project: dict) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    run = _seed(local_stack, project["api_key"], now)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{EVENTS:,} sent, {EVENTS:,} accepted, 0 rejected, 0 not delivered" in run.stdout
    assert "100.0%" in run.stderr  # the progress, on stderr
    # it waited for the stream to drain: every accepted event is in Postgres
    assert f"stored {EVENTS} of {EVENTS} accepted" in run.stdout.splitlines()

    _wait_for(local_stack, project["id"], EVENTS)
    rows = _rows(local_stack, project["id"])
    expected = generate_traffic(EVENTS, days=7, now=now, seed=11)
    assert sorted(r[0] for r in rows) == sorted(e.payload["uuid"] for e in expected.events)
    agents = {e.payload["uuid"]: e.user_agent for e in expected.events}
    # Each batch went with its browser's User-Agent: what it names is stored, not the header
    assert all(r[4] == visit.of_user_agent(agents[r[0]]).browser for r in rows), "the browser"
    assert {visit.of_user_agent(a).browser for a in agents.values()} - {None}
    assert all(r[7] is None for r in rows), "the User-Agent itself is not kept"
    # Each batch went with its visitor's address, as CloudFront forwards it: its country is kept
    code_of = {a: code for code, addresses, _ in NETWORKS for a in addresses}
    country_of = {e.payload["uuid"]: code_of[e.client_ip] for e in expected.events}
    assert all(r[8] == country_of[r[0]] for r in rows), "the country"
    assert len({r[8] for r in rows}) >= 5
    assert all(r[5] for r in rows), "ip_hash set by the ingest"
    assert all(
        now - timedelta(days=7, seconds=5) <= r[6] <= now + timedelta(seconds=5) for r in rows
    )
    names = {r[1] for r in rows}
    assert {"page_view", "$identify"} <= names
    assert len({r[3] for r in rows}) == expected.sessions
    assert any(r[2].startswith("user_") for r in rows) and any(
        r[2].startswith("anon_") for r in rows
    )

    # the same seed and --now again: the same uuids, which the pipeline drops as duplicates
    again = _seed(local_stack, project["api_key"], now)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"stored {EVENTS} of {EVENTS} accepted" in again.stdout.splitlines()
    _sentinel(local_stack, project["api_key"], project["id"])
    assert len(_rows(local_stack, project["id"])) == EVENTS


def test_seeded_data_shows_in_every_analytics_endpoint(
    local_stack: LocalStack, project: dict
) -> None:
    marker = f"check_{uuid.uuid4().hex[:8]}"
    with local_stack.client() as client:
        client.post(
            "/api/v1/events/ingest",
            json={"api_key": project["api_key"], "events": [{"event": marker}]},
        )
    deadline = time.monotonic() + 20
    with psycopg.connect(local_stack.database_url, autocommit=True) as conn:
        while not conn.execute(
            "SELECT 1 FROM events WHERE project_id = %s AND event = %s", (project["id"], marker)
        ).fetchone():
            assert time.monotonic() < deadline, "the marker did not arrive"
            time.sleep(0.1)
        total, sessions, users = conn.execute(
            "SELECT count(*), count(DISTINCT session_id), count(DISTINCT distinct_id)"
            " FROM events WHERE project_id = %s",
            (project["id"],),
        ).fetchone()
    assert total >= EVENTS
    auth = {"Authorization": f"Bearer {project['token']}"}
    base = f"/api/v1/analytics/{project['id']}"
    with local_stack.client() as client:
        ov = client.get(f"{base}/overview", params={"range": "30d"}, headers=auth).json()
        assert (ov["total_events"], ov["unique_sessions"], ov["unique_users"]) == (
            total,
            sessions,
            users,
        )
        assert ov["top_event"]["name"] == "page_view"
        points = client.get(f"{base}/timeseries", params={"range": "30d"}, headers=auth).json()[
            "points"
        ]
        assert sum(p["count"] for p in points) == total
        top = client.get(f"{base}/top-events", params={"range": "30d"}, headers=auth).json()
        assert {"page_view", "$identify"} <= {e["name"] for e in top["events"]}
        for path, key in [
            ("sessions", "list"),
            ("users", "users"),
            ("events", "events"),
            ("pages", "items"),
            ("referrers", "items"),
            ("utm-sources", "items"),
        ]:
            body = client.get(f"{base}/{path}", params={"range": "30d"}, headers=auth).json()
            assert body[key], f"{path} is empty"
        sessions_report = client.get(
            f"{base}/sessions", params={"range": "30d"}, headers=auth
        ).json()
        assert sessions_report["sessions"] == sessions
