"""Parse an ingest body and validate each event; one bad event does not sink the batch.

An event is refused when Postgres could not store it, or would store something else than was
sent: a NUL character (``\\u0000``) in any string or key (text and jsonb refuse it), a number
orjson would not keep (an integer a double would round, a number beyond a double's range),
a timestamp outside years 1–9999, properties nested deeper than the stream record can hold. So
that the common body pays almost nothing, two looks at its raw bytes decide whether the events
need the careful walk (``_check_storable``) at all.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from pulse.exceptions import InvalidInputError, MalformedRequestError, PayloadTooLargeError
from pulse.ingest import config as c

# JSON can write a NUL character only as this escape (a raw 0x00 is not valid JSON, and the four
# digits have no letter case). Its bytes also match an escaped backslash followed by "u0000",
# which is text: finding them only sends the events to the walk, which looks at parsed strings.
_NUL_ESCAPE = b"\\u0000"
# Number literals orjson would not keep as sent show in the body's bytes, once every digit is
# made "0" (and "E" "e"): 19 digits in a row or more (an integer beyond 64 bits, or a nonzero
# number too small for a double written out) or a negative exponent of 3 digits or more ending
# the number (1e-400, which would become 0). A shorter literal is an exact 64-bit integer or a
# double (orjson refuses a body with 1e400: it goes the careful way too). Digits in strings can
# match as well: that body is only read again more slowly; a uuid never matches.
_NUMBER_SHAPES = bytes.maketrans(b"123456789E", b"000000000e")
_LONG_DIGITS = b"0" * 19
_TINY_EXPONENT = re.compile(rb"0e-000+[,}\] \t\r\n]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_INT_RANGE = (-(2**63), 2**64 - 1)  # what orjson reads as an integer
_DOUBLE_MAX_DIGITS = 309  # an integer with more digits is beyond a double's range (1.8e308)
# orjson writes 254 levels of objects and lists at most, and the stream record holds properties
# three levels down (record, event list, event): properties itself and 250 levels inside it.
MAX_PROPERTIES_NESTING = 250


class _Unkept:
    """A number of the body that would not be stored as sent, in place of its value."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _int_literal(literal: str) -> int | float | _Unkept:
    digits = literal.lstrip("-")
    if len(digits) < 19:
        return int(literal)
    if len(digits) <= _DOUBLE_MAX_DIGITS:
        value = int(literal)
        if _INT_RANGE[0] <= value <= _INT_RANGE[1]:
            return value
        from decimal import Decimal  # (rare: not worth its import at cold start)

        try:
            as_double = float(value)
        except OverflowError:  # 309 digits, yet beyond a double's range
            pass
        else:
            if Decimal(repr(as_double)) == value:  # what orjson writes back is this number
                return as_double  # (1e20 written out; 2**64 as JavaScript writes it)
    shown = literal if len(literal) <= 24 else literal[:20] + "…"
    return _Unkept(
        f"is an integer beyond 64 bits ({shown}) that would be rounded; send it as a string"
    )


def _float_literal(literal: str) -> float | _Unkept:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        return _Unkept("is a number out of range (beyond ±1.8e308)")
    if value == 0.0 and literal.lower().partition("e")[0].strip("-+0.") != "":
        return _Unkept("is a number out of range (too small: it would be stored as 0)")
    return value


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _careful_loads(body: bytes) -> Any:
    """The body parsed with every number literal at hand (the standard library's parser, slower
    than orjson): a number that would not be kept becomes an ``_Unkept``, which refuses its
    event."""
    return json.loads(
        body.decode(),
        parse_int=_int_literal,
        parse_float=_float_literal,
        parse_constant=_not_json,
    )


def _loads(body: bytes) -> tuple[Any, bool]:
    """The body's document, and whether its events need the careful walk (``_check_storable``):
    a few microseconds of looking at the bytes spare the common body the walk."""
    shapes = body.translate(_NUMBER_SHAPES)
    if _LONG_DIGITS in shapes or _TINY_EXPONENT.search(shapes) is not None:
        return _careful_loads(body), True
    try:
        return orjson.loads(body), _NUL_ESCAPE in body
    except orjson.JSONDecodeError:
        # A number beyond a double's range (1e400) is the one thing of JSON orjson cannot read:
        # read the careful way, it refuses its event alone. What is not JSON fails there too.
        return _careful_loads(body), True


def _check_storable(event: dict[str, Any]) -> None:
    """Raise ValueError naming the first string, key or number of the event that cannot be
    stored as sent (at any depth, without recursion: orjson reads 1024 levels)."""
    stack: list[tuple[str, Any]] = [("", event)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            _check_text(value, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, f"a key in {path}" if path else "a key of the event")
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, _Unkept):
            raise ValueError(f"{_shown(path)} {value.reason}")


def _check_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise ValueError(
            f"{_shown(where)} contains a NUL character (\\u0000), which cannot be stored"
        )
    if _LONE_SURROGATE.search(text):  # only from the careful parse; orjson refuses them
        raise ValueError(f"{_shown(where)} contains a lone surrogate, which is not Unicode")


def _shown(path: str) -> str:
    return path if len(path) <= 120 else path[:117] + "…"


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
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # "9999-12-31T23:59:59-01:00" is past year 9999 in UTC
        raise ValueError(f"{what} is out of range (years 1 to 9999 in UTC)") from exc


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


def _one_event(raw: Any, *, now: datetime, skew_s: float, careful: bool) -> ValidEvent:
    if not isinstance(raw, dict):
        raise ValueError("event must be a JSON object")
    if careful:
        _check_storable(raw)
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
    try:
        # Written three levels down, as in the stream record, so that nesting the record could
        # not hold fails here, for this event alone (the three lists add six brackets).
        size = len(orjson.dumps([[[properties]]])) - 6
    except orjson.JSONEncodeError as exc:
        raise ValueError(
            f"properties are nested more than {MAX_PROPERTIES_NESTING} levels deep"
        ) from exc
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
            try:
                timestamp = datetime.fromtimestamp(timestamp.timestamp() + skew_s, UTC)
            except (ValueError, OverflowError, OSError) as exc:
                raise ValueError(
                    "timestamp is out of range once moved by the client's clock skew"
                ) from exc
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
        doc, careful = _loads(body)
    except (ValueError, RecursionError) as exc:  # orjson.JSONDecodeError is a ValueError
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
            batch.events.append(_one_event(raw, now=now, skew_s=skew_s, careful=careful))
        except ValueError as exc:
            batch.rejected.append({"index": index, "error": str(exc)})
            continue
        if raw.get("timestamp") is None and raw.get("uuid") is not None:
            check = True  # stamped with this delivery's clock; a retry gets another stamp
    batch.check_duplicates = check
    return batch
