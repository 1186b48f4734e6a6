"""What a visit is, through the real handlers: ingest (moto Kinesis) → processor → Postgres.

Browser, OS, device type and country are stored on each event; a bot's events are dropped with
a 202 and counted once (``bots_filtered`` in the overview), unless the project keeps bots.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.apigw import call, http_event
from tests.integration.conftest import ApiCall
from tests.integration.test_ingest_pipeline import STREAM, drain, events_of, now_iso, process
from tests.kinesis_events import stream_event
from tests.moto_kinesis import mocked_stream

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36"
)


@pytest.fixture
def kinesis() -> Any:
    with mocked_stream(STREAM) as client:
        yield client


@pytest.fixture
def owner(new_user) -> dict[str, Any]:
    return new_user()


@pytest.fixture
def project(api: ApiCall, owner) -> dict[str, Any]:
    res = api("POST", "/api/v1/projects", token=owner["access_token"], body={"name": "Visits"})
    assert res.status == 201 and res.json()["keep_bots"] is False
    return res.json()


def send(key: str, n: int, *, user_agent: str, ip: str, uuids: list[str] | None = None) -> Any:
    from pulse.handlers.ingest import handler

    ids = uuids or [str(uuid.uuid4()) for _ in range(n)]
    body = {
        "sent_at": now_iso(),
        "events": [
            {"event": "page_view", "uuid": ids[i], "session_id": "s1", "timestamp": now_iso(-1)}
            for i in range(n)
        ],
    }
    headers = {"x-api-key": key, "user-agent": user_agent}
    return call(
        handler,
        http_event("POST", "/api/v1/events/ingest", body=body, headers=headers, source_ip=ip),
    )


def overview(api: ApiCall, owner, project) -> dict[str, Any]:
    res = api(
        "GET",
        f"/api/v1/analytics/{project['id']}/overview",
        token=owner["access_token"],
        query="range=24h",
    )
    assert res.status == 200, res.body
    return res.json()


def test_events_are_stored_with_browser_os_device_and_country(kinesis, project, db) -> None:
    # Given a visitor on Firefox on Linux in Germany, and one on an iPhone in Japan (IPv6 too)
    assert send(project["api_key"], 2, user_agent=FIREFOX_LINUX, ip="5.9.0.1").status == 202
    assert send(project["api_key"], 1, user_agent=SAFARI_IPHONE, ip="1.0.16.1").status == 202
    # When the processor has written the stream
    process(drain(kinesis))
    # Then each event carries what its visit is, and the address itself is nowhere
    stored = sorted(
        (e["browser"], e["os"], e["device"], e["country"]) for e in events_of(db, project["id"])
    )
    assert stored == [
        ("Firefox", "Linux", "desktop", "DE"),
        ("Firefox", "Linux", "desktop", "DE"),
        ("Mobile Safari", "iOS", "mobile", "JP"),
    ]
    for record in drain(kinesis):
        assert b"5.9.0.1" not in record["Data"] and b"1.0.16.1" not in record["Data"]


def test_a_private_address_and_an_unknown_agent_store_nothing_of_the_visit(
    kinesis, project, db
) -> None:
    assert send(project["api_key"], 1, user_agent="pytest/9", ip="10.0.0.7").status == 202
    process(drain(kinesis))
    [event] = events_of(db, project["id"])
    assert (event["browser"], event["os"], event["device"], event["country"]) == (None,) * 4


def test_bots_are_dropped_with_a_202_and_counted_once(
    kinesis, api: ApiCall, owner, project, db
) -> None:
    # Given a crawler and a headless browser sending events, and a person
    ids = [str(uuid.uuid4()) for _ in range(3)]
    crawler = send(project["api_key"], 3, user_agent=GOOGLEBOT, ip="66.249.66.1", uuids=ids)
    headless = send(project["api_key"], 2, user_agent=HEADLESS, ip="5.9.0.1")
    person = send(project["api_key"], 1, user_agent=FIREFOX_LINUX, ip="5.9.0.1")
    # Then the bots are answered 202, with nothing accepted
    assert crawler.status == 202 and crawler.json() == {
        "accepted": 0,
        "filtered": 3,
        "rejected": [],
    }
    assert headless.status == 202 and headless.json()["filtered"] == 2
    assert person.json()["accepted"] == 1
    # And the crawler resending the same events counts them once
    assert (
        send(project["api_key"], 3, user_agent=GOOGLEBOT, ip="66.249.66.1", uuids=ids).json()[
            "filtered"
        ]
        == 3
    )
    # When the stream is processed twice (a replay)
    records = drain(kinesis)
    assert process(records) == {"batchItemFailures": []}
    assert process(records) == {"batchItemFailures": []}
    # Then only the person's event is stored, and the bots' 5 events are counted once
    assert [e["browser"] for e in events_of(db, project["id"])] == ["Firefox"]
    ov = overview(api, owner, project)
    assert ov["bots_filtered"] == 5
    assert ov["previous"]["bots_filtered"] == 0
    assert ov["total_events"] == 1


def test_a_project_that_keeps_bots_stores_their_events_as_bots(
    kinesis, api: ApiCall, owner, project, db
) -> None:
    # Given the project keeps bots (PATCH), after ingest has cached its key
    send(project["api_key"], 1, user_agent=FIREFOX_LINUX, ip="5.9.0.1")
    res = api(
        "PATCH",
        f"/api/v1/projects/{project['id']}",
        token=owner["access_token"],
        body={"keep_bots": True},
    )
    assert res.status == 200 and res.json()["keep_bots"] is True
    # When a crawler sends events
    res = send(project["api_key"], 2, user_agent=GOOGLEBOT, ip="66.249.66.1")
    # Then they are accepted and stored, marked as a bot's, and nothing is counted as filtered
    assert res.status == 202 and res.json() == {"accepted": 2, "rejected": []}
    process(drain(kinesis))
    stored = sorted((e["browser"], e["device"]) for e in events_of(db, project["id"]))
    assert stored == [("Firefox", "desktop"), ("Googlebot", "bot"), ("Googlebot", "bot")]
    assert overview(api, owner, project)["bots_filtered"] == 0
    # And turning it off again drops them from the next request on
    api(
        "PATCH",
        f"/api/v1/projects/{project['id']}",
        token=owner["access_token"],
        body={"keep_bots": False},
    )
    assert (
        send(project["api_key"], 1, user_agent=GOOGLEBOT, ip="66.249.66.1").json()["accepted"] == 0
    )


def test_keep_bots_must_be_a_boolean(api: ApiCall, owner, project) -> None:
    res = api(
        "PATCH",
        f"/api/v1/projects/{project['id']}",
        token=owner["access_token"],
        body={"keep_bots": "sometimes"},
    )
    assert res.status == 422


def test_bot_counts_follow_the_range_to_the_second(db, project) -> None:
    # Tallies at either edge of an unaligned range, and whole hours inside it
    from pulse.data import bots

    base = datetime(2026, 3, 10, tzinfo=UTC)
    at = [
        base + timedelta(hours=1, minutes=10),  # before the range
        base + timedelta(hours=1, minutes=40),  # in its first, partial hour
        base + timedelta(hours=2, minutes=30),  # a whole hour
        base + timedelta(hours=5, minutes=5),  # a whole hour
        base + timedelta(hours=6, minutes=19),  # in its last, partial hour
        base + timedelta(hours=6, minutes=21),  # after the range
    ]
    tallies = [bots.Tally(project["id"], str(uuid.uuid4()), t, i + 1) for i, t in enumerate(at)]
    assert bots.record_tallies(tallies=tallies) == 6
    assert bots.record_tallies(tallies=tallies) == 0  # a replay counts nothing
    start, end = base + timedelta(hours=1, minutes=20), base + timedelta(hours=6, minutes=20)
    for lo, hi in [
        (start, end),
        (start, start + timedelta(minutes=30)),
        (base, base + timedelta(days=1)),
    ]:
        want = sum(t.events for t in tallies if lo <= t.at < hi)
        assert bots.bots_filtered(project_id=project["id"], start=lo, end=hi) == want, (lo, hi)


def test_a_tally_for_a_deleted_project_is_not_kept(db, project, api: ApiCall, owner) -> None:
    from pulse.data import bots

    api("DELETE", f"/api/v1/projects/{project['id']}", token=owner["access_token"])
    tally = bots.Tally(project["id"], str(uuid.uuid4()), datetime.now(UTC), 1)
    assert bots.record_tallies(tallies=[tally]) == 0


def test_a_batch_of_tallies_alone_is_counted(kinesis, api: ApiCall, owner, project) -> None:
    send(project["api_key"], 4, user_agent=GOOGLEBOT, ip="66.249.66.1")
    records = drain(kinesis)
    assert len(records) == 1  # the tally, no events
    assert process(records) == {"batchItemFailures": []}
    assert overview(api, owner, project)["bots_filtered"] == 4


def test_when_counting_bots_fails_their_records_are_retried(
    kinesis, api: ApiCall, owner, project, db, monkeypatch
) -> None:
    # Given a batch with a person's event and a bot's tally, and the count failing once
    from pulse.processor import service

    send(project["api_key"], 1, user_agent=FIREFOX_LINUX, ip="5.9.0.1")
    send(project["api_key"], 2, user_agent=GOOGLEBOT, ip="66.249.66.1")
    records = drain(kinesis)
    real = service.record_tallies

    def failing(**kwargs: Any) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr(service, "record_tallies", failing)
    result = process(records)
    # Then the tally's record is reported failed, and the event is stored
    delivered = stream_event([r["Data"] for r in records])["Records"]
    tally_seq = [
        r["kinesis"]["sequenceNumber"]
        for r in delivered
        if b'"kind":"bots"' in base64.b64decode(r["kinesis"]["data"])
    ]
    assert len(tally_seq) == 1
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == tally_seq
    assert len(events_of(db, project["id"])) == 1
    # And the retry counts it, once
    monkeypatch.setattr(service, "record_tallies", real)
    assert process(records) == {"batchItemFailures": []}
    assert overview(api, owner, project)["bots_filtered"] == 2
    assert len(events_of(db, project["id"])) == 1
