"""One psycopg connection pool per process, reused across Lambda invocations."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from pulse.exceptions import ConflictError, DataLayerError
from pulse.settings import get_settings

_pool: ConnectionPool[psycopg.Connection[dict[str, object]]] | None = None
_pool_lock = threading.Lock()


def _configure(conn: psycopg.Connection[dict[str, object]]) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    # JIT compiling costs hundreds of milliseconds whenever the planner over-estimates a join
    # (it cannot see how few rows a list of time intervals selects); the queries here read few
    # rows by design, so it never pays off.
    conn.execute("SET jit = off")
    conn.commit()


@functools.cache
def database_url() -> str:
    """The settings' database URL, with the credentials from Secrets Manager when configured."""
    settings = get_settings()
    if not settings.database_secret_arn:
        return settings.database_url
    import boto3

    secret = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId=settings.database_secret_arn)[
            "SecretString"
        ]
    )
    return make_conninfo(
        settings.database_url, user=secret["username"], password=secret["password"]
    )


def get_pool() -> ConnectionPool[psycopg.Connection[dict[str, object]]]:
    """The process-wide pool, opened on first use."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                settings = get_settings()
                _pool = ConnectionPool(
                    database_url(),
                    min_size=settings.db_pool_min,
                    max_size=settings.db_pool_max,
                    kwargs={
                        "row_factory": dict_row,
                        # No server-side prepared statements: their generic plans ignore the
                        # time ranges (partition pruning, index choice; measured 20x slower on
                        # analytics queries), and RDS Proxy pins a session that prepares.
                        "prepare_threshold": None,
                        "connect_timeout": int(settings.db_connect_timeout_s),
                    },
                    configure=_configure,
                    check=ConnectionPool.check_connection,
                    open=True,
                    name="pulse",
                )
    return _pool


def close_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
            _pool = None


# The connection of the snapshot() being read in this context, if any.
_snapshot: ContextVar[psycopg.Connection[dict[str, object]] | None] = ContextVar(
    "pulse_snapshot", default=None
)


@contextmanager
def connection() -> Iterator[psycopg.Connection[dict[str, object]]]:
    """A pooled connection inside a transaction (inside ``snapshot()``, the snapshot's); a
    unique-key clash becomes ``ConflictError`` and every other driver error
    ``DataLayerError``."""
    try:
        held = _snapshot.get()
        if held is not None:
            yield held
            return
        with get_pool().connection() as conn:
            yield conn
    except psycopg.errors.UniqueViolation as exc:
        raise ConflictError("already exists") from exc
    except psycopg.Error as exc:
        raise DataLayerError(f"database error: {exc.__class__.__name__}") from exc


@contextmanager
def snapshot() -> Iterator[None]:
    """Every ``connection()`` inside reads one snapshot of the database: one pooled connection
    in a REPEATABLE READ, READ ONLY transaction. A report whose statements read the rollups and
    the queue of events not yet rolled up sees both as of one moment, though a rollup moves
    events from the one to the other meanwhile. Nested, it is the outer snapshot."""
    if _snapshot.get() is not None:
        yield
        return
    with connection() as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        token = _snapshot.set(conn)
        try:
            yield
        finally:
            _snapshot.reset(token)
            conn.rollback()
            conn.isolation_level = None
            conn.read_only = None


def fetch_all(query: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of one read, as dicts, on a pooled connection."""
    with connection() as conn:
        return [dict(r) for r in conn.execute(query, args).fetchall()]
