"""CSV exports of the reports through the real "api" handler: each one holds exactly the rows
of the JSON report for the same parameters; cells are quoted and guarded against formulas."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pulse.analytics.csv_export import cell
from pulse.data.events import write_events
from tests.integration.conftest import ApiCall

NOW = datetime.now(UTC).replace(microsecond=0)
NASTY = ['=HYPERLINK("http://evil.test","x")', "+1", "-2+3", "@SUM(A1)", 'a,b "c"\nd', "plain"]


@pytest.fixture
def shop(api: ApiCall, new_user) -> dict[str, Any]:
    user = new_user()
    pid = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "C"}).json()
    pid = pid["id"]
    rows = []
    for i in range(40):
        ts = NOW - timedelta(minutes=7 * i + 1)
        name = NASTY[(i // 3) % len(NASTY)] if i % 3 == 0 else "page_view"
        props = {"path": f"/p/{NASTY[i % len(NASTY)]}", "utm_source": NASTY[(i + 1) % 6]}
        rows.append((pid, str(uuid.uuid4()), name, f"user,{i % 5}", json.dumps(props),
                     f"s{i % 7}", f"https://shop.test/p{i % 4}",
                     f"https://{['a', 'b'][i % 2]}.test/x", "UA", "h", ts, ts))  # fmt: skip
    rows.append((pid, str(uuid.uuid4()), "$identify", "user,1", json.dumps({"plan": "=1+1"}),
                 "s1", None, None, "UA", "h", NOW - timedelta(minutes=2),
                 NOW - timedelta(minutes=2)))  # fmt: skip
    write_events(rows)
    return {**user, "pid": pid}


def _csv(api: ApiCall, shop: dict[str, Any], report: str, query: str) -> list[list[str]]:
    r = api("GET", f"/api/v1/analytics/{shop['pid']}/export/{report}",
            token=shop["access_token"], query=query)  # fmt: skip
    assert r.status == 200, r.body
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith(f'attachment; filename="pulse-{report}-')
    assert "\r\n" in r.body
    return list(csv.reader(io.StringIO(r.body, newline="")))


def _json(api: ApiCall, shop: dict[str, Any], report: str, query: str) -> Any:
    r = api("GET", f"/api/v1/analytics/{shop['pid']}/{report}", token=shop["access_token"],
            query=query)  # fmt: skip
    assert r.status == 200, r.body
    return r.json()


def _text(value: Any) -> str:
    """What a JSON value reads as in the CSV (the same rules, from the JSON side)."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + text
    return text


def _same_time(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) == datetime.fromisoformat(b.replace("Z", "+00:00"))


LISTS = {
    "top-events": ("events", ["name", "count", "unique_users"]),
    "pages": ("items", ["value", "count", "unique_sessions", "unique_users"]),
    "referrers": ("items", ["value", "count", "unique_sessions", "unique_users"]),
    "utm-sources": ("items", ["value", "count", "unique_sessions", "unique_users"]),
    "timeseries": ("points", ["bucket", "count", "unique_sessions"]),
}


@pytest.mark.parametrize("report", list(LISTS))
def test_a_list_report_as_csv_is_its_json(api, shop, report) -> None:
    query = "range=24h&limit=100" if report != "timeseries" else "range=24h&interval=hour"
    key, cols = LISTS[report]
    table = _csv(api, shop, report, query)
    data = _json(api, shop, report, query)
    assert table[0] == cols
    assert len(table) - 1 == len(data[key]) > 0
    for row, item in zip(table[1:], data[key], strict=True):
        for col, value in zip(cols, row, strict=True):
            if col == "bucket":
                assert _same_time(value, item[col])
            else:
                assert value == _text(item[col]), (report, col)


@pytest.mark.parametrize("report", ["overview", "top-events", "pages", "timeseries"])
def test_a_filtered_export_is_the_filtered_report(api, shop, report) -> None:
    query = "range=24h&filter=referrer:a.test&filter=event:page_view"
    assert _csv(api, shop, report, query) != _csv(api, shop, report, "range=24h")
    data = _json(api, shop, report, query)
    table = _csv(api, shop, report, query)
    if report == "overview":
        assert table[1][1] == str(data["total_events"])
    else:
        key, cols = LISTS[report]
        assert len(table) - 1 == len(data[key])
        for row, item in zip(table[1:], data[key], strict=True):
            assert row[1] == _text(item[cols[1]])


def test_the_overview_as_csv_is_its_json(api, shop) -> None:
    table = _csv(api, shop, "overview", "range=24h")
    data = _json(api, shop, "overview", "range=24h")
    assert table[0] == ["period", "total_events", "unique_sessions", "unique_users",
                        "bots_filtered", "top_event", "top_event_count"]  # fmt: skip
    for row, block in zip(table[1:], (data, data["previous"]), strict=True):
        top = block["top_event"] or {}
        assert row[1:] == [str(block["total_events"]), str(block["unique_sessions"]),
                           str(block["unique_users"]), str(block["bots_filtered"]),
                           _text(top.get("name")), _text(top.get("count"))]  # fmt: skip
    assert [r[0] for r in table[1:]] == ["current", "previous"]


@pytest.mark.parametrize(
    ("report", "key", "when"),
    [
        ("events", "events", ("timestamp", "received_at")),
        ("users", "users", ("first_seen", "last_seen")),
        ("sessions", "list", ("started_at", "ended_at")),
    ],
)
def test_a_raw_report_as_csv_is_its_json_page(api, shop, report, key, when) -> None:
    query = "range=24h&limit=30"
    table = _csv(api, shop, report, query)
    data = _json(api, shop, report, query)
    assert len(table) - 1 == len(data[key]) > 0
    for row, item in zip(table[1:], data[key], strict=True):
        for col, value in zip(table[0], row, strict=True):
            if col in when:
                assert _same_time(value, item[col])
            elif col == "properties":
                assert (json.loads(value) if value else None) == item[col]
            else:
                assert value == _text(item[col]), (report, col)
    # the next page is the JSON's next page (with no header row: the pages join into one file)
    cursor = data["next_cursor"]
    if cursor:
        page2 = _csv(api, shop, report, f"{query}&cursor={cursor}")
        assert page2[0] != table[0]
        assert len(page2) == len(_json(api, shop, report, f"{query}&cursor={cursor}")[key])


@pytest.mark.parametrize(
    ("report", "key", "column"),
    [("events", "events", "uuid"), ("users", "users", "distinct_id"),
     ("sessions", "list", "session_id")],
)  # fmt: skip
def test_a_raw_report_export_walks_every_page_by_its_next_cursor(
    api, shop, report, key, column
) -> None:
    # Asked again with x-next-cursor until an answer has none, the pages are one CSV file of
    # every row of the report (a page of 1,000 rows at most; 2 here, so that it takes several)
    every, cursor, pages = [], None, 0
    while True:
        query = f"range=24h&limit=100{f'&cursor={cursor}' if cursor else ''}"
        page = _json(api, shop, report, query)
        every += page[key]
        cursor = page["next_cursor"]
        if not cursor:
            break
    joined, cursor = "", None
    while True:
        r = api("GET", f"/api/v1/analytics/{shop['pid']}/export/{report}",
                token=shop["access_token"],
                query=f"range=24h&limit=2{f'&cursor={cursor}' if cursor else ''}")  # fmt: skip
        assert r.status == 200, r.body
        joined += r.body
        pages += 1
        cursor = r.headers.get("x-next-cursor")
        if not cursor:
            break
    table = list(csv.reader(io.StringIO(joined, newline="")))
    at = table[0].index(column)
    assert [row[at] for row in table[1:]] == [_text(item[column]) for item in every]
    assert pages == len(every) // 2 + 1 > 2


def test_formulas_are_guarded_and_text_survives_quoting(api, shop) -> None:
    table = _csv(api, shop, "events", "range=24h&limit=100")
    names = {row[2] for row in table[1:]}
    assert '\'=HYPERLINK("http://evil.test","x")' in names
    assert {"'+1", "'-2+3", "'@SUM(A1)", 'a,b "c"\nd'} <= names
    assert not any(c.startswith(("=", "+", "-", "@")) for row in table[1:] for c in row)
    assert all(len(row) == len(table[0]) for row in table)


def test_a_bad_report_or_parameter_is_a_422(api, shop) -> None:
    base = f"/api/v1/analytics/{shop['pid']}/export"
    for path, query in ((f"{base}/nope", ""), (f"{base}/events", "limit=0"),
                        (f"{base}/overview", "range=2y")):  # fmt: skip
        r = api("GET", path, token=shop["access_token"], query=query)
        assert r.status == 422 and r.json()["error"]["message"], path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("-x", "'-x"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        (-5, -5),
        (None, ""),
        (True, "true"),
        ({"a": "=b"}, '{"a":"=b"}'),
    ],
)
def test_cell(value, expected) -> None:
    assert cell(value) == expected


def _all_pages(api: ApiCall, token: str, pid: str, query: str) -> tuple[str, int]:
    text, pages, cursor = "", 0, None
    while True:
        q = query + (f"&cursor={cursor}" if cursor else "")
        r = api("GET", f"/api/v1/analytics/{pid}/events.csv", token=token, query=q)
        assert r.status == 200, r.body
        text += r.body
        pages += 1
        cursor = r.headers.get("x-next-cursor")
        if not cursor:
            return text, pages


def test_the_raw_events_export_pages_join_into_every_event_of_the_range(
    api, shop, db, monkeypatch
) -> None:
    from pulse.analytics import csv_export

    # Small pages, so that the 41 events take several (the real budget is 5 MB)
    monkeypatch.setattr(csv_export, "PAGE_MAX_ROWS", 7)
    start = (NOW - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    end = (NOW + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    text, pages = _all_pages(api, shop["access_token"], shop["pid"], f"from={start}&to={end}")
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == csv_export.EVENT_COLUMNS
    expected = db.execute(
        'SELECT id::text, "timestamp", event, properties FROM events WHERE project_id = %s '
        'AND "timestamp" >= %s AND "timestamp" < %s ORDER BY "timestamp", id',
        (shop["pid"], NOW - timedelta(hours=2), NOW + timedelta(minutes=1)),
    ).fetchall()
    assert pages == len(expected) // 7 + 1
    assert [r[0] for r in table[1:]] == [e[0] for e in expected]
    for row, (_, ts, name, props) in zip(table[1:], expected, strict=True):
        assert datetime.fromisoformat(row[1]) == ts
        assert row[2] == _text(name)
        assert json.loads(row[8]) == props


def test_a_page_stays_under_the_byte_budget(api, shop, monkeypatch) -> None:
    from pulse.analytics import csv_export

    monkeypatch.setattr(csv_export, "PAGE_BUDGET_BYTES", 3000)
    text, pages = _all_pages(api, shop["access_token"], shop["pid"], "range=24h")
    assert pages > 3
    assert len(list(csv.reader(io.StringIO(text, newline="")))) == 42
