"""[3 of 8] through the running local stack: ingested events show in every endpoint, and the
rollup schedule runs by itself (here every 2 s instead of hourly)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e


def test_ingested_events_are_rolled_up_and_reported_exactly(local_stack: LocalStack) -> None:
    project = local_stack.new_project("Analytics")
    auth = {"Authorization": f"Bearer {project['token']}"}
    with local_stack.client() as client:
        past = datetime.now(UTC) - timedelta(hours=3)
        now = datetime.now(UTC).isoformat()
        events = [
            {
                "event": "page_view" if i % 3 else "signup",
                "uuid": str(uuid.uuid4()),
                "session_id": f"s{i % 4}",
                "distinct_id": f"u{i % 3}",
                "properties": {"path": f"/p{i % 2}"},
                "timestamp": (past + timedelta(minutes=i)).isoformat(),
            }
            for i in range(30)
        ]
        events.append({"event": "page_view", "session_id": "live", "timestamp": now})
        res = client.post(
            "/api/v1/events/ingest",
            json={"events": events, "sent_at": now},
            headers={"X-API-Key": project["api_key"]},
        )
        assert res.status_code == 202 and res.json()["accepted"] == 31

        hour = past.replace(minute=0, second=0, microsecond=0)
        deadline = time.monotonic() + 20
        with psycopg.connect(local_stack.database_url, autocommit=True) as conn:
            while True:
                rolled = conn.execute(
                    "SELECT coalesce(sum(count), 0) FROM event_rollups_hourly "
                    "WHERE project_id = %s AND hour >= %s AND hour < %s",
                    (project["id"], hour, hour + timedelta(hours=2)),
                ).fetchone()[0]
                dirty = conn.execute(
                    "SELECT count(*) FROM rollup_dirty_hours WHERE project_id = %s "
                    "AND hour < date_trunc('hour', now())",
                    (project["id"],),
                ).fetchone()[0]
                if rolled == 30 and dirty == 0:
                    break
                assert time.monotonic() < deadline, (rolled, dirty)
                time.sleep(0.2)

        base = f"/api/v1/analytics/{project['id']}"
        ov = client.get(f"{base}/overview", params={"range": "24h"}, headers=auth).json()
        assert ov["total_events"] == 31
        assert ov["unique_sessions"] == 5
        assert ov["unique_users"] == 3
        assert ov["top_event"] == {"name": "page_view", "count": 21}
        series = client.get(
            f"{base}/timeseries", params={"range": "24h", "interval": "hour"}, headers=auth
        ).json()["points"]
        assert sum(p["count"] for p in series) == 31 and len(series) in (24, 25)
        top = client.get(f"{base}/top-events", headers=auth).json()["events"]
        assert top[0] == {"name": "page_view", "count": 21, "unique_users": 2}
        for path in ("sessions", "users", "events", "pages", "referrers", "utm-sources"):
            assert client.get(f"{base}/{path}", headers=auth).status_code == 200, path
