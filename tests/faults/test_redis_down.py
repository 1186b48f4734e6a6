"""Redis down, through the real handlers in this process: an ingest execution environment that
starts during the outage (a cold one: no key, no daily salt in memory yet) keeps accepting (the
key from Postgres, the rate limit not enforced, the day's salt its own until Redis answers
again); the processor stores every event, and rebuilds the counters it could not update once
Redis returns. The running platform's side is in test_backing_services.py."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from pulse import cache
from pulse.ingest import enrichment, keys

# The integration fixtures: a fresh test database, the API, a project with its key, moto Kinesis.
from tests.conftest import TEST_REDIS_URL
from tests.integration.conftest import (  # noqa: F401
    _redis_cleanup,
    api,
    api_handler,
    database,
    db,
    new_user,
)
from tests.integration.test_ingest_pipeline import (  # noqa: F401
    drain,
    ingest,
    kinesis,
    now_iso,
    process,
    project,
)
from tests.ports import free_port


@pytest.fixture
def redis_down(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Redis unreachable (nothing listens on its port), and nothing of it in memory."""
    import pulse.handlers.ingest  # noqa: F401  (its import configures the cache: first)

    monkeypatch.setattr(enrichment, "_salts", {})
    monkeypatch.setattr(enrichment, "_fallback", {})
    monkeypatch.setattr(keys, "_local", {})
    url, prefix = cache._resolve()
    cache.reset_redis()
    cache.configure(url=f"redis://127.0.0.1:{free_port()}/0", key_prefix=prefix)
    yield
    cache.reset_redis()
    cache.configure(url=url, key_prefix=prefix)


def test_a_cold_ingest_environment_accepts_while_redis_is_down(
    kinesis: Any,  # noqa: F811
    project: dict[str, Any],  # noqa: F811
    db: Any,  # noqa: F811
    redis_down: None,
) -> None:
    # Given Redis down, and an environment that has never seen the key nor today's salt
    ids = [str(uuid.uuid4()) for _ in range(3)]
    body = {
        "api_key": project["api_key"],
        "sent_at": now_iso(),
        "events": [{"event": "page_view", "uuid": u, "timestamp": now_iso()} for u in ids],
    }
    # When batches are posted, more than the key's rate limit would allow in a minute
    answers = [ingest(body).status for _ in range(3)]
    # Then each is accepted, with the same visitor hash (one salt for the environment)
    assert answers == [202, 202, 202]
    records = drain(kinesis)
    assert len({json.loads(r["Data"])["ip_hash"] for r in records}) == 1
    # and every event is stored once (the processor's Redis updates fail, the events do not)
    assert process(records) == {"batchItemFailures": []}
    rows = [
        str(r[0])
        for r in db.execute("SELECT id FROM events WHERE project_id = %s", (project["id"],))
    ]
    assert sorted(rows) == sorted(ids)


def test_counters_missed_while_redis_was_down_are_rebuilt_when_it_returns(
    kinesis: Any,  # noqa: F811
    project: dict[str, Any],  # noqa: F811
    redis_down: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pulse.processor import live
    from pulse.realtime.feed import counters_messages

    monkeypatch.setattr(live, "_owed", set())
    dead_url, prefix = cache._resolve()

    def batch(n: int, session: str) -> None:
        body = {
            "api_key": project["api_key"],
            "sent_at": now_iso(),
            "events": [
                {"event": f"e{i % 2}", "uuid": str(uuid.uuid4()), "session_id": session}
                for i in range(n)
            ],
        }
        assert ingest(body).status == 202
        assert process(drain(kinesis)) == {"batchItemFailures": []}

    # Given 3 events processed while Redis is down (stored; their counter updates failed)
    batch(3, "s-during")
    # When Redis returns and the next batch is processed
    cache.reset_redis()
    cache.configure(url=TEST_REDIS_URL, key_prefix=prefix)
    batch(2, "s-after")
    # Then the hour's counters count all 5 events, by name, and both sessions
    counters = json.loads(counters_messages([project["id"]])[project["id"]])
    assert (counters["events"], counters["sessions"]) == (5, 2)
    assert counters["by_event"] == {"e0": 3, "e1": 2}
    assert dead_url != TEST_REDIS_URL
