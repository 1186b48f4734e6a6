"""Kinesis records as the ingest function writes them, decoded and validated."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pulse.data.events import EventRow


class RecordEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    event: str = Field(min_length=1, max_length=255)
    properties: dict[str, Any] = Field(default_factory=dict)
    distinct_id: str | None = None
    session_id: str | None = None
    page_url: str | None = None
    referrer: str | None = None
    timestamp: datetime


class EventsRecord(BaseModel):
    """One Kinesis record: a group of events of one project (and usually one session)."""

    model_config = ConfigDict(extra="ignore")

    v: int = Field(ge=1, le=1)
    project_id: UUID
    received_at: datetime
    user_agent: str | None = None
    ip_hash: str | None = None
    events: list[RecordEvent] = Field(min_length=1)

    def rows(self) -> list[EventRow]:
        return [
            (
                self.project_id,
                ev.id,
                ev.event,
                ev.distinct_id,
                json.dumps(ev.properties, separators=(",", ":"), ensure_ascii=False),
                ev.session_id,
                ev.page_url,
                ev.referrer,
                self.user_agent,
                self.ip_hash,
                ev.timestamp,
                self.received_at,
            )
            for ev in self.events
        ]


@dataclass(frozen=True)
class DecodedRecord:
    sequence_number: str
    record: EventsRecord


@dataclass(frozen=True)
class BadRecord:
    sequence_number: str
    reason: str


def decode(kinesis_record: dict[str, Any]) -> DecodedRecord | BadRecord:
    kinesis = kinesis_record.get("kinesis") or {}
    seq = str(kinesis.get("sequenceNumber", ""))
    try:
        raw = base64.b64decode(kinesis["data"], validate=True)
        return DecodedRecord(seq, EventsRecord.model_validate_json(raw))
    except (KeyError, ValueError, ValidationError) as exc:
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        return BadRecord(seq, f"{type(exc).__name__}: {reason}"[:300])
