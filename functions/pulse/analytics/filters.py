"""The ``filter`` parameters of the analytics reports: ``field:value``, combined with AND.

``field`` is a dimension an event has by itself (``country``, ``page``, ``browser``, …, see
``pulse.data.dimensions.FILTERABLE``) or ``prop.<key>`` for an event property (compared as
text). A filtered report is the report over the events that match every filter."""

from __future__ import annotations

from pulse.data.dimensions import FILTERABLE, PROPERTY_PREFIX, Match, match
from pulse.exceptions import InvalidInputError

__all__ = ["FILTERABLE", "parse"]

MAX_FILTERS = 10
MAX_VALUE = 1000
MAX_KEY = 255


def _bad(message: str) -> InvalidInputError:
    return InvalidInputError(
        f"filter: {message}", details=[{"field": "filter", "message": message}]
    )


def parse(raw: list[str] | None) -> Match:
    """The events matching every ``filter`` given; anything malformed is a 422 that says why."""
    if not raw:
        return match([])
    if len(raw) > MAX_FILTERS:
        raise _bad(f"at most {MAX_FILTERS} filters")
    parsed: list[tuple[str, str]] = []
    for item in raw:
        field, sep, value = item.partition(":")
        if not sep:
            raise _bad(f"{item[:80]!r} is not field:value (e.g. country:DE, prop.plan:pro)")
        if "\x00" in item:
            raise _bad("may not contain NUL characters")
        if field.startswith(PROPERTY_PREFIX):
            key = field[len(PROPERTY_PREFIX) :]
            if not key or len(key) > MAX_KEY:
                raise _bad(f"a property name is 1 to {MAX_KEY} characters (prop.<name>:value)")
        elif field not in FILTERABLE:
            raise _bad(
                f"unknown field {field[:80]!r}; one of {', '.join(FILTERABLE)} or prop.<name>"
            )
        if not value:
            raise _bad(f"{field[:80]}: the value is empty")
        if len(value) > MAX_VALUE:
            raise _bad(f"{field[:80]}: the value is longer than {MAX_VALUE} characters")
        parsed.append((field, value))
    return match(parsed)
