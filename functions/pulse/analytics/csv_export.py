"""Reports as CSV: the same rows as the JSON report, one table per report.

The cells are written by the standard ``csv`` module (RFC 4180: a cell holding a comma, a quote
or a line break is quoted, quotes doubled; lines end with CRLF). A text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe (``'=1+1``), so
that a spreadsheet opening the file shows the text instead of running it as a formula (the
OWASP "CSV injection" advice). Numbers are written as numbers and never prefixed; times are ISO
8601 in UTC; JSON properties are one JSON text cell.

The raw events of a range are exported in pages (``events_page``), each read through a
server-side cursor and cut to fit one API response (docs/architecture.md, "CSV export").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson

Report = Literal[
    "overview",
    "timeseries",
    "top-events",
    "sessions",
    "users",
    "events",
    "pages",
    "referrers",
    "utm-sources",
    "visitors-now",
]
REPORTS: tuple[str, ...] = Report.__args__  # type: ignore[attr-defined]
# Reports whose rows are raw data (a share link reads them only when it allows it).
RAW_REPORTS = frozenset({"sessions", "users", "events"})

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """One value as a CSV cell: text guarded against formulas, times in ISO 8601, JSON for
    objects, empty for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = orjson.dumps(value).decode()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def table(report: str, data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The columns and rows of a report's JSON answer."""
    if report == "overview":
        cols = ["period", "total_events", "unique_sessions", "unique_users", "bots_filtered"]
        cols += ["top_event", "top_event_count"]
        rows = []
        for period, block in (("current", data), ("previous", data["previous"])):
            top = block.get("top_event") or {}
            rows.append([period, *(block[c] for c in cols[1:5]), top.get("name"), top.get("count")])
        return cols, rows
    if report == "timeseries":
        cols = ["bucket", "count", "unique_sessions"]
        return cols, [[p[c] for c in cols] for p in data["points"]]
    if report == "top-events":
        cols = ["name", "count", "unique_users"]
        return cols, [[e[c] for c in cols] for e in data["events"]]
    if report in ("pages", "referrers", "utm-sources"):
        cols = ["value", "count", "unique_sessions", "unique_users"]
        return cols, [[i[c] for c in cols] for i in data["items"]]
    if report == "sessions":
        cols = ["session_id", "started_at", "ended_at", "duration_s", "events", "page_views"]
        cols += ["distinct_id", "entry_page"]
        return cols, [[s[c] for c in cols] for s in data["list"]]
    if report == "users":
        cols = ["distinct_id", "first_seen", "last_seen", "event_count", "properties"]
        return cols, [[u[c] for c in cols] for u in data["users"]]
    if report == "events":
        return EVENT_COLUMNS, [[e[c] for c in EVENT_COLUMNS] for e in data["events"]]
    if report == "visitors-now":
        cols = ["at", "visitors", "window_s"]
        return cols, [[data[c] for c in cols]]
    raise ValueError(f"no CSV table for {report}")


EVENT_COLUMNS = [
    "uuid",
    "timestamp",
    "event",
    "distinct_id",
    "session_id",
    "page_url",
    "referrer",
    "received_at",
    "properties",
]


class _Line:
    """A file-like sink ``csv.writer`` writes one line into at a time."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def write(self, text: str) -> int:
        return self.buffer.write(text)

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def lines(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, header: bool = True
) -> Iterator[str]:
    """The header (unless ``header`` is false) and the rows as CSV text, a few hundred rows at a
    time (constant memory whatever the number of rows)."""
    sink = _Line()
    writer = csv.writer(sink, lineterminator="\r\n")
    if header:
        writer.writerow(columns)
        yield sink.take()
    for n, row in enumerate(rows, 1):
        writer.writerow([cell(v) for v in row])
        if n % 500 == 0:
            yield sink.take()
    rest = sink.take()
    if rest:
        yield rest


def render(report: str, data: dict[str, Any], *, header: bool = True) -> str:
    """The report's CSV; without the header row for a page after the first (the pages of a
    paged report then join into one file)."""
    columns, rows = table(report, data)
    return "".join(lines(columns, rows, header=header))


# A page of the raw-events export stays under API Gateway's and Lambda's 6 MB response limit
# as the Lambda runtime sends it (the body inside a JSON document, escaped, non-ASCII as \uXXXX).
PAGE_BUDGET_BYTES = 5_000_000
PAGE_MAX_ROWS = 100_000


@dataclass
class EventsPage:
    text: str
    rows: int
    next_after: tuple[datetime, str] | None


def events_page(
    rows: Iterable[Sequence[Any]],
    *,
    header: bool,
    budget_bytes: int | None = None,
    max_rows: int | None = None,
) -> EventsPage:
    """One page of the raw-events CSV from ``rows`` (``EVENT_COLUMNS``, oldest first): as many
    rows as fit in ``budget_bytes`` as sent (JSON-escaped), at most ``max_rows``; the position
    after its last row when more may follow. Pages joined in order are one CSV file (only the
    first has the header)."""
    budget_bytes = budget_bytes or PAGE_BUDGET_BYTES
    max_rows = max_rows or PAGE_MAX_ROWS
    sink = _Line()
    writer = csv.writer(sink, lineterminator="\r\n")
    parts: list[str] = []
    used = 0
    if header:
        writer.writerow(EVENT_COLUMNS)
        parts.append(sink.take())
        used = len(json.dumps(parts[0]))
    count = 0
    last: Sequence[Any] | None = None
    for row in rows:
        writer.writerow([cell(v) for v in row])
        line = sink.take()
        cost = len(json.dumps(line)) - 2  # without the quotes around a JSON string
        if used + cost > budget_bytes:
            if count == 0:
                raise ValueError("an event is larger than a page")
            return EventsPage("".join(parts), count, _position(last))
        parts.append(line)
        used += cost
        count += 1
        last = row
        if count >= max_rows:
            return EventsPage("".join(parts), count, _position(last))
    return EventsPage("".join(parts), count, None)


def _position(row: Sequence[Any] | None) -> tuple[datetime, str] | None:
    if row is None:
        return None
    return row[EVENT_COLUMNS.index("timestamp")], str(row[EVENT_COLUMNS.index("uuid")])
