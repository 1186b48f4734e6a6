"""The local runtime's fallbacks: embedded Redis and Postgres when none answers."""

from __future__ import annotations

from pathlib import Path

import psycopg
import redis

from localcloud import services
from tests.ports import free_port


def test_configured_services_are_used_when_they_answer(tmp_path: Path) -> None:
    assert services.ensure_redis("redis://127.0.0.1:6379/0", tmp_path) is None
    assert (
        services.ensure_postgres("postgresql://postgres@127.0.0.1:5432/postgres", tmp_path) is None
    )


def test_embedded_redis_starts_and_keeps_its_data(tmp_path: Path) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = services.ensure_redis(url, tmp_path)
    assert server is not None
    try:
        redis.Redis.from_url(url).set("kept", "yes")
    finally:
        server.stop()
    server = services.ensure_redis(url, tmp_path)
    try:
        assert redis.Redis.from_url(url).get("kept") == b"yes"
    finally:
        server.stop()


def test_embedded_postgres_starts_and_keeps_its_data(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql://postgres@127.0.0.1:{port}/pulse"
    server = services.ensure_postgres(url, tmp_path)
    assert server is not None
    try:
        assert services.ensure_database(url) is True
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (v int)")
            conn.execute("INSERT INTO kept VALUES (42)")
    finally:
        server.stop()
    server = services.ensure_postgres(url, tmp_path)
    try:
        assert services.ensure_database(url) is False
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT v FROM kept").fetchone() == (42,)
    finally:
        server.stop()
