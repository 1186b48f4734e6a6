"""Kinesis records as the ingest function writes them, decoded and checked.

Hand-written checks over ``orjson`` rather than a pydantic model: this runs for every event of
every batch, and it is the processor's largest cost after the COPY itself. A record that fails a
check is reported as a bad record (with the reason) and nothing of it is written.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from pulse.data.bots import Tally
from pulse.data.events import EventRow

RECORD_VERSION = 1
TALLY_KIND = "bots"
MAX_NAME = 255
MAX_VISIT_TEXT = 200  # browser, OS, device type: uap-core's names are far shorter
MAX_TALLY_EVENTS = 100  # the most events one ingest request holds
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class RecordError(ValueError):
    pass


@dataclass(frozen=True)
class DecodedRecord:
    sequence_number: str
    project_id: str
    rows: list[EventRow]
    # The ingest function's word that a retry of these events may carry other timestamps, so
    # their uuids must be looked up (a record without the flag is treated as needing it).
    check: bool = True


@dataclass(frozen=True)
class TallyRecord:
    """A request's events dropped as a bot's, to be counted (``pulse.data.bots``)."""

    sequence_number: str
    tally: Tally


@dataclass(frozen=True)
class BadRecord:
    sequence_number: str
    reason: str


def _uuid(value: Any, what: str) -> str:
    # The ingest function writes canonical (lower-case) UUIDs; anything else is not its record.
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise RecordError(f"{what} is not a canonical UUID")
    return value


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise RecordError(f"{what} is not a timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise RecordError(f"{what} is not an ISO 8601 timestamp") from exc
    if parsed.tzinfo is None:
        raise RecordError(f"{what} has no time zone")
    return parsed


def _opt_str(value: Any, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"{what} is not a string")


def _visit_text(value: Any, what: str) -> str | None:
    text = _opt_str(value, what)
    if text is not None and (len(text) > MAX_VISIT_TEXT or "\x00" in text):
        raise RecordError(f"{what} is not what the ingest function writes")
    return text


def _country(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha():
        return value.upper()
    raise RecordError("country is not a two-letter code")


def tally_of(doc: dict[str, Any]) -> Tally:
    """The tally of a bots record; raises RecordError."""
    events = doc.get("events")
    if isinstance(events, bool) or not isinstance(events, int):
        raise RecordError("tally events is not a count")
    if not 0 < events <= MAX_TALLY_EVENTS:
        raise RecordError("tally events is out of range")
    return Tally(
        _uuid(doc.get("project_id"), "project_id"),
        _uuid(doc.get("id"), "tally id"),
        _time(doc.get("received_at"), "received_at"),
        events,
    )


def rows_of(doc: Any) -> tuple[str, list[EventRow]]:
    """The project id and the event rows of one decoded record; raises RecordError."""
    if not isinstance(doc, dict):
        raise RecordError("record is not a JSON object")
    if doc.get("v") != RECORD_VERSION:
        raise RecordError("unknown record version")
    project_id = _uuid(doc.get("project_id"), "project_id")
    received_at = _time(doc.get("received_at"), "received_at")
    ip_hash = _opt_str(doc.get("ip_hash"), "ip_hash")
    # What a visit is (absent from records written before the ingest function knew it).
    browser = _visit_text(doc.get("browser"), "browser")
    os = _visit_text(doc.get("os"), "os")
    device = _visit_text(doc.get("device"), "device")
    country = _country(doc.get("country"))
    events = doc.get("events")
    if not isinstance(events, list) or not events:
        raise RecordError("record has no events")
    rows: list[EventRow] = []
    for ev in events:
        if not isinstance(ev, dict):
            raise RecordError("event is not a JSON object")
        name = ev.get("event")
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
            raise RecordError("event name is missing or too long")
        properties = ev.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            raise RecordError("properties are not a JSON object")
        rows.append(
            (
                project_id,
                _uuid(ev.get("id"), "event id"),
                name,
                _opt_str(ev.get("distinct_id"), "distinct_id"),
                orjson.dumps(properties).decode(),
                _opt_str(ev.get("session_id"), "session_id"),
                _opt_str(ev.get("page_url"), "page_url"),
                _opt_str(ev.get("referrer"), "referrer"),
                # The raw User-Agent is not kept (docs/security.md); a record put on the stream
                # before that change may still carry one, which is ignored.
                None,
                ip_hash,
                _time(ev.get("timestamp"), "timestamp"),
                received_at,
                browser,
                os,
                device,
                country,
            )
        )
    return project_id, rows


def decode(kinesis_record: dict[str, Any]) -> DecodedRecord | TallyRecord | BadRecord:
    kinesis = kinesis_record.get("kinesis") or {}
    seq = str(kinesis.get("sequenceNumber", ""))
    try:
        raw = binascii.a2b_base64(kinesis["data"], strict_mode=True)
        doc = orjson.loads(raw)
        if isinstance(doc, dict) and doc.get("kind") is not None:
            if doc.get("v") != RECORD_VERSION or doc["kind"] != TALLY_KIND:
                raise RecordError("unknown record kind")
            return TallyRecord(seq, tally_of(doc))
        project_id, rows = rows_of(doc)
    except (
        KeyError,
        binascii.Error,
        orjson.JSONDecodeError,
        orjson.JSONEncodeError,  # properties nested deeper than orjson writes (254 levels)
        RecordError,
    ) as exc:
        return BadRecord(seq, f"{type(exc).__name__}: {exc}"[:300])
    return DecodedRecord(seq, project_id, rows, doc.get("check") is not False)
