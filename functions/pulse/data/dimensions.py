"""What breakdowns group by and filters match, as SQL over an event ``e``.

Rolled-up dimensions are those of a page view that the rollup keeps per hour
(``breakdown_hourly`` counts under the dimension's session kind, presence rows of its session
and user kinds with the value in place of the event name). The rollup queue's trigger
(migrations 0005 and 0007) computes the same expressions; tests/integration/test_breakdowns.py
holds the two to the same results.

Entry and exit pages (a session's first and last page view in the range) and event properties
are read from raw events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pulse.data.sessions import PATH

_DOMAIN = "lower(substring({} from '^[a-z]+://(?:www\\.)?([^/:?#]+)'))"
# The referrer's domain, "(direct)" when none; none at all (left out) for a link inside the site:
# a referrer on the page's own domain is navigation, not a source (as Umami and Plausible count).
REFERRER = (
    f"CASE WHEN {_DOMAIN.format('e.referrer')} = {_DOMAIN.format('e.page_url')} THEN NULL "
    f"ELSE coalesce({_DOMAIN.format('e.referrer')}, '(direct)') END"
)
UTM_SOURCE = "coalesce(e.properties->>'utm_source', '(none)')"
UNKNOWN = "(unknown)"

Counted = Literal["page_views", "events", "sessions"]


@dataclass(frozen=True)
class Dimension:
    name: str
    expr: str  # SQL over the event ``e``
    # The presence kinds of its sessions and its users, and its rollup queue column; None for
    # a dimension read from raw events.
    kinds: tuple[str, str] | None
    counted: Counted


def _visit(column: str) -> str:
    return f"coalesce({column}, '{UNKNOWN}')"


# In the rollup queue's column order (migration 0007 adds all but the first three).
ROLLED: tuple[Dimension, ...] = (
    Dimension("page", PATH, ("p", "P"), "page_views"),
    Dimension("referrer", REFERRER, ("r", "R"), "page_views"),
    Dimension("utm_source", UTM_SOURCE, ("m", "M"), "page_views"),
    Dimension(
        "utm_medium", "coalesce(e.properties->>'utm_medium', '(none)')", ("n", "N"), "page_views"
    ),
    Dimension(
        "utm_campaign",
        "coalesce(e.properties->>'utm_campaign', '(none)')",
        ("g", "G"),
        "page_views",
    ),
    Dimension("browser", _visit("e.browser"), ("b", "B"), "page_views"),
    Dimension("os", _visit("e.os"), ("o", "O"), "page_views"),
    Dimension("device", _visit("e.device"), ("d", "D"), "page_views"),
    Dimension("country", _visit("e.country"), ("c", "C"), "page_views"),
    Dimension("screen", _visit("e.properties->>'screen'"), ("z", "Z"), "page_views"),
    Dimension("language", _visit("e.properties->>'language'"), ("l", "L"), "page_views"),
)

# The rollup queue's column of each rolled-up dimension ("path" was named before the others).
QUEUE_COLUMNS = {d.name: ("path" if d.name == "page" else d.name) for d in ROLLED}

RAW_ONLY: tuple[Dimension, ...] = (
    Dimension("entry_page", PATH, None, "sessions"),
    Dimension("exit_page", PATH, None, "sessions"),
)

PROPERTY = "property"

DIMENSIONS: dict[str, Dimension] = {d.name: d for d in ROLLED + RAW_ONLY}

# What a filter may name besides ``prop.<key>``: every dimension an event has by itself (entry
# and exit pages belong to a session, not an event), and the event's name.
FILTERABLE: dict[str, str] = {d.name: d.expr for d in ROLLED} | {"event": "e.event"}


@dataclass(frozen=True)
class Match:
    """A condition on the event ``e`` (SQL and its parameters): every filter of a report."""

    sql: str = "true"
    params: tuple[tuple[str, str], ...] = ()
    # The filters themselves, (field, value): a name of FILTERABLE or ``prop.<key>``; the
    # archive's reader (pulse.archive.reads) matches them on its own columns.
    terms: tuple[tuple[str, str], ...] = ()

    @property
    def filtered(self) -> bool:
        return bool(self.params)

    @property
    def on_properties(self) -> bool:
        """Whether a filter names an event property (``prop.<key>``)."""
        return any(name.startswith("fk") for name, _ in self.params)

    def args(self) -> dict[str, str]:
        return dict(self.params)


EVERY_EVENT = Match()
PROPERTY_PREFIX = "prop."


def match(filters: list[tuple[str, str]]) -> Match:
    """The events whose ``field`` (a name of FILTERABLE, or ``prop.<key>``) equals ``value``, for
    every (field, value) of ``filters``; the caller has checked the field names."""
    terms: list[str] = []
    params: list[tuple[str, str]] = []
    for i, (field, value) in enumerate(filters):
        if field.startswith(PROPERTY_PREFIX):
            terms.append(f"e.properties->>%(fk{i})s = %(fv{i})s")
            params.append((f"fk{i}", field[len(PROPERTY_PREFIX) :]))
        else:
            terms.append(f"{FILTERABLE[field]} = %(fv{i})s")
        params.append((f"fv{i}", value))
    if not terms:
        return EVERY_EVENT
    return Match(" AND ".join(f"({t})" for t in terms), tuple(params), tuple(filters))
