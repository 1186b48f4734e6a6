"""The WebSocket connection registry in Redis, under the configured key prefix.

- ``ws:conn:{connection_id}``: hash ``user_id``, ``project_id`` (the one it connected for),
  ``connected_at``, ``expires_at`` and ``registered_at`` (epoch seconds; ``$connect`` may take a
  while, so registration can come well after the connection started).
- ``ws:conn:{connection_id}:projects``: set of the projects it listens to.
- ``ws:project:{project_id}``: sorted set of its listening connections, scored by when each
  expires, so that a connection API Gateway closed at its 2-hour limit without a ``$disconnect``
  reaching us is never read again (readers take scores from now on and trim the rest).
- A share link's connection (opened with a share session, ``link_id`` in its hash) listens in
  ``ws:project:{project_id}:shared`` instead, which the fan-out sends visitors now only, and is
  listed in ``ws:link:{link_id}``, so that revoking the link forgets it (``forget_link``).

Every key expires with the connection (the 2-hour limit), so Redis never keeps a dead one for
long even if ``$disconnect`` is lost.

A connection is registered by its ``$connect``, before API Gateway completes the handshake, and a
push in between is answered ``GoneException`` like a push to a closed connection. So a push that
finds a connection gone forgets it only once it is ``CONNECT_GRACE_S`` old (``forget_gone``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulse.cache import get_redis, key
from pulse.realtime.protocol import CONNECTION_TTL_S

if TYPE_CHECKING:
    from redis.client import Pipeline

# How long after its registration a connection may still be completing its handshake.
CONNECT_GRACE_S = 10


def conn_key(connection_id: str) -> str:
    return key("ws", "conn", connection_id)


def conn_projects_key(connection_id: str) -> str:
    return key("ws", "conn", connection_id, "projects")


def project_key(project_id: str) -> str:
    return key("ws", "project", project_id)


def shared_project_key(project_id: str) -> str:
    return key("ws", "project", project_id, "shared")


def link_key(link_id: str) -> str:
    return key("ws", "link", link_id)


@dataclass(frozen=True)
class Connection:
    connection_id: str
    user_id: str
    project_id: str
    connected_at: int
    expires_at: int
    projects: frozenset[str]
    link_id: str | None = None  # a share link's connection: visitors now of its project only

    @property
    def shared(self) -> bool:
        return self.link_id is not None


def register(
    *,
    connection_id: str,
    user_id: str,
    project_id: str,
    connected_at: float | None = None,
    ttl_s: int = CONNECTION_TTL_S,
    link_id: str | None = None,
) -> Connection:
    """Record a new connection listening to ``project_id`` until its 2-hour limit (a share
    link's, with ``link_id``, among the project's shared listeners)."""
    registered_at = int(time.time())
    now = int(connected_at) if connected_at is not None else registered_at
    expires_at = now + ttl_s
    pipe = get_redis().pipeline(transaction=True)
    pipe.hset(
        conn_key(connection_id),
        mapping={
            "user_id": user_id,
            "project_id": project_id,
            "connected_at": now,
            "expires_at": expires_at,
            "registered_at": registered_at,
        },
    )
    if link_id:
        pipe.hset(conn_key(connection_id), "link_id", link_id)
    pipe.expireat(conn_key(connection_id), expires_at)
    pipe.sadd(conn_projects_key(connection_id), project_id)
    pipe.expireat(conn_projects_key(connection_id), expires_at)
    if link_id:
        pipe.sadd(link_key(link_id), connection_id)
        pipe.expire(link_key(link_id), ttl_s)
    _add_listener(pipe, project_id, connection_id, expires_at, shared=bool(link_id))
    pipe.execute()
    return Connection(
        connection_id, user_id, project_id, now, expires_at, frozenset({project_id}), link_id
    )


def _add_listener(
    pipe: Pipeline, project_id: str, connection_id: str, expires_at: int, *, shared: bool = False
) -> None:
    pk = shared_project_key(project_id) if shared else project_key(project_id)
    now = int(time.time())
    pipe.zadd(pk, {connection_id: expires_at})
    # No member can outlive a connection opened now: the set lives that long, never shorter.
    pipe.expire(pk, max(CONNECTION_TTL_S, expires_at - now))
    pipe.zremrangebyscore(pk, "-inf", f"({now}")


def get(connection_id: str) -> Connection | None:
    pipe = get_redis().pipeline(transaction=False)
    pipe.hgetall(conn_key(connection_id))
    pipe.smembers(conn_projects_key(connection_id))
    fields, projects = pipe.execute()
    if not fields or int(fields.get("expires_at", 0)) <= time.time():
        return None
    return Connection(
        connection_id=connection_id,
        user_id=fields["user_id"],
        project_id=fields["project_id"],
        connected_at=int(fields["connected_at"]),
        expires_at=int(fields["expires_at"]),
        projects=frozenset(projects),
        link_id=fields.get("link_id") or None,
    )


def subscribe(connection: Connection, project_id: str) -> None:
    pipe = get_redis().pipeline(transaction=True)
    pipe.sadd(conn_projects_key(connection.connection_id), project_id)
    _add_listener(pipe, project_id, connection.connection_id, connection.expires_at)
    pipe.execute()


def unsubscribe(connection: Connection, project_id: str) -> None:
    pipe = get_redis().pipeline(transaction=True)
    pipe.srem(conn_projects_key(connection.connection_id), project_id)
    pipe.zrem(project_key(project_id), connection.connection_id)
    pipe.execute()


def unregister(connection_ids: Iterable[str]) -> int:
    """Forget connections (``$disconnect``, or a ``GoneException`` on a push); returns how many
    were still registered."""
    ids = list(dict.fromkeys(connection_ids))
    if not ids:
        return 0
    redis = get_redis()
    read = redis.pipeline(transaction=False)
    for connection_id in ids:
        read.smembers(conn_projects_key(connection_id))
    memberships: list[set[str]] = read.execute()
    pipe = redis.pipeline(transaction=False)
    for connection_id, projects in zip(ids, memberships, strict=True):
        for project_id in projects:
            pipe.zrem(project_key(project_id), connection_id)
            pipe.zrem(shared_project_key(project_id), connection_id)
        pipe.delete(conn_key(connection_id), conn_projects_key(connection_id))
    results = pipe.execute()
    return sum(1 for deleted in _deletes(results, memberships) if deleted)


def forget_link(link_id: str) -> int:
    """Forget every connection opened with a share link's session (the link was revoked);
    returns how many were still registered."""
    redis = get_redis()
    connection_ids = [str(c) for c in redis.smembers(link_key(link_id))]
    redis.delete(link_key(link_id))
    return unregister(connection_ids)


def forget_gone(
    connection_ids: Iterable[str], *, grace_s: float = CONNECT_GRACE_S, now: float | None = None
) -> list[str]:
    """Forget connections a push found gone (``GoneException``), except those registered less
    than ``grace_s`` ago: their handshake may still be under way. Returns those forgotten (one
    without a registration time is: it is unknown, or was registered before that was kept)."""
    ids = list(dict.fromkeys(connection_ids))
    if not ids:
        return []
    pipe = get_redis().pipeline(transaction=False)
    for connection_id in ids:
        pipe.hget(conn_key(connection_id), "registered_at")
    cutoff = (now if now is not None else time.time()) - grace_s
    gone = [
        connection_id
        for connection_id, registered_at in zip(ids, pipe.execute(), strict=True)
        if registered_at is None or int(registered_at) <= cutoff
    ]
    unregister(gone)
    return gone


def _deletes(results: Sequence[int], memberships: Sequence[set[str]]) -> list[int]:
    """The result of each connection's DELETE (its last command in the pipeline)."""
    out, at = [], 0
    for projects in memberships:
        at += 2 * len(projects)
        out.append(int(results[at]))
        at += 1
    return out


def listeners(project_ids: Iterable[str], *, now: float | None = None) -> dict[str, list[str]]:
    """The live connections of each project (projects with none are left out), in one round
    trip."""
    return every_listener(project_ids, now=now)[0]


def every_listener(
    project_ids: Iterable[str], *, now: float | None = None
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The live connections of each project, and its live share-link connections (projects
    with none are left out of each), in one round trip."""
    projects = list(dict.fromkeys(project_ids))
    if not projects:
        return {}, {}
    at = int(now if now is not None else time.time())
    pipe = get_redis().pipeline(transaction=False)
    for project_id in projects:
        pipe.zrangebyscore(project_key(project_id), at, "+inf")
        pipe.zrangebyscore(shared_project_key(project_id), at, "+inf")
    results = pipe.execute()
    owners: dict[str, list[str]] = {}
    shared: dict[str, list[str]] = {}
    for index, project_id in enumerate(projects):
        for found, members in ((owners, results[2 * index]), (shared, results[2 * index + 1])):
            if members:
                found[project_id] = list(members)
    return owners, shared
