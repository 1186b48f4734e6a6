"""Rows as the data layer returns them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class UserRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    email: str
    password_hash: str
    created_at: datetime
    updated_at: datetime


class ProjectRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    owner_id: UUID
    name: str
    api_key: str
    domain: str | None
    keep_bots: bool = False
    created_at: datetime
    updated_at: datetime


class ShareLinkRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    project_id: UUID
    token_hash: str
    label: str | None
    password_hash: str | None
    allow_raw: bool
    created_at: datetime
