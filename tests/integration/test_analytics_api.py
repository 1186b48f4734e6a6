"""The analytics endpoints through the real "api" handler: access, parameters, pagination and
the raw reports (sessions, users, events, pages, referrers, UTM) against brute force."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from pulse.data.events import write_events
from tests.integration.conftest import ApiCall

BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)


def _ev(
    pid: str,
    minute: int,
    event: str,
    session: str,
    user: str | None = None,
    path: str | None = None,
    referrer: str | None = None,
    props: dict | None = None,
):
    properties = dict(props or {})
    if path:
        properties["path"] = path
    ts = BASE + timedelta(minutes=minute)
    return (
        pid,
        str(uuid.uuid4()),
        event,
        user,
        json.dumps(properties),
        session,
        f"https://shop.test{path or '/'}",
        referrer,
        "UA",
        "h",
        ts,
        ts,
    )


@pytest.fixture
def dataset(api: ApiCall, new_user):
    user = new_user()
    token = user["access_token"]
    pid = api("POST", "/api/v1/projects", token=token, body={"name": "R"}).json()["id"]
    rows = [
        _ev(
            pid,
            0,
            "page_view",
            "s1",
            None,
            "/",
            "https://www.google.com/search?q=x",
            {"utm_source": "newsletter"},
        ),
        _ev(pid, 2, "page_view", "s1", None, "/pricing"),
        _ev(pid, 3, "$identify", "s1", "user_42", props={"plan": "pro"}),
        _ev(pid, 4, "signup", "s1", "user_42"),
        _ev(pid, 10, "page_view", "s2", None, "/blog", "https://news.ycombinator.com/item"),
        _ev(pid, 70, "page_view", "s3", "user_7", "/", None),
        _ev(pid, 71, "click", "s3", "user_7"),
        _ev(
            pid,
            80,
            "page_view",
            "s4",
            None,
            "/pricing",
            "https://google.com/",
            {"utm_source": "ads"},
        ),
        _ev(pid, 81, "page_view", "s4", None, "/", None, {"utm_source": "ads"}),
        _ev(pid, 95, "$identify", "s4", "user_42", props={"plan": "team"}),
    ]
    write_events(rows)
    return {"token": token, "pid": pid, "rows": rows}


def _get(api: ApiCall, d: dict, path: str, query: str = ""):
    start = (BASE - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    end = (BASE + timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    q = f"from={start}&to={end}" + (f"&{query}" if query else "")
    return api("GET", f"/api/v1/analytics/{d['pid']}/{path}", token=d["token"], query=q)


def test_another_users_project_is_404_and_no_token_401(api: ApiCall, new_user, dataset) -> None:
    intruder = new_user()["access_token"]
    for path in ("overview", "timeseries", "top-events", "sessions", "users", "events", "pages"):
        res = api("GET", f"/api/v1/analytics/{dataset['pid']}/{path}", token=intruder)
        assert res.status == 404, path
    assert api("GET", f"/api/v1/analytics/{dataset['pid']}/overview").status == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from"),
        ("from=2024-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "to"),
        ("range=365d", "range"),
        ("range=7d&tz=Nowhere/Land", "tz"),
        ("range=7d&interval=week", "interval"),
    ],
)
def test_bad_parameters_are_422_with_a_clear_message(api: ApiCall, dataset, query, field) -> None:
    res = api(
        "GET", f"/api/v1/analytics/{dataset['pid']}/timeseries", token=dataset["token"], query=query
    )
    assert res.status == 422, res.body
    body = res.json()["error"]
    assert body["code"] == "invalid_input"
    assert body["details"][0]["field"] == field
    assert body["message"]


def test_overview_and_top_events(api: ApiCall, dataset) -> None:
    ov = _get(api, dataset, "overview").json()
    assert ov["total_events"] == 10
    assert ov["unique_sessions"] == 4
    assert ov["unique_users"] == 2
    assert ov["top_event"] == {"name": "page_view", "count": 6}
    assert ov["previous"]["total_events"] == 0 and ov["previous"]["top_event"] is None
    top = _get(api, dataset, "top-events", "limit=2").json()["events"]
    assert top == [
        {"name": "page_view", "count": 6, "unique_users": 1},
        {"name": "$identify", "count": 2, "unique_users": 1},
    ]


def test_timeseries_is_zero_filled(api: ApiCall, dataset) -> None:
    points = _get(api, dataset, "timeseries", "interval=hour").json()["points"]
    assert len(points) == 4
    assert [p["count"] for p in points] == [0, 5, 5, 0]
    assert [p["unique_sessions"] for p in points] == [0, 2, 2, 0]


def test_sessions_report_and_pagination(api: ApiCall, dataset) -> None:
    body = _get(api, dataset, "sessions", "limit=3").json()
    assert body["sessions"] == 4
    assert body["bounce_rate"] == pytest.approx(2 / 4)  # s2 and s3 have one page_view
    assert body["pages_per_session"] == pytest.approx(6 / 4)
    assert body["avg_duration_s"] == pytest.approx((240 + 0 + 60 + 900) / 4)
    assert body["top_entry_pages"][0] == {"path": "/", "sessions": 2}
    first = [s["session_id"] for s in body["list"]]
    assert first == ["s4", "s3", "s2"] and body["next_cursor"]
    rest = _get(api, dataset, "sessions", f"limit=3&cursor={body['next_cursor']}").json()
    assert [s["session_id"] for s in rest["list"]] == ["s1"] and rest["next_cursor"] is None
    bad = _get(api, dataset, "sessions", "cursor=garbage")
    assert bad.status == 422


def test_users_and_one_users_events(api: ApiCall, dataset) -> None:
    users = _get(api, dataset, "users").json()["users"]
    assert [u["distinct_id"] for u in users] == ["user_42", "user_7"]
    assert users[0]["event_count"] == 3
    assert users[0]["properties"] == {"plan": "team"}  # the last identify wins
    assert users[1]["properties"] is None
    one = _get(api, dataset, "users/user_42", "limit=2").json()
    assert [e["event"] for e in one["events"]] == ["$identify", "signup"]
    assert one["next_cursor"]
    more = _get(api, dataset, "users/user_42", f"limit=2&cursor={one['next_cursor']}").json()
    assert [e["event"] for e in more["events"]] == ["$identify"]
    assert _get(api, dataset, "users/nobody").status == 404


def test_events_newest_first_with_filters(api: ApiCall, dataset) -> None:
    evs = _get(api, dataset, "events", "limit=100").json()["events"]
    times = [e["timestamp"] for e in evs]
    assert len(evs) == 10 and times == sorted(times, reverse=True)
    assert {
        e["event"] for e in _get(api, dataset, "events", "event=page_view").json()["events"]
    } == {"page_view"}
    assert len(_get(api, dataset, "events", "session_id=s1").json()["events"]) == 4
    assert len(_get(api, dataset, "events", "distinct_id=user_7").json()["events"]) == 2
    seen, cursor = [], None
    while True:
        page = _get(api, dataset, "events", "limit=3" + (f"&cursor={cursor}" if cursor else ""))
        body = page.json()
        seen += [e["uuid"] for e in body["events"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(r[1] for r in dataset["rows"])


def test_pages_referrers_and_utm_sources(api: ApiCall, dataset) -> None:
    pages = {i["value"]: i["count"] for i in _get(api, dataset, "pages").json()["items"]}
    assert pages == dict(Counter(["/", "/pricing", "/blog", "/", "/pricing", "/"]))
    refs = {i["value"]: i["count"] for i in _get(api, dataset, "referrers").json()["items"]}
    assert refs == {"google.com": 2, "news.ycombinator.com": 1, "(direct)": 3}
    utm = {i["value"]: i["count"] for i in _get(api, dataset, "utm-sources").json()["items"]}
    assert utm == {"newsletter": 1, "ads": 2, "(none)": 3}


def test_breakdown_endpoint_by_dimension_and_property(api: ApiCall, dataset) -> None:
    res = _get(api, dataset, "breakdown", "dimension=page")
    assert res.status == 200, res.body
    body = res.json()
    assert (body["dimension"], body["counted"]) == ("page", "page_views")
    assert body["items"][0] == {"value": "/", "count": 3, "unique_sessions": 3, "unique_users": 1}
    assert _get(api, dataset, "pages").json()["items"] == body["items"]  # the alias
    entry = _get(api, dataset, "breakdown", "dimension=entry_page").json()
    assert entry["counted"] == "sessions"
    assert {i["value"]: i["count"] for i in entry["items"]} == {"/": 2, "/blog": 1, "/pricing": 1}
    exits = _get(api, dataset, "breakdown", "dimension=exit_page").json()["items"]
    assert {i["value"]: i["count"] for i in exits} == {"/": 2, "/pricing": 1, "/blog": 1}
    plan = _get(api, dataset, "breakdown", "property=plan").json()
    assert (plan["dimension"], plan["property"], plan["counted"]) == ("property", "plan", "events")
    assert plan["items"] == [
        {"value": "pro", "count": 1, "unique_sessions": 1, "unique_users": 1},
        {"value": "team", "count": 1, "unique_sessions": 1, "unique_users": 1},
    ]


def test_filters_on_reports_through_the_api(api: ApiCall, dataset) -> None:
    ov = _get(api, dataset, "overview", "filter=page:/pricing").json()
    assert (ov["total_events"], ov["unique_sessions"]) == (2, 2)
    both = _get(api, dataset, "overview", "filter=page:/pricing&filter=prop.utm_source:ads").json()
    assert both["total_events"] == 1
    evs = _get(api, dataset, "events", "filter=prop.plan:team").json()["events"]
    assert [e["event"] for e in evs] == ["$identify"]
    refs = _get(api, dataset, "breakdown", "dimension=referrer&filter=utm_source:ads").json()
    assert refs["items"] == [
        {"value": "(direct)", "count": 1, "unique_sessions": 1, "unique_users": 0},
        {"value": "google.com", "count": 1, "unique_sessions": 1, "unique_users": 0},
    ]
    for path in ("timeseries", "top-events", "sessions", "users", "pages"):
        assert _get(api, dataset, path, "filter=country:DE").status == 200, path


@pytest.mark.parametrize(
    ("path", "query", "field", "says"),
    [
        ("breakdown", "", "dimension", "required"),
        ("breakdown", "dimension=planet", "dimension", "unknown dimension 'planet'"),
        ("breakdown", "dimension=property", "property", "needs property"),
        ("breakdown", "dimension=page&property=plan", "dimension", "dimension=property"),
        ("breakdown", "property=", "property", "1 to 255"),
        ("overview", "filter=country", "filter", "field:value"),
        ("overview", "filter=planet:mars", "filter", "unknown field 'planet'"),
        ("timeseries", "filter=country:", "filter", "value is empty"),
        ("sessions", "filter=prop.:x", "filter", "property name"),
        ("events", "filter=" + "&filter=".join(["country:DE"] * 11), "filter", "at most 10"),
        ("breakdown", "dimension=page&filter=entry_page:/", "filter", "unknown field"),
    ],
)
def test_bad_breakdowns_and_filters_are_422(
    api: ApiCall, dataset, path, query, field, says
) -> None:
    res = _get(api, dataset, path, query)
    assert res.status == 422, res.body
    error = res.json()["error"]
    assert error["details"][0]["field"] == field
    assert says in error["message"], error["message"]
