"""Funnels: the saved and ad-hoc definitions the API takes (input), the rows it stores (stored),
and what it answers (output)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pulse.models.inputs import NO_NUL

MIN_STEPS = 2
MAX_STEPS = 6
MIN_WINDOW_S = 60
MAX_WINDOW_S = 90 * 86_400
DEFAULT_WINDOW = "1d"
_WINDOW = re.compile(r"^([1-9][0-9]{0,5})([mhd])$")
_UNIT_S = {"m": 60, "h": 3_600, "d": 86_400}

CountBy = Literal["session", "user"]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]


def window_seconds(value: str) -> int:
    """``30m``, ``1h``, ``7d`` … in seconds; a ``ValueError`` saying why not otherwise."""
    match = _WINDOW.match(value)
    if not match:
        raise ValueError("must be a number and a unit, m, h or d (30m, 1h, 7d)")
    seconds = int(match.group(1)) * _UNIT_S[match.group(2)]
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        raise ValueError("must be from 1 minute (1m) to 90 days (90d)")
    return seconds


def window_text(seconds: int) -> str:
    """The shortest spelling of a window: ``86400`` → ``1d``, ``5400`` → ``90m``."""
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_S[unit] == 0:
            return f"{seconds // _UNIT_S[unit]}{unit}"
    return f"{seconds}s"  # never stored: windows are whole minutes


# --- input -------------------------------------------------------------------------------------


class PropertyMatch(BaseModel):
    """The event's property ``key`` equals ``value``, compared as text: a JSON string by its
    content, a number or boolean as JSON spells it (``42``, ``true``)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=255, pattern=NO_NUL)
    value: str = Field(max_length=1000, pattern=NO_NUL)


class FunnelStep(BaseModel):
    """An event name, optionally narrowed to a page path (exact, as the pages report spells it)
    and to a property value."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=255, pattern=NO_NUL)
    page: str | None = Field(default=None, min_length=1, max_length=2048, pattern=NO_NUL)
    property: PropertyMatch | None = None

    @field_validator("page")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must be a path starting with / (as in the pages report)")
        return value


Steps = Annotated[list[FunnelStep], Field(min_length=MIN_STEPS, max_length=MAX_STEPS)]


class _Window(BaseModel):
    @field_validator("window", check_fields=False)
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None:
            window_seconds(value)
        return value


class FunnelQueryIn(_Window):
    """An ad-hoc funnel: computed, not saved."""

    model_config = ConfigDict(extra="forbid")

    steps: Steps
    window: str = Field(default=DEFAULT_WINDOW, max_length=16, description="30m, 1h, 1d, 7d …")
    by: CountBy = "session"


class FunnelCreateIn(FunnelQueryIn):
    name: Name


class FunnelUpdateIn(_Window):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    steps: Steps | None = None
    window: str | None = Field(default=None, max_length=16)
    by: CountBy | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> FunnelUpdateIn:
        for field in self.model_fields_set:
            if getattr(self, field) is None:
                raise ValueError(f"{field} may not be null")
        return self


# --- stored ------------------------------------------------------------------------------------


class FunnelRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    project_id: UUID
    name: str
    steps: list[FunnelStep]
    window_s: int
    count_by: CountBy
    created_at: datetime
    updated_at: datetime


# --- output ------------------------------------------------------------------------------------


class FunnelOut(BaseModel):
    id: UUID
    project_id: UUID
    name: str
    steps: list[FunnelStep]
    window: str
    by: CountBy
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: FunnelRow) -> FunnelOut:
        return cls(
            id=row.id,
            project_id=row.project_id,
            name=row.name,
            steps=row.steps,
            window=window_text(row.window_s),
            by=row.count_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class FunnelListOut(BaseModel):
    funnels: list[FunnelOut]


class FunnelStepResult(BaseModel):
    step: FunnelStep
    count: int = Field(description="Sessions or users that reached this step")
    conversion_from_first: float = Field(description="count / the first step's count (0 to 1)")
    conversion_from_previous: float = Field(description="count / the previous step's count")
    drop_off: int = Field(description="The previous step's count minus this one's (0 at step 1)")
    median_seconds_from_previous: float | None = Field(
        description="Median time from the previous step to this one, over those who reached "
        "it; null at step 1 and when nobody reached it"
    )


class FunnelResultOut(BaseModel):
    funnel_id: UUID | None = Field(description="The saved funnel computed, null for ad hoc")
    by: CountBy
    window: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    steps: list[FunnelStepResult]
