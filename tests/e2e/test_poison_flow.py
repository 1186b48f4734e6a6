"""Through the running local stack: the issue's probe, a NUL in a property, sent with a public
key while other projects send normal events at the same moment. The probe is refused with a 422
that says why, and every good event of every project is stored, once."""

from __future__ import annotations

import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

PROBE = b'{"events":[{"event":"x","properties":{"k":"\\u0000"}}]}'
PROBE_ERROR = "properties.k contains a NUL character (\\u0000), which cannot be stored"


def _stored(stack: LocalStack, project_id: str) -> list[str]:
    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute(
            "SELECT id::text FROM events WHERE project_id = %s", (project_id,)
        ).fetchall()
    return [r[0] for r in rows]


def _good_body(session: str, n: int) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "sent_at": now,
        "events": [
            {
                "event": "page_view",
                "uuid": str(uuid.uuid4()),
                "session_id": session,
                "properties": {"path": f"/{i}"},
                "timestamp": now,
            }
            for i in range(n)
        ],
    }


def test_the_probe_is_refused_and_every_other_event_is_stored(local_stack) -> None:
    # Given three projects; the probe is sent with the third one's (public) key
    shop, blog, target = (local_stack.new_project(n) for n in ("Shop", "Blog", "Target"))
    sends: list[tuple[str, dict[str, str], Any]] = []  # (kind, project, body)
    expected: dict[str, set[str]] = {p["id"]: set() for p in (shop, blog, target)}
    for project in (shop, blog, target):
        for i in range(8):
            body = _good_body(f"{project['id'][:8]}-s{i}", 10)
            expected[project["id"]].update(e["uuid"] for e in body["events"])
            sends.append(("good", project, body))
    for _ in range(8):
        sends.append(("probe", target, PROBE))
    for i in range(3):  # a good event and the probe's in one batch
        body = _good_body(f"mixed-{i}", 1)
        expected[target["id"]].add(body["events"][0]["uuid"])
        body["events"].append({"event": "x", "properties": {"k": "\x00"}})
        sends.append(("mixed", target, body))
    random.Random(7).shuffle(sends)

    def post(send: tuple[str, dict[str, str], Any]) -> tuple[str, Any]:
        kind, project, body = send
        headers = {"X-API-Key": project["api_key"]}
        with local_stack.client() as client:
            if isinstance(body, bytes):
                res = client.post("/api/v1/events/ingest", content=body, headers=headers)
            else:
                res = client.post("/api/v1/events/ingest", json=body, headers=headers)
        return kind, res

    # When they are all posted at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, sends))

    # Then the probe is refused, with a message that says why, and the rest accepted
    for kind, res in answers:
        if kind == "probe":
            assert res.status_code == 422, res.text
            error = res.json()["error"]
            assert error["message"] == "no event in the batch is valid"
            assert error["details"] == [{"index": 0, "error": PROBE_ERROR}]
        elif kind == "mixed":
            assert res.status_code == 202, res.text
            assert res.json() == {"accepted": 1, "rejected": [{"index": 1, "error": PROBE_ERROR}]}
        else:
            assert res.status_code == 202 and res.json()["accepted"] == 10, res.text

    # And every good event of every project is stored, exactly once
    deadline = time.monotonic() + 20
    while any(len(_stored(local_stack, p)) < len(ids) for p, ids in expected.items()):
        missing = {p: len(ids) - len(_stored(local_stack, p)) for p, ids in expected.items()}
        assert time.monotonic() < deadline, f"events missing after 20 s: {missing}"
        time.sleep(0.1)
    time.sleep(1.0)  # nothing more comes in
    for project_id, ids in expected.items():
        rows = _stored(local_stack, project_id)
        assert sorted(rows) == sorted(ids)
