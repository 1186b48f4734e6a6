"""Retention: cohorts of users by the day or week they were first seen, and the share of each
that came back in every later period of the range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from pulse.analytics import periods
from pulse.analytics.periods import EARLIEST, HOUR, Bucket, Period
from pulse.analytics.splits import splits_of
from pulse.data import retention as sql
from pulse.data.analytics import dirty_hours
from pulse.db.connection import snapshot
from pulse.exceptions import InvalidInputError
from pulse.models.retention import RetentionCohortOut, RetentionOut, RetentionPeriod

MAX_PERIODS = 120


def period_buckets(period: Period, unit: RetentionPeriod) -> list[Bucket]:
    """The range's days, or its weeks (Monday to Monday in the range's time zone), the first
    and last clipped to the range."""
    days = periods.buckets(period, "day")
    if unit == "day":
        out = days
    else:
        out = []
        for day in days:
            if out and day.label.weekday() != 0:
                last = out[-1]
                out[-1] = Bucket(last.label, last.start, day.end)
            else:
                # The week's nominal start: its Monday's midnight, before the range for the first.
                naive = day.label.replace(tzinfo=None) - timedelta(days=day.label.weekday())
                out.append(Bucket(naive.replace(tzinfo=period.tz), day.start, day.end))
    if len(out) > MAX_PERIODS:
        raise InvalidInputError(
            f"period: the range holds {len(out)} {unit}s, at most {MAX_PERIODS}",
            details=[
                {
                    "field": "period",
                    "message": f"the range holds {len(out)} {unit}s, at most {MAX_PERIODS}",
                }
            ],
        )
    return out


def _raw_before(
    project_id: UUID, start: datetime, rolled_before: datetime
) -> list[tuple[datetime, datetime]]:
    """The intervals before ``start`` that the presence chain may not cover: the dirty hours
    (not rolled up yet, or only in part) and the part of ``start``'s hour before it; joined."""
    hours = sorted(dirty_hours(project_id=project_id, start=EARLIEST, end=rolled_before))
    spans = [(h, h + HOUR) for h in hours]
    if rolled_before < start:
        spans.append((rolled_before, start))
    return periods.joined(spans)


def retention(
    project_id: UUID,
    period: Period,
    unit: RetentionPeriod,
    return_event: str | None,
    now: datetime | None = None,
) -> RetentionOut:
    bks = period_buckets(period, unit)
    rolled_before = periods.floor_hour(period.start)
    # The hours to rebuild, the dirty hours and the presence rows as of one moment: an event
    # written in between (its hour newly dirty) would otherwise be neither read raw nor in the
    # presence rows.
    with snapshot():
        sizes, returns = sql.cohort_activity(
            project_id=project_id,
            splits=splits_of(project_id, [(b.start, b.end) for b in bks], now or datetime.now(UTC)),
            return_event=return_event,
            rolled_before=rolled_before,
            raw_before=_raw_before(project_id, period.start, rolled_before),
        )
    cohorts = []
    for c, bucket in enumerate(bks):
        size = sizes.get(c, 0)
        counts = [returns.get((c, p), 0) for p in range(c, len(bks))]
        cohorts.append(
            RetentionCohortOut(
                cohort=bucket.label,
                size=size,
                counts=counts,
                shares=[n / size if size else 0.0 for n in counts],
            )
        )
    return RetentionOut(
        period=unit,
        return_event=return_event,
        start=period.start,
        end=period.end,
        tz=period.tz.key,
        periods=[b.label for b in bks],
        cohorts=cohorts,
    )
