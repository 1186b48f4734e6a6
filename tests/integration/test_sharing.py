"""Share links through the real "api" handler (real Postgres and Redis): what a share session
can read and, above all, what it cannot."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pulse.data.events import write_events
from pulse.settings import get_settings
from tests.integration.conftest import ApiCall

NOW = datetime.now(UTC)
REPORTS = ["overview", "timeseries", "top-events", "pages", "referrers", "utm-sources"]
RAW = ["events", "users", "sessions", f"users/{'u1'}"]


def _events(pid: str) -> None:
    rows = []
    for i in range(6):
        ts = NOW - timedelta(minutes=30 + i)
        props = json.dumps({"path": f"/p{i % 2}", "secret_plan": "gold"})
        rows.append((pid, str(uuid.uuid4()), "page_view", "u1", props, f"s{i % 2}",
                     f"https://a.test/p{i % 2}", None, "UA", "h", ts, ts))  # fmt: skip
    write_events(rows)


def two_projects(api: ApiCall, new_user) -> dict[str, Any]:
    """A new user with a project to share (``pid``) and another (``other``)."""
    user = new_user()
    token = user["access_token"]
    pid = api("POST", "/api/v1/projects", token=token, body={"name": "Shared"}).json()["id"]
    other = api("POST", "/api/v1/projects", token=token, body={"name": "Private"}).json()["id"]
    return {**user, "pid": pid, "other": other}


@pytest.fixture
def owner(api: ApiCall, new_user) -> dict[str, Any]:
    made = two_projects(api, new_user)
    _events(made["pid"])
    _events(made["other"])
    return made


def _link(api: ApiCall, owner: dict[str, Any], **body: Any) -> dict[str, Any]:
    r = api(
        "POST", f"/api/v1/projects/{owner['pid']}/share-links", token=owner["access_token"],
        body=body,
    )  # fmt: skip
    assert r.status == 201, r.body
    return r.json()


def _session(api: ApiCall, token: str, password: str | None = None, ip: str = "203.0.113.5"):
    body = {"token": token} | ({"password": password} if password is not None else {})
    return api("POST", "/api/v1/share/session", body=body, source_ip=ip)


def _get(api: ApiCall, token: str, path: str, query: str = "range=24h"):
    return api("GET", path, token=token, query=query)


def test_the_owner_creates_lists_and_revokes_links(api, owner) -> None:
    made = _link(api, owner, label="Investors", password="open-sesame-1")
    assert made["token"].startswith("shr_") and made["path"] == "/share/#" + made["token"]
    assert (made["label"], made["has_password"], made["allow_raw"]) == ("Investors", True, False)
    listed = api(
        "GET", f"/api/v1/projects/{owner['pid']}/share-links", token=owner["access_token"]
    ).json()["links"]
    # The list never shows a token again
    assert [link["id"] for link in listed] == [made["id"]]
    assert "token" not in listed[0] and "password_hash" not in json.dumps(listed)
    r = api(
        "DELETE", f"/api/v1/projects/{owner['pid']}/share-links/{made['id']}",
        token=owner["access_token"],
    )  # fmt: skip
    assert r.status == 204
    assert api(
        "GET", f"/api/v1/projects/{owner['pid']}/share-links", token=owner["access_token"]
    ).json() == {"links": []}


def test_only_the_owner_manages_the_links(api, owner, new_user) -> None:
    made = _link(api, owner)
    stranger = new_user()["access_token"]
    base = f"/api/v1/projects/{owner['pid']}/share-links"
    assert api("POST", base, token=stranger, body={}).status == 404
    assert api("GET", base, token=stranger).status == 404
    assert api("DELETE", f"{base}/{made['id']}", token=stranger).status == 404
    # nor with a share session of the project itself
    share = _session(api, made["token"]).json()["access_token"]
    assert api("GET", base, token=share).status == 401
    assert api("POST", base, token=share, body={}).status == 401
    assert api("DELETE", f"{base}/{made['id']}", token=share).status == 401
    # the link still works
    assert _session(api, made["token"]).status == 200


def test_bad_link_bodies_are_refused_with_a_message(api, owner) -> None:
    base = f"/api/v1/projects/{owner['pid']}/share-links"
    for body in ({"password": "short"}, {"label": "  "}, {"allow_raw": "maybe"}, {"x": 1}):
        r = api("POST", base, token=owner["access_token"], body=body)
        assert r.status == 422 and r.json()["error"]["message"], body


def test_a_share_session_reads_the_reports_of_its_project(api, owner) -> None:
    made = _link(api, owner)
    opened = _session(api, made["token"])
    assert opened.status == 200, opened.body
    body = opened.json()
    assert (body["project_id"], body["project_name"], body["allow_raw"]) == (
        owner["pid"], "Shared", False,
    )  # fmt: skip
    share = body["access_token"]
    for report in REPORTS:
        path = f"/api/v1/analytics/{owner['pid']}/{report}"
        mine = _get(api, owner["access_token"], path)
        theirs = _get(api, share, path)
        assert theirs.status == 200, (report, theirs.body)
        assert theirs.json() == mine.json(), report
    assert _get(api, share, f"/api/v1/analytics/{owner['pid']}/visitors-now", "").status == 200
    assert _get(api, share, f"/api/v1/analytics/{owner['pid']}/export/overview").status == 200


def test_a_share_session_reaches_nothing_else(api, owner, new_user) -> None:
    share = _session(api, _link(api, owner)["token"]).json()["access_token"]
    pid, other = owner["pid"], owner["other"]
    # no settings, keys or project list: those take an account's token only
    for method, path in (
        ("GET", "/api/v1/projects"),
        ("GET", f"/api/v1/projects/{pid}"),
        ("PATCH", f"/api/v1/projects/{pid}"),
        ("POST", f"/api/v1/projects/{pid}/rotate-key"),
        ("DELETE", f"/api/v1/projects/{pid}"),
        ("GET", "/api/v1/auth/me"),
        ("POST", "/api/v1/auth/logout"),
        # funnels and retention are the owner's (docs/api.md), saved or not
        ("GET", f"/api/v1/analytics/{pid}/retention"),
        ("POST", f"/api/v1/analytics/{pid}/funnels/query"),
        ("GET", f"/api/v1/projects/{pid}/funnels"),
    ):
        r = api(method, path, token=share, body={} if method in ("PATCH", "POST") else None)
        assert r.status == 401, (method, path, r.status)
        assert "api_key" not in r.body
    # another project of the same owner, and someone else's, do not exist for it
    theirs = new_user()
    foreign = api("POST", "/api/v1/projects", token=theirs["access_token"], body={"name": "F"})
    for project in (other, foreign.json()["id"], str(uuid.uuid4())):
        for report in [*REPORTS, "visitors-now", "export/overview"]:
            r = _get(api, share, f"/api/v1/analytics/{project}/{report}")
            assert r.status == 404, (project, report, r.status)
    # no raw events, users, sessions or their exports unless the link allows them
    for report in RAW:
        r = _get(api, share, f"/api/v1/analytics/{pid}/{report}")
        assert r.status == 403, (report, r.status)
        assert "secret_plan" not in r.body
    for report in ("events", "users", "sessions"):
        assert _get(api, share, f"/api/v1/analytics/{pid}/export/{report}").status == 403
    # an event property's values are raw data too: a property breakdown or filter
    for report, query in (
        ("breakdown", "range=24h&property=secret_plan"),
        ("breakdown", "range=24h&dimension=property&property=secret_plan"),
        ("overview", "range=24h&filter=prop.secret_plan:gold"),
        ("export/pages", "range=24h&filter=prop.secret_plan:gold"),
    ):
        r = _get(api, share, f"/api/v1/analytics/{pid}/{report}", query)
        assert r.status == 403, (report, query, r.status)
        assert "gold" not in r.body
    # a filter on a dimension of the visit is a report like any other
    r = _get(api, share, f"/api/v1/analytics/{pid}/overview", "range=24h&filter=page:/p1")
    assert r.status == 200 and r.json()["total_events"] == 3


def test_a_link_that_allows_raw_data_reads_it(api, owner) -> None:
    share = _session(api, _link(api, owner, allow_raw=True)["token"]).json()["access_token"]
    pid = owner["pid"]
    for report in RAW:
        r = _get(api, share, f"/api/v1/analytics/{pid}/{report}")
        assert r.status == 200, (report, r.body)
    assert "secret_plan" in _get(api, share, f"/api/v1/analytics/{pid}/events").body
    r = _get(api, share, f"/api/v1/analytics/{pid}/breakdown", "range=24h&property=secret_plan")
    assert r.status == 200 and r.json()["items"][0]["value"] == "gold"
    assert _get(api, share, f"/api/v1/analytics/{pid}/export/events").status == 200
    # still not another project's
    assert _get(api, share, f"/api/v1/analytics/{owner['other']}/events").status == 404


def test_a_password_is_asked_and_checked(api, owner) -> None:
    made = _link(api, owner, password="open-sesame-1")
    assert _session(api, made["token"]).status == 401
    wrong = _session(api, made["token"], "open-sesame-2")
    assert wrong.status == 401 and "wrong password" in wrong.json()["error"]["message"]
    right = _session(api, made["token"], "open-sesame-1")
    assert right.status == 200
    assert _get(api, right.json()["access_token"], f"/api/v1/analytics/{owner['pid']}/overview")


def test_unknown_and_malformed_tokens(api, owner) -> None:
    assert _session(api, "shr_" + "A" * 43).status == 404
    assert api("POST", "/api/v1/share/session", body={}).status == 422
    assert api("POST", "/api/v1/share/session", body={"token": "a\u0000b"}).status == 422
    # a share-session token signed with another secret, or an account's refresh token
    pid = owner["pid"]
    assert _get(api, "x.y.z", f"/api/v1/analytics/{pid}/overview").status == 401
    assert _get(api, owner["refresh_token"], f"/api/v1/analytics/{pid}/overview").status == 401


def test_password_guessing_is_limited_per_address_and_per_link(api, owner) -> None:
    settings = get_settings()
    made = _link(api, owner, password="open-sesame-1")
    per_pair = settings.share_max_failures_per_link_ip
    for _ in range(per_pair):
        assert _session(api, made["token"], "guess-000000", ip="198.51.100.20").status == 401
    # Past the limit, even the right password waits (no oracle), with a Retry-After
    limited = _session(api, made["token"], "open-sesame-1", ip="198.51.100.20")
    assert limited.status == 429 and int(limited.headers["retry-after"]) > 0
    # Another address still gets in with the right password
    assert _session(api, made["token"], "open-sesame-1", ip="198.51.100.21").status == 200
    # A guess spread over many addresses is stopped per link
    per_link = settings.share_max_failures_per_link
    statuses = [
        _session(api, made["token"], "guess-000000", ip=f"10.0.{n // 250}.{n % 250}").status
        for n in range(per_link)
    ]
    # (the link had per_pair + 1 counted already: the address's failures and its refused try)
    assert statuses.count(401) == per_link - per_pair - 1
    assert statuses[statuses.index(429) :] == [429] * (per_pair + 1)
    assert _session(api, made["token"], "open-sesame-1", ip="192.0.2.99").status == 429
    # Another link of the project is not locked
    other = _link(api, owner, password="open-sesame-1")
    assert _session(api, other["token"], "open-sesame-1", ip="192.0.2.99").status == 200


def test_revocation_takes_effect_at_once(api, owner) -> None:
    made = _link(api, owner)
    share = _session(api, made["token"]).json()["access_token"]
    overview = f"/api/v1/analytics/{owner['pid']}/overview"
    assert _get(api, share, overview).status == 200
    api(
        "DELETE", f"/api/v1/projects/{owner['pid']}/share-links/{made['id']}",
        token=owner["access_token"],
    )  # fmt: skip
    assert _get(api, share, overview).status == 401
    assert _get(api, share, f"/api/v1/analytics/{owner['pid']}/export/overview").status == 401
    assert _session(api, made["token"]).status == 404


def test_deleting_the_project_deletes_its_links(api, owner, db) -> None:
    made = _link(api, owner)
    share = _session(api, made["token"]).json()["access_token"]
    assert api("DELETE", f"/api/v1/projects/{owner['pid']}", token=owner["access_token"]).status
    left = db.execute("SELECT count(*) FROM share_links WHERE project_id = %s", (owner["pid"],))
    assert left.fetchone()[0] == 0
    assert _get(api, share, f"/api/v1/analytics/{owner['pid']}/overview").status == 401
    assert _session(api, made["token"]).status == 404


def test_a_share_session_is_no_account_token_on_the_live_feed(api, owner) -> None:
    from pulse.handlers.ws import handler
    from tests.apigw import LambdaContextStub
    from tests.integration.test_realtime import connect_event

    share = _session(api, _link(api, owner, allow_raw=True)["token"]).json()["access_token"]
    refused = handler(connect_event(owner["pid"], share, "ShareConn0="), LambdaContextStub())
    assert refused["statusCode"] == 401
    # the owner's own token connects
    ok = handler(
        connect_event(owner["pid"], owner["access_token"], "OwnerConn0="), LambdaContextStub()
    )
    assert ok["statusCode"] == 200
