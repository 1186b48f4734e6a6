"""The funnels and retention endpoints through the real API handler: saved funnels' CRUD (owner
only), validation (422 naming the field), computing saved and ad-hoc funnels, retention."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pulse.data.events import write_events

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
RANGE_Q = "from=2026-05-04T00:00:00Z&to=2026-05-06T00:00:00Z"
STEPS = [
    {"event": "page_view", "page": "/pricing"},
    {"event": "signup", "property": {"key": "plan", "value": "pro"}},
]


@pytest.fixture
def owner(api, new_user) -> dict[str, Any]:
    user = new_user()
    res = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "Shop"})
    assert res.status == 201
    return {"token": user["access_token"], "project": res.json()["id"]}


def _set(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps as sent: the answer spells an absent match as null."""
    return [{k: v for k, v in s.items() if v is not None} for s in steps]


def _fields(res: Any) -> set[str]:
    return {d["field"] for d in res.json()["error"]["details"]}


def test_saved_funnel_crud(api, owner) -> None:
    base = f"/api/v1/projects/{owner['project']}/funnels"
    tok = owner["token"]
    # Given a new funnel
    res = api("POST", base, token=tok, body={"name": "Pricing to signup", "steps": STEPS})
    assert res.status == 201, res.body
    funnel = res.json()
    assert funnel["window"] == "1d" and funnel["by"] == "session"
    assert _set(funnel["steps"]) == STEPS
    fid = funnel["id"]
    # Then it is listed and readable
    assert [f["id"] for f in api("GET", base, token=tok).json()["funnels"]] == [fid]
    assert api("GET", f"{base}/{fid}", token=tok).json()["name"] == "Pricing to signup"
    # When it is changed, only the fields sent change
    res = api("PATCH", f"{base}/{fid}", token=tok, body={"window": "90m", "by": "user"})
    assert res.status == 200, res.body
    assert res.json()["window"] == "90m" and res.json()["by"] == "user"
    assert _set(res.json()["steps"]) == STEPS and res.json()["name"] == "Pricing to signup"
    # When it is deleted, it is gone
    assert api("DELETE", f"{base}/{fid}", token=tok).status == 204
    assert api("GET", f"{base}/{fid}", token=tok).status == 404
    assert api("DELETE", f"{base}/{fid}", token=tok).status == 404
    assert api("GET", base, token=tok).json()["funnels"] == []


def test_funnels_of_another_owner_are_not_found(api, owner, new_user) -> None:
    base = f"/api/v1/projects/{owner['project']}/funnels"
    fid = api("POST", base, token=owner["token"], body={"name": "F", "steps": STEPS}).json()["id"]
    other = new_user()["access_token"]
    mine = api("POST", "/api/v1/projects", token=other, body={"name": "Mine"}).json()["id"]
    for method, path, body in [
        ("GET", base, None),
        ("POST", base, {"name": "F", "steps": STEPS}),
        ("GET", f"{base}/{fid}", None),
        ("PATCH", f"{base}/{fid}", {"name": "x"}),
        ("DELETE", f"{base}/{fid}", None),
        ("GET", f"/api/v1/analytics/{owner['project']}/funnels/{fid}", None),
        ("POST", f"/api/v1/analytics/{owner['project']}/funnels/query", {"steps": STEPS}),
        ("GET", f"/api/v1/analytics/{owner['project']}/retention", None),
        # the funnel's id under a project of the other owner's own
        ("GET", f"/api/v1/projects/{mine}/funnels/{fid}", None),
        ("GET", f"/api/v1/analytics/{mine}/funnels/{fid}", None),
    ]:
        res = api(method, path, token=other, body=body)
        assert res.status == 404, (method, path, res.body)
    assert api("GET", base, token=None).status == 401
    assert api("GET", f"{base}/{fid}", token=owner["token"]).status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "F", "steps": STEPS[:1]}, "steps"),
        ({"name": "F", "steps": STEPS * 4}, "steps"),
        ({"name": "F", "steps": STEPS, "window": "5x"}, "window"),
        ({"name": "F", "steps": STEPS, "window": "0m"}, "window"),
        ({"name": "F", "steps": STEPS, "window": "91d"}, "window"),
        ({"name": "F", "steps": STEPS, "by": "visit"}, "by"),
        ({"name": "", "steps": STEPS}, "name"),
        ({"steps": STEPS}, "name"),
        (
            {"name": "F", "steps": [{"event": "a", "page": "pricing"}, {"event": "b"}]},
            "steps.0.page",
        ),
        ({"name": "F", "steps": [{"event": ""}, {"event": "b"}]}, "steps.0.event"),
        ({"name": "F", "steps": [{"event": "a\u0000"}, {"event": "b"}]}, "steps.0.event"),
        ({"name": "F", "steps": [{"event": "a", "prop": 1}, {"event": "b"}]}, "steps.0.prop"),
        (
            {"name": "F", "steps": [{"event": "a", "property": {"key": "k"}}, {"event": "b"}]},
            "steps.0.property.value",
        ),
    ],
)
def test_bad_funnels_are_422_naming_the_field(api, owner, body, field) -> None:
    res = api(
        "POST", f"/api/v1/projects/{owner['project']}/funnels", token=owner["token"], body=body
    )
    assert res.status == 422, res.body
    assert any(f == field or f.endswith("." + field) for f in _fields(res)), res.body
    assert (
        api("GET", f"/api/v1/projects/{owner['project']}/funnels", token=owner["token"]).json()[
            "funnels"
        ]
        == []
    )


def test_patch_refuses_null_and_unknown_fields(api, owner) -> None:
    base = f"/api/v1/projects/{owner['project']}/funnels"
    fid = api("POST", base, token=owner["token"], body={"name": "F", "steps": STEPS}).json()["id"]
    assert api("PATCH", f"{base}/{fid}", token=owner["token"], body={"name": None}).status == 422
    assert api("PATCH", f"{base}/{fid}", token=owner["token"], body={"color": "red"}).status == 422
    assert api("GET", f"{base}/{fid}", token=owner["token"]).json()["name"] == "F"


def _ev(
    project: str, name: str, session: str, at: timedelta, props: str = "{}", path: str = "/pricing"
) -> tuple[Any, ...]:
    ts = T0 + at
    return (
        project,
        str(uuid.uuid4()),
        name,
        f"user-{session}",
        props,
        session,
        f"https://shop.test{path}",
        None,
        "UA",
        "h",
        ts,
        ts,
    )


def test_computed_saved_and_adhoc_funnels(api, owner) -> None:
    p = owner["project"]
    write_events(
        [
            _ev(p, "page_view", "a", timedelta(0)),
            _ev(p, "signup", "a", timedelta(minutes=2), '{"plan": "pro"}'),
            _ev(p, "page_view", "b", timedelta(0)),
            _ev(p, "signup", "b", timedelta(minutes=4), '{"plan": "free"}'),
            _ev(p, "page_view", "c", timedelta(0), path="/home"),
            _ev(p, "signup", "c", timedelta(minutes=1), '{"plan": "pro"}'),
        ]
    )
    fid = api(
        "POST",
        f"/api/v1/projects/{p}/funnels",
        token=owner["token"],
        body={"name": "F", "steps": STEPS},
    ).json()["id"]
    res = api("GET", f"/api/v1/analytics/{p}/funnels/{fid}", token=owner["token"], query=RANGE_Q)
    assert res.status == 200, res.body
    out = res.json()
    assert out["funnel_id"] == fid and out["from"] == "2026-05-04T00:00:00Z"
    assert [s["count"] for s in out["steps"]] == [2, 1]
    assert out["steps"][1]["conversion_from_first"] == 0.5
    assert out["steps"][1]["drop_off"] == 1
    assert out["steps"][1]["median_seconds_from_previous"] == 120.0
    assert out["steps"][0]["median_seconds_from_previous"] is None
    # An ad-hoc funnel without the page and property matches
    res = api(
        "POST",
        f"/api/v1/analytics/{p}/funnels/query",
        token=owner["token"],
        query=RANGE_Q,
        body={"steps": [{"event": "page_view"}, {"event": "signup"}], "window": "3m"},
    )
    assert res.status == 200, res.body
    assert [s["count"] for s in res.json()["steps"]] == [3, 2]
    assert res.json()["funnel_id"] is None and res.json()["window"] == "3m"
    # Bad range parameters are 422 as on every report
    res = api("GET", f"/api/v1/analytics/{p}/funnels/{fid}", token=owner["token"], query="range=5y")
    assert res.status == 422 and "range" in _fields(res)


def test_retention_endpoint(api, owner) -> None:
    p = owner["project"]
    write_events(
        [
            _ev(p, "page_view", "a", timedelta(0)),
            _ev(p, "page_view", "a", timedelta(days=1)),
            _ev(p, "page_view", "b", timedelta(0)),
        ]
    )
    res = api(
        "GET",
        f"/api/v1/analytics/{p}/retention",
        token=owner["token"],
        query=RANGE_Q + "&period=day",
    )
    assert res.status == 200, res.body
    out = res.json()
    assert out["periods"] == ["2026-05-04T00:00:00Z", "2026-05-05T00:00:00Z"]
    assert out["cohorts"][0] == {
        "cohort": "2026-05-04T00:00:00Z",
        "size": 2,
        "counts": [2, 1],
        "shares": [1.0, 0.5],
    }
    assert out["cohorts"][1]["size"] == 0 and out["cohorts"][1]["counts"] == [0]
    res = api("GET", f"/api/v1/analytics/{p}/retention", token=owner["token"], query="period=month")
    assert res.status == 422 and "period" in _fields(res)
    res = api(
        "GET",
        f"/api/v1/analytics/{p}/retention",
        token=owner["token"],
        query="from=2026-01-01&to=2026-06-01&period=day",
    )
    assert res.status == 422 and "period" in _fields(res)
    res = api(
        "GET",
        f"/api/v1/analytics/{p}/retention",
        token=owner["token"],
        query="from=2026-01-01&to=2026-06-01&period=week",
    )
    assert res.status == 200 and len(res.json()["periods"]) == 22


def test_deleting_the_project_deletes_its_funnels(api, owner, db) -> None:
    p = owner["project"]
    api(
        "POST",
        f"/api/v1/projects/{p}/funnels",
        token=owner["token"],
        body={"name": "F", "steps": STEPS},
    )
    assert db.execute("SELECT count(*) FROM funnels WHERE project_id = %s", (p,)).fetchone()[0] == 1
    assert api("DELETE", f"/api/v1/projects/{p}", token=owner["token"]).status == 204
    assert db.execute("SELECT count(*) FROM funnels WHERE project_id = %s", (p,)).fetchone()[0] == 0
