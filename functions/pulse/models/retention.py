"""Retention's answer (output): the cohort triangle."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

RetentionPeriod = Literal["day", "week"]


class RetentionCohortOut(BaseModel):
    cohort: datetime = Field(description="The cohort's period start in tz (the first is clipped)")
    size: int = Field(description="Users first seen ever in this period (and in the range)")
    counts: list[int] = Field(
        description="counts[n]: users of the cohort active (or doing return_event) in the n-th "
        "period from their first; as many as periods from this one to the range's end"
    )
    shares: list[float] = Field(description="counts[n] / size (0 when the cohort is empty)")


class RetentionOut(BaseModel):
    period: RetentionPeriod
    return_event: str | None
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    tz: str
    periods: list[datetime] = Field(description="Every period's start in tz, oldest first")
    cohorts: list[RetentionCohortOut]
