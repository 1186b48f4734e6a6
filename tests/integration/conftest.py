"""Real Postgres (a fresh test database) and real Redis (a per-run key prefix)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pulse import settings as pulse_settings
from pulse.cache import get_redis, reset_redis
from pulse.db.connection import close_pool
from pulse.db.migrate import apply_migrations
from pulse.realtime import push
from tests.apigw import LambdaContextStub, Response, call, http_event
from tests.conftest import PG_SERVER_URL, TEST_DATABASE, TEST_DATABASE_URL, TEST_REDIS_PREFIX
from tests.ws_support import RunningGateway, running_gateway

_emails = itertools.count()


def recreate_database(name: str) -> None:
    with psycopg.connect(f"{PG_SERVER_URL}/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    recreate_database(TEST_DATABASE)
    apply_migrations(TEST_DATABASE_URL)
    yield TEST_DATABASE_URL
    close_pool()


@pytest.fixture(scope="session", autouse=True)
def _redis_cleanup() -> Iterator[None]:
    yield
    redis = get_redis()
    keys = list(redis.scan_iter(match=TEST_REDIS_PREFIX + "*", count=1000))
    if keys:
        redis.delete(*keys)
    reset_redis()


@pytest.fixture
def db(database: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def api_handler(database: str) -> Any:
    from pulse.handlers.api import handler

    return handler


ApiCall = Callable[..., Response]


@pytest.fixture
def api(api_handler: Any) -> ApiCall:
    """``api("POST", "/api/v1/...", body=..., token=...)`` through the real Lambda handler."""

    def _call(method: str, path: str, **kwargs: Any) -> Response:
        return call(api_handler, http_event(method, path, **kwargs))

    return _call


@pytest.fixture
def new_user(api: ApiCall) -> Callable[..., dict[str, Any]]:
    """Register and log in a fresh user; returns email, password, tokens."""

    def _make(password: str = "correct-horse-9") -> dict[str, Any]:
        email = f"user{next(_emails)}-{uuid.uuid4().hex[:8]}@example.com"
        reg = api("POST", "/api/v1/auth/register", body={"email": email, "password": password})
        assert reg.status == 202, reg.body
        login = api("POST", "/api/v1/auth/login", body={"email": email, "password": password})
        assert login.status == 200, login.body
        me = api("GET", "/api/v1/auth/me", token=login.json()["access_token"]).json()
        return {"email": email, "password": password, "id": me["id"], **login.json()}

    return _make


# The "ws" function and a local gateway for its replies (test_realtime*.py) ---------------------


def configure_ws(monkeypatch: pytest.MonkeyPatch, management_url: str, **env: str) -> None:
    monkeypatch.setenv("PULSE_WEBSOCKET_MANAGEMENT_URL", management_url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pulse_settings.get_settings.cache_clear()
    push.reset_clients()


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningGateway]:
    """A local gateway with no routes: it holds client connections and serves @connections;
    the tests call the ws function and the fan-out themselves."""
    with running_gateway() as running:
        configure_ws(monkeypatch, running.management_url)
        yield running
    pulse_settings.get_settings.cache_clear()
    push.reset_clients()


@pytest.fixture(scope="module")
def ws_handler(database: str) -> Any:
    from pulse.handlers.ws import handler

    return handler


@pytest.fixture
def ws(ws_handler: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda event: ws_handler(event, LambdaContextStub(function_name="pulse-ws"))
