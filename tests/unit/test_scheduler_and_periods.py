from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from localcloud.scheduler import Scheduler, rate_seconds, scheduled_event
from pulse.analytics import periods
from pulse.exceptions import InvalidInputError
from pulse.wiring import WIRING, Schedule


def test_rates_parse_and_the_wiring_uses_only_rates() -> None:
    assert rate_seconds("rate(1 hour)") == 3600
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(2 days)") == 172800
    for bad in ("cron(0 * * * ? *)", "rate(0 hours)", "rate(1 week)"):
        with pytest.raises(ValueError):
            rate_seconds(bad)
    assert [s.expression for s in WIRING.schedules] == ["rate(5 minutes)"]
    for schedule in WIRING.schedules:
        rate_seconds(schedule.expression)


def test_scheduled_event_has_the_eventbridge_shape() -> None:
    event = scheduled_event("pulse-rollup-schedule", "eu-west-1")
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == [
        "arn:aws:events:eu-west-1:000000000000:rule/pulse-rollup-schedule"
    ]
    datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")


NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"start": "2026-03-02", "end": "2026-03-01"}, "from", "before to"),
        ({"start": "2024-01-01", "end": "2026-03-01"}, "to", "400 days"),
        ({"start": "2026-03-01"}, "to", "go together"),
        ({"range_": "1y"}, "range", "one of"),
        ({"range_": "7d", "start": "2026-03-01", "end": "2026-03-02"}, "range", "not both"),
        ({"start": "yesterday", "end": "2026-03-02"}, "from", "ISO 8601"),
        ({"tz": "Mars/Olympus"}, "tz", "unknown time zone"),
    ],
)
def test_bad_parameters_name_their_field(kwargs: dict, field: str, message: str) -> None:
    args = {"start": None, "end": None, "range_": None, "tz": None, "now": NOW, **kwargs}
    with pytest.raises(InvalidInputError, match=message) as err:
        periods.parse_period(**args)
    assert err.value.details[0]["field"] == field


def test_ranges_end_now_and_local_times_take_the_zone() -> None:
    p = periods.parse_period(start=None, end=None, range_="24h", tz=None, now=NOW)
    assert (p.start, p.end) == (NOW - timedelta(hours=24), NOW)
    p = periods.parse_period(
        start="2026-03-01T00:00", end="2026-03-02T00:00", range_=None, tz="Asia/Kolkata", now=NOW
    )
    assert p.start == datetime(2026, 2, 28, 18, 30, tzinfo=UTC)


def test_day_buckets_follow_the_zone_across_dst() -> None:
    zone = ZoneInfo("America/New_York")  # DST starts 2026-03-08 02:00 local
    p = periods.Period(
        datetime(2026, 3, 7, 5, tzinfo=UTC), datetime(2026, 3, 10, 4, tzinfo=UTC), zone
    )
    bks = periods.buckets(p, "day")
    assert [b.label.isoformat() for b in bks] == [
        "2026-03-07T00:00:00-05:00",
        "2026-03-08T00:00:00-05:00",
        "2026-03-09T00:00:00-04:00",
    ]
    assert bks[1].end - bks[1].start == timedelta(hours=23)
    hours = periods.buckets(p, "hour")
    assert len(hours) == 71 and all(b.end - b.start == timedelta(hours=1) for b in hours)
    with pytest.raises(InvalidInputError, match="hour or day"):
        periods.buckets(p, "week")  # type: ignore[arg-type]


def test_split_reads_edges_hours_to_rebuild_and_open_hours_raw() -> None:
    h = datetime(2026, 3, 10, 8, tzinfo=UTC)
    s = periods.split(
        h + timedelta(minutes=20),
        h + timedelta(hours=4, minutes=5),
        open_hour=h + timedelta(hours=4),
        rebuild_hours={h + timedelta(hours=2)},
    )
    assert (s.h1, s.h2) == (h + timedelta(hours=1), h + timedelta(hours=4))
    assert s.raw == (
        (h + timedelta(minutes=20), h + timedelta(hours=1)),
        (h + timedelta(hours=2), h + timedelta(hours=3)),
        (h + timedelta(hours=4), h + timedelta(hours=4, minutes=5)),
    )


def test_split_joins_touching_raw_intervals_into_one() -> None:
    h = datetime(2026, 3, 10, 8, tzinfo=UTC)
    s = periods.split(
        h + timedelta(minutes=20),
        h + timedelta(hours=30, minutes=5),
        open_hour=h + timedelta(hours=30),
        rebuild_hours={h + timedelta(hours=i) for i in range(1, 30) if i != 12},
    )
    assert len(s.rebuild) == 28  # the rollups of these hours are still left out
    assert s.raw == (
        (h + timedelta(minutes=20), h + timedelta(hours=12)),
        (h + timedelta(hours=13), h + timedelta(hours=30, minutes=5)),
    )


class _Rounds:
    """The scheduler's stop event, for a test: each thread starts with the others, fires
    ``rounds`` times, and never waits between runs."""

    def __init__(self, threads: int, rounds: int) -> None:
        self.barrier = threading.Barrier(threads)
        self.rounds = rounds
        self.done = threading.local()

    def is_set(self) -> bool:
        done = getattr(self.done, "n", None)
        if done is None:
            self.barrier.wait()
            done = 0
        self.done.n = done + 1
        return done >= self.rounds

    def wait(self, timeout: float | None = None) -> bool:
        return False

    def set(self) -> None:
        pass


class _NoOp:
    def invoke(self, event: dict, *, check_size: bool = True) -> None:
        return None


def test_runs_of_one_function_from_several_schedules_are_all_counted() -> None:
    # Given eight schedules of one function, each on its own thread, switching threads often
    schedules = tuple(Schedule("rollup", "rate(1 hour)", f"run {n}") for n in range(8))
    scheduler = Scheduler(schedules, {"rollup": _NoOp()}, "us-east-1")  # type: ignore[dict-item]
    scheduler.stopping = _Rounds(len(schedules), 20_000)  # type: ignore[assignment]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        # When each fires 20,000 times at once
        scheduler.start()
        for thread in scheduler._threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    # Then every run is counted
    assert scheduler.fired == {"rollup": 8 * 20_000}
