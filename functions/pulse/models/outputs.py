"""Response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from pulse.models.stored import ProjectRow, ShareLinkRow, UserRow


class UserOut(BaseModel):
    id: UUID
    email: str
    created_at: datetime

    @classmethod
    def of(cls, row: UserRow) -> UserOut:
        return cls(id=row.id, email=row.email, created_at=row.created_at)


class RegistrationOut(BaseModel):
    """The answer to every valid registration, whether the email was free or already taken."""

    email: str
    status: Literal["accepted"] = "accepted"
    message: str = "if this email is not registered yet, its account is created; log in with it"


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class ProjectOut(BaseModel):
    id: UUID
    name: str
    domain: str | None
    api_key: str
    keep_bots: bool = Field(
        description="Keep the events of bots (crawlers, headless browsers, HTTP libraries) "
        "instead of dropping them at ingest and counting them in `bots_filtered`"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ProjectRow) -> ProjectOut:
        return cls(
            id=row.id,
            name=row.name,
            domain=row.domain,
            api_key=row.api_key,
            keep_bots=row.keep_bots,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class ProjectListOut(BaseModel):
    projects: list[ProjectOut]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] = []


class ErrorOut(BaseModel):
    """The one shape of every error response."""

    error: ErrorBody


class HealthOut(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    redis: Literal["ok"]


class ShareLinkOut(BaseModel):
    id: UUID
    project_id: UUID
    label: str | None
    has_password: bool
    allow_raw: bool
    created_at: datetime

    @classmethod
    def of(cls, row: ShareLinkRow) -> ShareLinkOut:
        return cls(
            id=row.id,
            project_id=row.project_id,
            label=row.label,
            has_password=row.password_hash is not None,
            allow_raw=row.allow_raw,
            created_at=row.created_at,
        )


class ShareLinkCreatedOut(ShareLinkOut):
    """A new link, with its token: shown this once (only a hash of it is kept)."""

    token: str
    path: str = Field(description="The dashboard's share view of this link, from the site root")


class ShareLinkListOut(BaseModel):
    links: list[ShareLinkOut]


class ShareSessionOut(BaseModel):
    """A share session: a bearer token for the project's analytics routes (read only)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    project_id: UUID
    project_name: str
    allow_raw: bool


class VisitorsNowOut(BaseModel):
    """Unique sessions with an event in the last ``window_s`` seconds, exact."""

    visitors: int
    window_s: int
    at: datetime = Field(description="The moment counted")
    next_change_at: datetime | None = Field(
        description="When the count drops next if no event comes (the oldest session counted "
        "leaves the window); null when nobody is counted"
    )
