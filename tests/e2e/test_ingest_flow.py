"""[2 of 8] through the running local stack: HTTP → ingest → Kinesis → processor → Postgres."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(local_stack: LocalStack) -> dict:
    return local_stack.new_project("Ingest")


def _count(stack: LocalStack, project_id: str) -> int:
    with psycopg.connect(stack.database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM events WHERE project_id = %s", (project_id,)
        ).fetchone()[0]


def _wait_for_count(stack: LocalStack, project_id: str, n: int, timeout: float) -> float:
    start = time.monotonic()
    while _count(stack, project_id) < n:
        assert time.monotonic() - start < timeout, f"fewer than {n} rows after {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - start


def test_a_batch_is_in_postgres_within_two_seconds_and_only_once(local_stack, project) -> None:
    now = datetime.now(UTC).isoformat()
    body = {
        "sent_at": now,
        "events": [
            {
                "event": "page_view",
                "uuid": str(uuid.uuid4()),
                "session_id": "s1",
                "properties": {"path": f"/{i}"},
                "timestamp": now,
            }
            for i in range(10)
        ],
    }
    with local_stack.client() as client:
        started = time.monotonic()
        res = client.post(
            "/api/v1/events/ingest", json=body, headers={"X-API-Key": project["api_key"]}
        )
        assert res.status_code == 202 and res.json()["accepted"] == 10
        _wait_for_count(local_stack, project["id"], 10, timeout=2.0)
        assert time.monotonic() - started < 2.0

        again = client.post(
            "/api/v1/events/ingest", json=body, headers={"X-API-Key": project["api_key"]}
        )
        assert again.status_code == 202
        time.sleep(1.0)
        assert _count(local_stack, project["id"]) == 10


def test_text_plain_with_the_key_in_the_body(local_stack, project) -> None:
    before = _count(local_stack, project["id"])
    import json

    with local_stack.client() as client:
        res = client.post(
            "/api/v1/events/ingest",
            content=json.dumps({"api_key": project["api_key"], "events": [{"event": "beacon"}]}),
            headers={"Content-Type": "text/plain"},
        )
    assert res.status_code == 202
    _wait_for_count(local_stack, project["id"], before + 1, timeout=2.0)


def test_bad_key_oversized_body_and_partial_batch(local_stack, project) -> None:
    with local_stack.client() as client:
        bad = client.post(
            "/api/v1/events/ingest",
            json={"events": [{"event": "x"}]},
            headers={"X-API-Key": "proj_nope"},
        )
        assert bad.status_code == 401
        big = client.post(
            "/api/v1/events/ingest",
            content=b'{"events":[{"event":"x","properties":{"b":"'
            + b"x" * (1024 * 1024)
            + b'"}}]}',
            headers={"X-API-Key": project["api_key"]},
        )
        assert big.status_code == 413
        mixed = client.post(
            "/api/v1/events/ingest",
            json={"events": [{"event": "fine"}, {"event": ""}]},
            headers={"X-API-Key": project["api_key"]},
        )
        assert mixed.status_code == 202
        assert mixed.json()["accepted"] == 1
        assert mixed.json()["rejected"][0]["index"] == 1
