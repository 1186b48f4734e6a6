from __future__ import annotations

import json

import pytest

from pulse.ingest import publisher
from pulse.ingest.cors import origin_allowed
from pulse.ingest.enrichment import ip_hash


@pytest.mark.parametrize(
    ("origin", "domain", "allowed"),
    [
        (None, "example.com", True),
        ("https://anything.test", None, True),
        ("https://example.com", "example.com", True),
        ("https://www.example.com", "example.com", True),
        ("https://a.b.example.com:8443", "example.com", True),
        ("https://badexample.com", "example.com", False),
        ("https://example.com.evil.test", "example.com", False),
        ("null", "example.com", False),
        ("http://localhost:3000", "localhost:3000", True),
        ("http://localhost:4000", "localhost:3000", False),
    ],
)
def test_origins_are_the_domain_or_its_subdomains(
    origin: str | None, domain: str | None, allowed: bool
) -> None:
    assert origin_allowed(origin, domain) is allowed


def test_ip_hash_depends_on_salt_project_ip_and_agent_and_hides_the_ip() -> None:
    base = {"salt": "s1", "project_id": "p", "ip": "203.0.113.5", "user_agent": "UA"}
    h = ip_hash(**base)
    assert len(h) == 32 and "203.0.113.5" not in h
    assert ip_hash(**base) == h
    for field, other in [
        ("salt", "s2"),
        ("project_id", "q"),
        ("ip", "203.0.113.6"),
        ("user_agent", "UB"),
    ]:
        assert ip_hash(**{**base, field: other}) != h


def _event(i: int, session: str | None, size: int = 10) -> dict:
    return {
        "id": f"id{i}",
        "event": "e",
        "session_id": session,
        "distinct_id": None,
        "properties": {"p": "x" * size},
    }


def test_records_group_events_by_session_in_order() -> None:
    events = [_event(0, "a"), _event(1, "b"), _event(2, "a"), _event(3, None)]
    records = publisher.build_records(project_id="P", envelope={"project_id": "P"}, events=events)
    keys = [r["PartitionKey"] for r in records]
    assert keys == ["P:a", "P:b", "P:id3"]
    first = json.loads(records[0]["Data"])
    assert [e["id"] for e in first["events"]] == ["id0", "id2"]
    assert first["v"] == publisher.RECORD_VERSION and first["project_id"] == "P"


def test_records_stay_under_the_kinesis_record_limit() -> None:
    events = [_event(i, "same", size=30_000) for i in range(100)]
    records = publisher.build_records(project_id="P", envelope={}, events=events)
    assert len(records) > 1
    assert all(len(r["Data"]) < publisher.MAX_RECORD_BYTES for r in records)
    ids = [e["id"] for r in records for e in json.loads(r["Data"])["events"]]
    assert ids == [f"id{i}" for i in range(100)]


class FlakyKinesis:
    """Fails the given records a number of times, as Kinesis reports per-record errors."""

    def __init__(self, fail_times: int) -> None:
        self.fail_times = fail_times
        self.calls: list[list[bytes]] = []

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:  # noqa: N803
        self.calls.append([r["Data"] for r in Records])
        failing = len(self.calls) <= self.fail_times
        return {
            "Records": [
                {"ErrorCode": "ProvisionedThroughputExceededException"}
                if failing and i == 0
                else {"SequenceNumber": "1", "ShardId": "s"}
                for i in range(len(Records))
            ]
        }


def test_failed_records_alone_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    flaky = FlakyKinesis(fail_times=2)
    monkeypatch.setattr(publisher, "kinesis_client", lambda: flaky)
    monkeypatch.setattr(publisher.time, "sleep", lambda s: None)
    records = [{"Data": b"a", "PartitionKey": "1"}, {"Data": b"b", "PartitionKey": "2"}]
    publisher.put_all("s", records, attempts=4)
    assert flaky.calls == [[b"a", b"b"], [b"a"], [b"a"]]


def test_records_failing_every_attempt_fail_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulse.exceptions import ServiceUnavailableError

    flaky = FlakyKinesis(fail_times=99)
    monkeypatch.setattr(publisher, "kinesis_client", lambda: flaky)
    monkeypatch.setattr(publisher.time, "sleep", lambda s: None)
    with pytest.raises(ServiceUnavailableError):
        publisher.put_all("s", [{"Data": b"a", "PartitionKey": "1"}], attempts=3)
    assert len(flaky.calls) == 3
