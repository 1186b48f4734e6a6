"""scripts/seed_events.py: the traffic generator's properties, and the send path (retries,
429, refusals) against a mock transport; the batches pass the real ingest validation."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulse.ingest.validation import parse_body
from scripts import seed_events as seed
from scripts.seed_events import Batch, SeedEvent, SendStats, generate_traffic, make_batches

NOW = datetime(2025, 3, 12, 15, 30, tzinfo=UTC)  # a Wednesday
URL = "http://ingest.test/api/v1/events/ingest"


@pytest.fixture(scope="module")
def traffic() -> seed.Traffic:
    return generate_traffic(20_000, days=7, now=NOW, seed=42)


def ts(event: SeedEvent) -> datetime:
    return datetime.fromisoformat(event.timestamp)


def by_session(events: list[SeedEvent]) -> dict[str, list[SeedEvent]]:
    sessions: dict[str, list[SeedEvent]] = defaultdict(list)
    for event in events:
        sessions[event.payload["session_id"]].append(event)
    return {k: sorted(v, key=ts) for k, v in sessions.items()}


# --- the generator -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 37, 500, 5_000])
def test_exactly_the_number_of_events_asked_for_within_the_days(n: int) -> None:
    traffic = generate_traffic(n, days=3, now=NOW, seed=n)
    assert len(traffic.events) == n
    assert all(NOW - timedelta(days=3) <= ts(e) <= NOW for e in traffic.events)
    assert [e.timestamp for e in traffic.events] == sorted(e.timestamp for e in traffic.events)


def test_every_event_is_complete_with_a_unique_v4_uuid(traffic: seed.Traffic) -> None:
    assert len(traffic.events) == 20_000
    ids = [e.payload["uuid"] for e in traffic.events]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 for i in ids)
    for event in traffic.events:
        p = event.payload
        assert set(p) == {
            "event",
            "properties",
            "distinct_id",
            "session_id",
            "page_url",
            "referrer",
            "timestamp",
            "uuid",
        }
        assert p["distinct_id"].startswith(("anon_", "user_"))
        assert p["page_url"].startswith(seed.SITE + "/")
        assert p["timestamp"].endswith("Z")
        assert event.user_agent.startswith("Mozilla/5.0")


def test_the_whole_range_is_covered(traffic: seed.Traffic) -> None:
    first, last = ts(traffic.events[0]), ts(traffic.events[-1])
    assert first - (NOW - timedelta(days=7)) < timedelta(hours=2)
    assert NOW - last < timedelta(hours=1)
    days = Counter(ts(e).date() for e in traffic.events)
    assert len(days) == 8  # 7 × 24 h starting mid-afternoon: parts of 8 calendar days


def test_daily_and_weekly_cycles(traffic: seed.Traffic) -> None:
    hours = Counter(ts(e).hour for e in traffic.events)
    afternoon = sum(hours[h] for h in range(12, 18))
    night = sum(hours[h] for h in range(0, 6))
    assert afternoon > 3 * night
    tue = datetime(2025, 3, 11, 14, tzinfo=UTC)
    assert seed.traffic_weight(tue.replace(hour=4)) < 0.2 * seed.traffic_weight(tue)
    assert seed.traffic_weight(tue + timedelta(days=4)) < 0.7 * seed.traffic_weight(tue)  # Sat
    two_weeks = generate_traffic(20_000, days=14, now=NOW, seed=7)
    per_weekday = Counter(ts(e).weekday() for e in two_weeks.events)
    # 14 days: every weekday twice, give or take the partial first and last day
    assert min(per_weekday[d] for d in range(0, 4)) > 1.3 * max(per_weekday[5], per_weekday[6])


def test_sessions_of_varied_length_without_idle_gaps(traffic: seed.Traffic) -> None:
    sessions = by_session(traffic.events)
    assert len(sessions) == traffic.sessions
    lengths = Counter(len(events) for events in sessions.values())
    assert lengths[1] > 0.15 * len(sessions)  # bounces
    assert sum(n for size, n in lengths.items() if size >= 10) > 0.03 * len(sessions)
    for events in sessions.values():
        gaps = [ts(b) - ts(a) for a, b in zip(events, events[1:], strict=False)]
        assert all(timedelta(seconds=1) <= gap < seed.SESSION_IDLE for gap in gaps)
        assert len({e.user_agent for e in events}) == 1


def test_funnel_order_in_every_session(traffic: seed.Traffic) -> None:
    steps = Counter[str]()
    for events in by_session(traffic.events).values():
        names = [e.payload["event"] for e in events]
        assert names[0] == "page_view"
        if "signup" in names:
            assert "page_view" in names[: names.index("signup")]
            steps["signup"] += 1
        if "purchase" in names:
            assert "signup" in names[: names.index("purchase")], names
            steps["purchase"] += 1
        assert names.count("signup") <= 1 and names.count("purchase") <= 1
    funnel = seed.funnel(traffic.events)
    assert funnel == {"page_view": traffic.sessions, **steps}
    # drop-off at each step
    assert 0.02 * traffic.sessions < funnel["signup"] < 0.3 * traffic.sessions
    assert 0.1 * funnel["signup"] < funnel["purchase"] < 0.8 * funnel["signup"]


def test_identified_users(traffic: seed.Traffic) -> None:
    identify = [e for e in traffic.events if e.payload["event"] == "$identify"]
    users = {e.payload["distinct_id"] for e in identify}
    assert len(users) == traffic.identified_users == len(identify)  # once per user
    assert all(u.startswith("user_") for u in users)
    assert 0.12 < traffic.identified_users / traffic.visitors < 0.4
    # a user id appears first on its $identify event; after it, the session carries it
    first_seen: dict[str, SeedEvent] = {}
    for event in traffic.events:
        first_seen.setdefault(event.payload["distinct_id"], event)
    assert all(first_seen[u].payload["event"] == "$identify" for u in users)
    for events in by_session(traffic.events).values():
        names = [e.payload["event"] for e in events]
        if "$identify" in names:
            after = events[names.index("$identify") :]
            assert len({e.payload["distinct_id"] for e in after}) == 1
    # returning identified visitors: sessions that start identified, without a new $identify
    started_identified = [
        s
        for s in by_session(traffic.events).values()
        if s[0].payload["distinct_id"].startswith("user_")
    ]
    assert started_identified


def test_sources_referrers_utm_and_devices(traffic: seed.Traffic) -> None:
    views = [e.payload for e in traffic.events if e.payload["event"] == "page_view"]
    landing = [v for v in views if not (v["referrer"] or "").startswith(seed.SITE)]
    referrers = Counter(v["referrer"] for v in landing)
    assert referrers[None] > 0.2 * len(landing)  # direct
    assert any("google" in (r or "") for r in referrers)
    assert any("t.co" in (r or "") for r in referrers)
    utm = Counter(v["properties"].get("utm_source") for v in views)
    assert {"newsletter", "google", "twitter"} <= set(utm)
    for v in views:
        if "utm_source" in v["properties"]:
            assert "utm_source=" + v["properties"]["utm_source"] in v["page_url"]
    agents = Counter(e.user_agent for e in traffic.events)
    assert len(agents) >= 6
    assert any("iPhone" in a for a in agents) and any("Windows" in a for a in agents)
    assert all({"path", "title", "screen", "language"} <= set(v["properties"]) for v in views)


def test_reproducible_with_a_seed() -> None:
    a = generate_traffic(3_000, days=7, now=NOW, seed=5)
    b = generate_traffic(3_000, days=7, now=NOW, seed=5)
    c = generate_traffic(3_000, days=7, now=NOW, seed=6)
    assert [e.payload for e in a.events] == [e.payload for e in b.events]
    assert (a.sessions, a.visitors, a.identified_users) == (
        b.sessions,
        b.visitors,
        b.identified_users,
    )
    assert {e.payload["uuid"] for e in a.events}.isdisjoint({e.payload["uuid"] for e in c.events})


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generate_traffic(0, now=NOW, seed=1)
    with pytest.raises(ValueError):
        generate_traffic(10, days=40, now=NOW, seed=1)
    with pytest.raises(ValueError):
        make_batches([], size=101)


# --- batches -------------------------------------------------------------------------------


def test_batches_share_a_user_agent_and_an_address_and_hold_at_most_100(
    traffic: seed.Traffic,
) -> None:
    batches = make_batches(traffic.events)
    assert all(1 <= len(b.events) <= 100 for b in batches)
    payloads = [p for b in batches for p in b.events]
    assert sorted(p["uuid"] for p in payloads) == sorted(e.payload["uuid"] for e in traffic.events)
    agent = {e.payload["uuid"]: e.user_agent for e in traffic.events}
    address = {e.payload["uuid"]: e.client_ip for e in traffic.events}
    for b in batches:
        assert {agent[p["uuid"]] for p in b.events} == {b.user_agent}
        assert {address[p["uuid"]] for p in b.events} == {b.client_ip}
        assert [p["timestamp"] for p in b.events] == sorted(p["timestamp"] for p in b.events)
    assert len(make_batches(traffic.events, size=10)) >= len(traffic.events) // 10


def test_visitors_connect_from_addresses_of_their_networks_countries(
    traffic: seed.Traffic,
) -> None:
    from pulse.ingest.visit import country

    code_of = {a: code for code, addresses, _ in seed.NETWORKS for a in addresses}
    for address, code in code_of.items():  # every address the generator can give
        assert country(address) == code, address
    assert {e.client_ip for e in traffic.events} <= code_of.keys()
    countries = {code_of[e.client_ip] for e in traffic.events}
    assert len(countries) >= 10  # 20,000 events: nearly every country
    # the same traffic for the same seed, addresses included
    again = generate_traffic(20_000, days=7, now=NOW, seed=42)
    assert [e.client_ip for e in again.events] == [e.client_ip for e in traffic.events]


def test_the_ingest_validation_accepts_every_batch() -> None:
    now = datetime.now(UTC)
    traffic = generate_traffic(3_000, days=7, now=now, seed=9)
    for batch in make_batches(traffic.events):
        body = {"api_key": "proj_x", "sent_at": seed.iso(now), "events": batch.events}
        parsed = parse_body(json.dumps(body).encode(), now=now)
        assert parsed.rejected == []
        assert len(parsed.events) == len(batch.events)


# --- sending (mock transport) --------------------------------------------------------------


class FakeIngest:
    """Answers from a script of statuses (then 202), recording each request."""

    def __init__(self, statuses: list[int | Exception] | None = None, **headers: str) -> None:
        self.statuses = list(statuses or [])
        self.headers = headers
        self.requests: list[dict[str, Any]] = []
        self.sleeps: list[float] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append({"body": body, "headers": dict(request.headers)})
        status = self.statuses.pop(0) if self.statuses else 202
        if isinstance(status, Exception):
            raise status
        if status == 202:
            return httpx.Response(202, json={"accepted": len(body["events"]), "rejected": []})
        headers = {k.replace("_", "-"): v for k, v in self.headers.items()}
        return httpx.Response(status, json={"error": {"code": "x"}}, headers=headers)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def send(self, batches: list[Batch], **kwargs: Any) -> SendStats:
        async def run() -> SendStats:
            async with httpx.AsyncClient(transport=httpx.MockTransport(self.handler)) as client:
                return await seed.send_batches(
                    batches, url=URL, api_key="proj_k", client=client, sleep=self.sleep, **kwargs
                )

        return asyncio.run(run())


def small_batches(n: int = 30, size: int = 10) -> list[Batch]:
    """``n`` events in batches of ``size`` (one user agent for all, unlike make_batches)."""
    events = generate_traffic(n, days=1, now=datetime.now(UTC), seed=1).events
    return [
        Batch("Mozilla/5.0 (test)", [e.payload for e in events[i : i + size]])
        for i in range(0, n, size)
    ]


def test_every_request_carries_sent_at_the_key_and_the_batch_user_agent() -> None:
    fake = FakeIngest()
    batches = make_batches(generate_traffic(300, days=1, now=datetime.now(UTC), seed=1).events)
    stats = fake.send(batches, concurrency=4)
    assert (stats.events, stats.accepted, stats.rejected, stats.failed) == (300, 300, 0, 0)
    assert stats.requests == len(batches) == len(fake.requests)
    assert stats.done == 300
    sent = {tuple(p["uuid"] for p in r["body"]["events"]): r for r in fake.requests}
    for batch in batches:
        request = sent[tuple(p["uuid"] for p in batch.events)]
        assert request["body"]["api_key"] == "proj_k"
        assert request["headers"]["user-agent"] == batch.user_agent
        assert "true-client-ip" not in request["headers"]  # no edge secret: no address claimed
        sent_at = datetime.fromisoformat(request["body"]["sent_at"].replace("Z", "+00:00"))
        assert abs(sent_at - datetime.now(UTC)) < timedelta(seconds=30)


def test_with_the_edge_secret_each_request_carries_its_visitors_address() -> None:
    fake = FakeIngest()
    batches = make_batches(generate_traffic(300, days=1, now=datetime.now(UTC), seed=1).events)
    fake.send(batches, concurrency=4, edge_secret="s3cret")
    sent = {tuple(p["uuid"] for p in r["body"]["events"]): r for r in fake.requests}
    for batch in batches:
        headers = sent[tuple(p["uuid"] for p in batch.events)]["headers"]
        assert (headers["x-pulse-edge"], headers["true-client-ip"]) == ("s3cret", batch.client_ip)


def test_429_waits_for_retry_after_then_resends() -> None:
    fake = FakeIngest([429, 429], retry_after="7")
    stats = fake.send(small_batches(10, 10))
    assert fake.sleeps == [7.0, 7.0]
    assert (stats.requests, stats.retries, stats.rate_limited, stats.accepted) == (3, 2, 2, 10)
    assert len({json.dumps(r["body"]["events"]) for r in fake.requests}) == 1  # same events


def test_5xx_and_network_errors_are_retried_with_growing_backoff() -> None:
    fake = FakeIngest([503, 500, httpx.ConnectError("refused"), 502])
    stats = fake.send(small_batches(10, 10))
    assert (stats.requests, stats.retries, stats.accepted, stats.failed) == (5, 4, 10, 0)
    assert len(fake.sleeps) == 4
    assert fake.sleeps[0] < fake.sleeps[2] and fake.sleeps[1] < fake.sleeps[3]
    sent_at = [r["body"]["sent_at"] for r in fake.requests]
    assert all(sent_at)


def test_a_batch_that_keeps_failing_is_given_up() -> None:
    fake = FakeIngest([503] * 20)
    stats = fake.send(small_batches(10, 10), max_attempts=3)
    assert (stats.requests, stats.accepted, stats.failed, stats.done) == (3, 0, 10, 10)
    assert "gave up" in stats.errors[0]


def test_other_4xx_refuse_the_batch_without_retry() -> None:
    fake = FakeIngest([422])
    stats = fake.send(small_batches(20, 10), concurrency=1)
    assert (stats.requests, stats.accepted, stats.rejected) == (2, 10, 10)


@pytest.mark.parametrize("status", [401, 404])
def test_a_bad_key_or_url_stops_everything(status: int) -> None:
    fake = FakeIngest([status])
    with pytest.raises(seed.FatalSendError):
        fake.send(small_batches(50, 10), concurrency=1)
    assert len(fake.requests) == 1


def test_retry_after_parsing() -> None:
    assert seed.retry_after_seconds("3", 1) == 3
    assert seed.retry_after_seconds(None, 1) == 1
    assert seed.retry_after_seconds("soon", 2) == 2
    later = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 25 <= seed.retry_after_seconds(later, 1) <= 31


# --- command line --------------------------------------------------------------------------


def test_progress_on_a_log_prints_every_ten_percent() -> None:
    out = io.StringIO()
    progress = seed.Progress(100, stream=out)
    stats = SendStats(events=100)
    for done in range(0, 101, 5):
        stats.done = done
        progress.update(stats)
    progress.close(stats)
    lines = out.getvalue().splitlines()
    assert 10 <= len(lines) <= 12
    assert "100/100 events" in lines[-1]


def test_dry_run_prints_the_traffic(capsys: pytest.CaptureFixture[str]) -> None:
    assert seed.main(["--dry-run", "--events", "300", "--seed", "3", "--days", "2"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "300 events" in out and "(seed 3)" in out
    assert "identified users" in out and "→ signup" in out


def test_without_a_key_it_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCAL_DATA_DIR", str(tmp_path))
    assert seed.main(["--events", "10"]) == 2
    assert "make up" in capsys.readouterr().err
    (tmp_path / "demo.json").write_text(json.dumps({"api_key": "proj_demo"}))
    assert seed.default_api_key() == "proj_demo"


def test_bad_flags_are_refused() -> None:
    for argv in (["--batch-size", "101"], ["--days", "45"], ["--events", "0"], ["--now", "x"]):
        with pytest.raises(SystemExit):
            seed.parse_args(argv)


# --- stored N of M accepted ----------------------------------------------------------------


def test_the_report_fails_when_an_accepted_event_is_not_stored() -> None:
    assert seed.stored_report(19_915, 20_000) == ("stored 19915 of 20000 accepted", 1)
    assert seed.stored_report(500, 500) == ("stored 500 of 500 accepted", 0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize(
    ("counts", "accepted", "expected", "waited"),
    [
        ([0, 40, 90, 100], 100, 100, 1.5),  # all stored: done at once
        ([0, 40, 90] + [95] * 100, 100, 95, 1.5 + 15),  # stopped growing for 15 s
        (list(range(0, 1000, 2)), 1000, 480, 120),  # still growing at the timeout
    ],
)
def test_the_wait_ends_when_all_are_stored_or_the_count_stops_growing(
    counts: list[int], accepted: int, expected: int, waited: float
) -> None:
    clock = FakeClock()
    polls = iter(counts)
    stored = seed.wait_until_stored(lambda: next(polls), accepted, clock=clock, sleep=clock.sleep)
    assert (stored, clock.now) == (expected, waited)


def test_only_the_events_the_api_accepted_are_looked_for() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        events = json.loads(request.content)["events"]
        return httpx.Response(
            202, json={"accepted": len(events) - 1, "rejected": [{"index": 1, "error": "x"}]}
        )

    async def run() -> SendStats:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await seed.send_batches(
                small_batches(20, 10), url=URL, api_key="k", client=client
            )

    batches = small_batches(20, 10)
    stats = asyncio.run(run())
    expected = [e["uuid"] for b in batches for i, e in enumerate(b.events) if i != 1]
    assert (stats.accepted, sorted(stats.accepted_ids)) == (18, sorted(expected))


@pytest.mark.parametrize("lost", [0, 1])
def test_a_run_exits_non_zero_when_postgres_lacks_an_accepted_event(
    lost: int,
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pulse.data import projects, users
    from pulse.data.events import write_events
    from pulse.domain.projects import new_api_key

    # Given a project, and an ingest API that accepts everything it is sent
    owner = users.insert_user(email=f"seed-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    project = projects.insert_project(
        owner_id=owner.id, name="Seed", domain=None, api_key=new_api_key()
    )
    fake = FakeIngest()
    real_send = seed.send_batches

    async def send_to_fake(batches: list[Batch], **kwargs: Any) -> SendStats:
        async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as client:
            return await real_send(batches, client=client, **kwargs)

    monkeypatch.setattr(seed, "send_batches", send_to_fake)
    # and a pipeline that stored all of its events but ``lost``
    now = datetime.now(UTC).replace(microsecond=0)
    events = generate_traffic(30, days=1, now=now, seed=5).events
    write_events(
        [
            (str(project.id), e.payload["uuid"], e.payload["event"], None, "{}", None, None, None,
             None, None, ts(e), now)
            for e in events[lost:]
        ]
    )  # fmt: skip
    # When the seed runs
    argv = ["--events", "30", "--days", "1", "--seed", "5", "--now", seed.iso(now), "--quiet"]
    argv += ["--api-key", project.api_key, "--url", URL, "--database-url", database]
    status = seed.main([*argv, "--drain-timeout", "0"])
    # Then it says how many of the accepted events Postgres holds, and fails if not all
    out = capsys.readouterr().out
    assert f"stored {30 - lost} of 30 accepted" in out.splitlines()
    assert status == (1 if lost else 0)


def test_the_default_url_is_the_running_platforms_from_endpoints_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOCAL_HTTP_PORT", raising=False)
    assert seed.default_url(tmp_path) == "http://127.0.0.1:8000/api/v1/events/ingest"
    monkeypatch.setenv("LOCAL_HTTP_PORT", "8123")
    assert seed.default_url(tmp_path) == "http://127.0.0.1:8123/api/v1/events/ingest"
    # a platform started with LOCAL_HTTP_PORT=0 says where it listens
    (tmp_path / "endpoints.json").write_text(json.dumps({"http": "http://127.0.0.1:40111"}))
    assert seed.default_url(tmp_path) == "http://127.0.0.1:40111/api/v1/events/ingest"
