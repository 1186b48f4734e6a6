"""How each bucket of a report is read: which of its hours from rollups and presence, which
from raw events (``periods.Split``), as of the hours marked for a rebuild now."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pulse.analytics import periods
from pulse.analytics.periods import Split
from pulse.data.analytics import dirty_hours
from pulse.data.dimensions import EVERY_EVENT, Match


def splits_of(
    project_id: UUID,
    spans: list[tuple[datetime, datetime]],
    now: datetime,
    match: Match = EVERY_EVENT,
) -> list[Split]:
    """A split per span; a filtered report's are wholly raw (rollups hold no filters). Call it
    inside the report's snapshot, so that the hours to rebuild are those its reads see."""
    if match.filtered:
        return [periods.raw_split(s, e) for s, e in spans]
    lo = min(s for s, _ in spans)
    hi = max(e for _, e in spans)
    rebuild = dirty_hours(
        project_id=project_id, start=periods.floor_hour(lo), end=hi, rebuild_only=True
    )
    open_hour = periods.floor_hour(now)
    return [periods.split(s, e, open_hour=open_hour, rebuild_hours=rebuild) for s, e in spans]
