"""Time ranges and buckets: half-open [from, to) in UTC, bucket boundaries in a time zone, and
which parts of a range can be read from rollups and which must be read from raw events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pulse.exceptions import InvalidInputError

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MAX_RANGE = timedelta(days=400)
MAX_BUCKETS = 10_000
# Instants a query may name (from, to, a cursor's time): far from the ends of datetime (years 1
# and 9999), so that the period before, the buckets and their time zones never overflow.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
RANGES = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
Interval = Literal["hour", "day"]


def _invalid(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(f"{field}: {message}", details=[{"field": field, "message": message}])


def floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def ceil_hour(t: datetime) -> datetime:
    f = floor_hour(t)
    return f if f == t else f + HOUR


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    tz: ZoneInfo

    def previous(self) -> Period:
        length = self.end - self.start
        return Period(self.start - length, self.start, self.tz)


def parse_tz(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _invalid("tz", f"unknown time zone {name!r}") from exc


def _parse_instant(value: str, field: str, tz: ZoneInfo) -> datetime:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _invalid(field, "is not an ISO 8601 date or time") from exc
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz)  # a local time in the requested zone
    try:
        t = t.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise _invalid(field, "is out of range (years 1900 to 9000)") from exc
    if not in_range(t):
        raise _invalid(field, "is out of range (years 1900 to 9000)")
    return t


def in_range(t: datetime) -> bool:
    """Whether an instant lies in the years a query may name (``EARLIEST`` to ``LATEST``)."""
    return EARLIEST <= t <= LATEST


def parse_period(
    *,
    start: str | None,
    end: str | None,
    range_: str | None,
    tz: str | None,
    now: datetime,
) -> Period:
    zone = parse_tz(tz)
    if start is not None or end is not None:
        if range_ is not None:
            raise _invalid("range", "give either range or from/to, not both")
        if start is None or end is None:
            raise _invalid("from" if start is None else "to", "from and to go together")
        period = Period(_parse_instant(start, "from", zone), _parse_instant(end, "to", zone), zone)
    else:
        length = RANGES.get(range_ or "7d")
        if length is None:
            raise _invalid("range", f"must be one of {', '.join(RANGES)}")
        period = Period(now - length, now, zone)
    if period.start >= period.end:
        raise _invalid("from", "must be before to")
    if period.end - period.start > MAX_RANGE:
        raise _invalid("to", "the range may span at most 400 days")
    return period


@dataclass(frozen=True)
class Bucket:
    label: datetime  # the bucket's nominal start, in the period's time zone
    start: datetime  # UTC, clipped to the period
    end: datetime


def buckets(period: Period, interval: Interval) -> list[Bucket]:
    """Buckets covering the period; boundaries fall on the hours or midnights of the period's
    time zone; the first and last are clipped to the period."""
    if interval not in ("hour", "day"):
        raise _invalid("interval", "must be hour or day")
    local = period.start.astimezone(period.tz)
    if interval == "hour":
        cursor = local.replace(minute=0, second=0, microsecond=0)
    else:
        cursor = local.replace(hour=0, minute=0, second=0, microsecond=0)
    out: list[Bucket] = []
    while True:
        if interval == "hour":
            # Step in UTC so that a repeated or skipped local hour (DST) is still one hour.
            nxt = (cursor.astimezone(UTC) + HOUR).astimezone(period.tz)
        else:
            naive = cursor.replace(tzinfo=None) + timedelta(days=1)
            nxt = naive.replace(tzinfo=period.tz)
        bucket_start = max(cursor.astimezone(UTC), period.start)
        bucket_end = min(nxt.astimezone(UTC), period.end)
        if bucket_start < bucket_end:
            out.append(Bucket(cursor, bucket_start, bucket_end))
        if nxt.astimezone(UTC) >= period.end:
            break
        cursor = nxt
        if len(out) > MAX_BUCKETS:
            raise _invalid("interval", f"more than {MAX_BUCKETS} buckets; use a coarser interval")
    return out


@dataclass(frozen=True)
class Split:
    """How one bucket [start, end) is read.

    ``h1``..``h2``: the whole hours inside the bucket that have closed. They are read from their
    rollups plus the queue of their events not rolled up yet (``rollup_queue``), both in one
    snapshot, except the hours in ``rebuild``: those marked for a rebuild, whose rollups are
    stale until it runs. Presence sets serve the unique counts of all of them (a value of the
    queue or of ``raw`` is counted where the presence rows do not have it yet). ``raw``: the
    intervals read from raw events — partial hours at the edges, the hours to rebuild, and the
    open hour.
    """

    start: datetime
    end: datetime
    h1: datetime
    h2: datetime
    rebuild: tuple[datetime, ...]
    raw: tuple[tuple[datetime, datetime], ...]

    def whole_utc_days(self) -> tuple[datetime, datetime]:
        """The first and the last UTC midnight inside the closed hours [h1, h2], whose whole UTC
        days between them the day tables serve; (h2, h2) when no whole day lies inside."""
        first = utc_midnight(self.h1)
        d1 = first if first == self.h1 else first + DAY
        d2 = utc_midnight(self.h2)
        return (d1, d2) if d1 < d2 else (self.h2, self.h2)


def utc_midnight(t: datetime) -> datetime:
    """The UTC midnight at or before ``t``."""
    return t.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def split(
    start: datetime, end: datetime, *, open_hour: datetime, rebuild_hours: set[datetime]
) -> Split:
    h1 = min(ceil_hour(start), end)
    h2 = max(h1, min(floor_hour(end), open_hour))
    raw: list[tuple[datetime, datetime]] = []
    if start < h1:
        raw.append((start, h1))
    rebuild = tuple(sorted(h for h in rebuild_hours if h1 <= h < h2))
    raw.extend((h, h + HOUR) for h in rebuild)
    if h2 < end:
        raw.append((h2, end))
    return Split(start, end, h1, h2, rebuild, tuple(joined(raw)))


def joined(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted intervals with the touching ones joined: a week of dirty hours is one range scan
    of the raw events, not 168 (which the planner could not estimate, and read slowly)."""
    out: list[tuple[datetime, datetime]] = []
    for a, b in intervals:
        if out and out[-1][1] >= a:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def raw_split(start: datetime, end: datetime) -> Split:
    """A bucket read wholly from raw events (a filtered report: rollups hold no filters)."""
    return Split(start, end, start, start, (), ((start, end),))
