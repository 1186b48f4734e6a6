"""Projects through the real "api" Lambda handler."""

from __future__ import annotations

import uuid

from tests.integration.conftest import ApiCall


def _create(api: ApiCall, token: str, **body: object) -> dict:
    res = api("POST", "/api/v1/projects", token=token, body={"name": "Shop", **body})
    assert res.status == 201, res.body
    return res.json()


def test_create_returns_the_project_with_a_fresh_api_key(api: ApiCall, new_user) -> None:
    user = new_user()
    project = _create(api, user["access_token"], domain="https://www.Example.com/shop")
    assert project["name"] == "Shop"
    assert project["domain"] == "www.example.com"
    assert project["api_key"].startswith("proj_") and len(project["api_key"]) > 30
    other = _create(api, user["access_token"])
    assert other["api_key"] != project["api_key"]
    assert other["domain"] is None


def test_list_get_patch_delete(api: ApiCall, new_user) -> None:
    token = new_user()["access_token"]
    a = _create(api, token, name="A")
    b = _create(api, token, name="B")
    listed = api("GET", "/api/v1/projects", token=token).json()["projects"]
    assert [p["id"] for p in listed] == [a["id"], b["id"]]

    got = api("GET", f"/api/v1/projects/{a['id']}", token=token)
    assert got.status == 200 and got.json() == a

    patched = api(
        "PATCH",
        f"/api/v1/projects/{a['id']}",
        token=token,
        body={"name": "Renamed", "domain": "shop.example.org"},
    )
    assert patched.status == 200
    assert patched.json()["name"] == "Renamed"
    assert patched.json()["domain"] == "shop.example.org"
    assert patched.json()["api_key"] == a["api_key"]

    kept = api("PATCH", f"/api/v1/projects/{a['id']}", token=token, body={"name": "Again"})
    assert kept.json()["domain"] == "shop.example.org"
    cleared = api("PATCH", f"/api/v1/projects/{a['id']}", token=token, body={"domain": None})
    assert cleared.json()["domain"] is None and cleared.json()["name"] == "Again"

    assert api("DELETE", f"/api/v1/projects/{a['id']}", token=token).status == 204
    assert api("GET", f"/api/v1/projects/{a['id']}", token=token).status == 404
    assert [p["id"] for p in api("GET", "/api/v1/projects", token=token).json()["projects"]] == [
        b["id"]
    ]


def test_rotate_key_replaces_the_key(api: ApiCall, new_user, db) -> None:
    token = new_user()["access_token"]
    project = _create(api, token)
    res = api("POST", f"/api/v1/projects/{project['id']}/rotate-key", token=token)
    assert res.status == 200
    rotated = res.json()
    assert rotated["id"] == project["id"]
    assert rotated["api_key"] != project["api_key"]
    old = db.execute("SELECT 1 FROM projects WHERE api_key = %s", (project["api_key"],)).fetchone()
    assert old is None


def test_another_users_project_is_404_everywhere(api: ApiCall, new_user) -> None:
    owner, intruder = new_user()["access_token"], new_user()["access_token"]
    project = _create(api, owner)
    pid = project["id"]
    for method, path, body in [
        ("GET", f"/api/v1/projects/{pid}", None),
        ("PATCH", f"/api/v1/projects/{pid}", {"name": "mine now"}),
        ("DELETE", f"/api/v1/projects/{pid}", None),
        ("POST", f"/api/v1/projects/{pid}/rotate-key", None),
    ]:
        res = api(method, path, token=intruder, body=body)
        assert res.status == 404, (method, path)
        assert res.json()["error"]["code"] == "not_found"
    assert api("GET", "/api/v1/projects", token=intruder).json()["projects"] == []
    assert api("GET", f"/api/v1/projects/{pid}", token=owner).json() == project


def test_paths_answer_with_and_without_a_trailing_slash(api: ApiCall, new_user) -> None:
    token = new_user()["access_token"]
    created = api("POST", "/api/v1/projects/", token=token, body={"name": "Slash"})
    assert created.status == 201
    pid = created.json()["id"]
    for path in (
        "/api/v1/projects",
        "/api/v1/projects/",
        f"/api/v1/projects/{pid}",
        f"/api/v1/projects/{pid}/",
    ):
        res = api("GET", path, token=token)
        assert res.status == 200, path
        assert "location" not in res.headers


def test_bad_project_input_is_422_with_the_field(api: ApiCall, new_user) -> None:
    token = new_user()["access_token"]
    for body, field in [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x", "domain": "not a domain"}, "domain"),
        ({"name": "x", "extra": 1}, "extra"),
        ({}, "name"),
    ]:
        res = api("POST", "/api/v1/projects", token=token, body=body)
        assert res.status == 422, body
        assert res.json()["error"]["details"][0]["field"] == field, body
    res = api("GET", f"/api/v1/projects/{'not-a-uuid'}", token=token)
    assert res.status == 422
    res = api("POST", "/api/v1/projects", token=token, body="{not json")
    assert res.status == 422


def test_unknown_ids_and_routes_are_json_404(api: ApiCall, new_user) -> None:
    token = new_user()["access_token"]
    res = api("GET", f"/api/v1/projects/{uuid.uuid4()}", token=token)
    assert res.status == 404
    res = api("GET", "/api/v1/does-not-exist")
    assert res.status == 404
    assert res.headers["content-type"].startswith("application/json")
    assert res.json()["error"] == {"code": "not_found", "message": "no such route", "details": []}
    res = api("PUT", "/api/v1/projects", token=token)
    assert res.status == 405
    assert res.json()["error"]["code"] == "method_not_allowed"


def test_deleting_a_project_leaves_no_row_of_it_in_any_table(api: ApiCall, new_user, db) -> None:
    from datetime import UTC, datetime, timedelta

    from pulse.data.events import write_events
    from pulse.rollup import service as rollup

    user = new_user()
    token = user["access_token"]
    project = api("POST", "/api/v1/projects", token=token, body={"name": "Gone"}).json()["id"]
    now = datetime.now(UTC)
    rows = [
        (
            project,
            f"00000000-0000-4000-8000-{i:012d}",
            "page_view",
            "u1",
            '{"path": "/a", "utm_source": "x"}',
            f"s{i % 3}",
            "https://a.test/a",
            "https://ref.test/",
            "UA",
            "h",
            now - timedelta(hours=i),
            now - timedelta(hours=i),
        )
        for i in range(1, 6)
    ]
    write_events(rows)
    rollup.run()
    link = api("POST", f"/api/v1/projects/{project}/share-links", token=token, body={})
    assert link.status == 201
    tables = [
        r[0]
        for r in db.execute(
            "SELECT c.table_name FROM information_schema.columns c "
            "JOIN pg_class k ON k.relname = c.table_name AND NOT k.relispartition "
            "WHERE c.table_schema = 'public' AND c.column_name = 'project_id' "
            "AND k.relkind IN ('r', 'p')"
        ).fetchall()
    ]
    assert {"events", "session_totals", "breakdown_hourly", "presence_counts"} <= set(tables)
    filled = [
        t
        for t in tables
        if db.execute(f"SELECT count(*) FROM {t} WHERE project_id = %s", (project,)).fetchone()[0]
    ]
    assert "session_totals" in filled and "breakdown_hourly" in filled and "share_links" in filled
    assert api("DELETE", f"/api/v1/projects/{project}", token=token).status == 204
    left = {
        t: n
        for t in tables
        if (
            n := db.execute(
                f"SELECT count(*) FROM {t} WHERE project_id = %s", (project,)
            ).fetchone()[0]
        )
    }
    assert left == {}
