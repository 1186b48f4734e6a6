"""A share link's visitor on the live feed: the "ws" function with a share session (real
Postgres and Redis, the local gateway's real management API). Such a connection follows visitors
now of the link's project and nothing else, and ends with its link."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from pulse.cache import get_redis
from pulse.data.events import written_items
from pulse.processor import live
from pulse.realtime import fanout, registry
from tests.integration.conftest import ApiCall
from tests.integration.test_realtime import _row, connect_event, message_event, recv
from tests.integration.test_sharing import _link, _session, two_projects
from tests.ws_support import RunningGateway, ws_event


@pytest.fixture
def owner(api: ApiCall, new_user) -> dict[str, Any]:
    return two_projects(api, new_user)


def share_connect_event(project_id: str | None, share_token: str, connection_id: str, **more):
    query = {"share_token": share_token, **more}
    if project_id is not None:
        query["project_id"] = project_id
    return ws_event(
        "connect",
        connection_id=connection_id,
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()},
    )


def _share_token(api: ApiCall, owner: dict[str, Any], **body: Any) -> tuple[str, str]:
    """A new link's id and a share session of it."""
    made = _link(api, owner, **body)
    return made["id"], _session(api, made["token"]).json()["access_token"]


@pytest.fixture
def shared_client(
    gateway: RunningGateway, ws, api, owner
) -> Iterator[tuple[ClientConnection, str, str]]:
    """A real client on the local gateway, connected with a share session of a link that
    allows the raw data (even so, the live feed gives it visitors now only)."""
    link_id, share = _share_token(api, owner, allow_raw=True)
    client, conn_id = gateway.connect_with_id()
    assert ws(share_connect_event(owner["pid"], share, conn_id)) == {"statusCode": 200}
    yield client, conn_id, link_id
    client.close()


def test_a_share_session_connects_as_a_shared_listener_of_its_project(ws, api, owner) -> None:
    link_id, share = _share_token(api, owner)
    assert ws(share_connect_event(owner["pid"], share, "ShareConnA0001=")) == {"statusCode": 200}
    assert registry.every_listener([owner["pid"]]) == ({}, {owner["pid"]: ["ShareConnA0001="]})
    connection = registry.get("ShareConnA0001=")
    assert connection is not None and connection.link_id == link_id
    assert 7190 <= get_redis().ttl(registry.shared_project_key(owner["pid"])) <= 7200
    # $disconnect forgets it
    ws(ws_event("disconnect", connection_id="ShareConnA0001="))
    assert registry.every_listener([owner["pid"]]) == ({}, {})


def test_a_share_connection_is_refused_for_anything_but_its_own_live_link(ws, api, owner) -> None:
    link_id, share = _share_token(api, owner)
    assert ws(share_connect_event(owner["other"], share, "ShareRefused01="))["statusCode"] == 403
    assert ws(share_connect_event(str(uuid.uuid4()), share, "ShareRefused02="))["statusCode"] == 403
    assert ws(share_connect_event(None, share, "ShareRefused03="))["statusCode"] == 400
    assert ws(share_connect_event(owner["pid"], "nope", "ShareRefused04="))["statusCode"] == 401
    # an account's token is not a share session, and the two together are ambiguous
    account = owner["access_token"]
    assert ws(share_connect_event(owner["pid"], account, "ShareRefused05="))["statusCode"] == 401
    both = share_connect_event(owner["pid"], share, "ShareRefused06=", token=account)
    assert ws(both)["statusCode"] == 400
    # a revoked link's session
    api(
        "DELETE", f"/api/v1/projects/{owner['pid']}/share-links/{link_id}",
        token=owner["access_token"],
    )  # fmt: skip
    assert ws(share_connect_event(owner["pid"], share, "ShareRefused07="))["statusCode"] == 401
    assert registry.every_listener([owner["pid"], owner["other"]]) == ({}, {})


def test_a_share_connection_is_answered_visitors_now_and_nothing_else(
    ws, owner, shared_client
) -> None:
    client, conn_id, _ = shared_client
    live.publish(written_items([_row(owner["pid"], n) for n in range(6)]))
    # backfill, which a dashboard sends on every (re)connect: visitors now only, no events
    ws(message_event(conn_id, {"action": "backfill", "limit": 10}))
    reply = recv(client)
    assert (reply["type"], reply["project_id"], reply["visitors"]) == (
        "visitors_now", owner["pid"], 3,
    )  # fmt: skip
    with pytest.raises(TimeoutError):
        client.recv(timeout=0.3)
    ws(message_event(conn_id, {"action": "visitors_now", "id": "v1"}))
    assert recv(client)["id"] == "v1"
    ws(message_event(conn_id, {"action": "ping", "id": "p"}))
    assert recv(client) == {"type": "pong", "id": "p"}
    for body in (
        {"action": "subscribe", "project_id": owner["other"]},
        {"action": "subscribe", "project_id": owner["pid"]},
        {"action": "unsubscribe", "project_id": owner["pid"]},
    ):
        ws(message_event(conn_id, body))
        assert recv(client)["code"] == "forbidden"
    assert registry.every_listener([owner["other"]]) == ({}, {})


def test_the_fan_out_sends_a_share_connection_visitors_now_only(
    ws, gateway, owner, shared_client
) -> None:
    shared, _, _ = shared_client
    mine, mine_id = gateway.connect_with_id()
    assert ws(connect_event(owner["pid"], owner["access_token"], mine_id)) == {"statusCode": 200}
    rows = [_row(owner["pid"], n) for n in range(3)]
    live.publish(written_items(rows))
    report = fanout.fan_out(written_items(rows))
    assert (report.connections, report.delivered) == (2, 2)
    # the owner gets the events, the counters and visitors now
    assert [recv(mine)["type"] for _ in range(3)] == ["events", "counters", "visitors_now"]
    # the share link's visitor gets visitors now, and no event (events carry properties)
    pushed = recv(shared)
    assert (pushed["type"], pushed["visitors"]) == ("visitors_now", 3)
    with pytest.raises(TimeoutError):
        shared.recv(timeout=0.3)
    # a batch that leaves the count as it was sends the share connection nothing
    again = [_row(owner["pid"], 0)]
    live.publish(written_items(again))
    fanout.fan_out(written_items(again))
    assert recv(mine)["type"] == "events"
    with pytest.raises(TimeoutError):
        shared.recv(timeout=0.3)
    mine.close()


def test_revoking_a_link_forgets_its_live_connections(ws, api, owner, shared_client) -> None:
    client, conn_id, link_id = shared_client
    api(
        "DELETE", f"/api/v1/projects/{owner['pid']}/share-links/{link_id}",
        token=owner["access_token"],
    )  # fmt: skip
    assert registry.every_listener([owner["pid"]]) == ({}, {})
    ws(message_event(conn_id, {"action": "visitors_now"}))
    assert recv(client)["code"] == "not_registered"


def test_a_message_after_the_link_is_gone_is_refused_and_forgets_the_connection(
    ws, db, owner, shared_client
) -> None:
    client, conn_id, link_id = shared_client
    # the link goes without the revoke route (its project deleted, or Redis down at the revoke)
    db.execute("DELETE FROM share_links WHERE id = %s", (link_id,))
    ws(message_event(conn_id, {"action": "visitors_now", "id": "late"}))
    reply = recv(client)
    assert (reply["type"], reply["code"], reply["id"]) == ("error", "revoked", "late")
    assert registry.get(conn_id) is None
    assert registry.every_listener([owner["pid"]]) == ({}, {})


def test_a_database_outage_at_a_message_is_said_and_keeps_the_connection(
    ws, owner, shared_client, monkeypatch
) -> None:
    from pulse import exceptions
    from pulse.data import share_links

    client, conn_id, _ = shared_client

    def down(**_: Any) -> None:
        raise exceptions.DataLayerError("the database is unavailable")

    monkeypatch.setattr(share_links, "get_link", down)
    ws(message_event(conn_id, {"action": "visitors_now", "id": "x"}))
    reply = recv(client)
    assert (reply["type"], reply["id"]) == ("error", "x") and reply["code"] != "revoked"
    assert registry.get(conn_id) is not None
