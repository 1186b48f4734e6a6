"""Parse an ingest body and validate each event; one bad event does not sink the batch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from pulse.exceptions import InvalidInputError, MalformedRequestError, PayloadTooLargeError
from pulse.ingest import config as c


@dataclass(frozen=True)
class ValidEvent:
    id: str
    event: str
    properties: dict[str, Any]
    distinct_id: str | None
    session_id: str | None
    page_url: str | None
    referrer: str | None
    timestamp: datetime


@dataclass
class ParsedBatch:
    api_key: str | None
    events: list[ValidEvent] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    # True when a retry of these events could carry other timestamps than this delivery (skew
    # corrected, or a client uuid with the server's clock as timestamp): the processor must then
    # look their uuids up instead of relying on the primary key.
    check_duplicates: bool = False


def parse_timestamp(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{what} is not a valid ISO 8601 timestamp") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _optional_str(raw: dict[str, Any], name: str, limit: int) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and name == "distinct_id":
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return value or None


def clock_skew(now: datetime, sent_at: datetime) -> tuple[float, bool]:
    """The correction to add to the client's timestamps, and whether a retry of the batch may
    carry other timestamps (so that its events need their uuids looked up)."""
    measured = (now - sent_at).total_seconds()
    correction = measured if abs(measured) >= c.SKEW_TOLERANCE_S else 0.0
    return correction, abs(measured) >= c.SKEW_CHECK_S


def _one_event(raw: Any, *, now: datetime, skew_s: float) -> ValidEvent:
    if not isinstance(raw, dict):
        raise ValueError("event must be a JSON object")
    name = raw.get("event")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("event name is required (a non-empty string)")
    if len(name) > c.MAX_EVENT_NAME_CHARS:
        raise ValueError(f"event name is longer than {c.MAX_EVENT_NAME_CHARS} characters")
    properties = raw.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise ValueError("properties must be a JSON object")
    size = len(orjson.dumps(properties))
    if size > c.MAX_PROPERTIES_BYTES:
        raise ValueError(f"properties are {size} bytes, over the {c.MAX_PROPERTIES_BYTES} limit")
    raw_uuid = raw.get("uuid")
    if raw_uuid is None:
        event_id = str(uuid.uuid4())
    else:
        try:
            event_id = str(uuid.UUID(str(raw_uuid)))
        except ValueError as exc:
            raise ValueError("uuid is not a valid UUID") from exc
    if raw.get("timestamp") is None:
        timestamp = now
    else:
        timestamp = parse_timestamp(raw["timestamp"], "timestamp")
        if skew_s:
            timestamp = datetime.fromtimestamp(timestamp.timestamp() + skew_s, UTC)
        age = (now - timestamp).total_seconds()
        if age > c.MAX_PAST_S:
            raise ValueError("timestamp is more than 31 days in the past")
        if -age > c.MAX_FUTURE_S:
            raise ValueError("timestamp is more than 1 hour in the future")
    return ValidEvent(
        id=event_id,
        event=name,
        properties=properties,
        distinct_id=_optional_str(raw, "distinct_id", c.MAX_ID_CHARS),
        session_id=_optional_str(raw, "session_id", c.MAX_ID_CHARS),
        page_url=_optional_str(raw, "page_url", c.MAX_URL_CHARS),
        referrer=_optional_str(raw, "referrer", c.MAX_URL_CHARS),
        timestamp=timestamp,
    )


def parse_body(body: bytes, *, now: datetime) -> ParsedBatch:
    """Raise for a body nothing can be taken from; else return good events and rejections."""
    if len(body) > c.MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"body is over {c.MAX_BODY_BYTES} bytes")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedRequestError("body is not valid JSON") from exc
    if not isinstance(doc, dict):
        raise MalformedRequestError('body must be a JSON object with an "events" list')
    api_key = doc.get("api_key")
    events = doc.get("events")
    if not isinstance(events, list) or not events:
        raise InvalidInputError('"events" must be a non-empty list')
    if len(events) > c.MAX_EVENTS_PER_REQUEST:
        raise InvalidInputError(
            f"at most {c.MAX_EVENTS_PER_REQUEST} events a request, got {len(events)}"
        )
    skew_s, check = 0.0, False
    if doc.get("sent_at") is not None:
        try:
            skew_s, check = clock_skew(now, parse_timestamp(doc["sent_at"], "sent_at"))
        except ValueError as exc:
            raise InvalidInputError(str(exc)) from exc
    retry = doc.get("retry")
    if retry is not None and not (
        isinstance(retry, bool) or (isinstance(retry, int) and retry >= 0)
    ):
        raise InvalidInputError('"retry" must be true/false or the attempt number (0 the first)')
    if retry:
        check = True  # a resend: its first try may have been stored at other timestamps
    batch = ParsedBatch(api_key=api_key if isinstance(api_key, str) and api_key else None)
    for index, raw in enumerate(events):
        try:
            batch.events.append(_one_event(raw, now=now, skew_s=skew_s))
        except ValueError as exc:
            batch.rejected.append({"index": index, "error": str(exc)})
            continue
        if raw.get("timestamp") is None and raw.get("uuid") is not None:
            check = True  # stamped with this delivery's clock; a retry gets another stamp
    batch.check_duplicates = check
    return batch
