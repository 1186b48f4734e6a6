"""Shared set-up for the benchmarks: their own database and Redis prefix, never your data."""

from __future__ import annotations

import os
import statistics
import uuid
from datetime import timedelta
from typing import Any

BENCH_DB = os.environ.get("PULSE_BENCH_DATABASE", "pulse_bench")
PG_SERVER = os.environ.get("PULSE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
BENCH_URL = f"{PG_SERVER}/{BENCH_DB}"
PREFIX = f"bench:{uuid.uuid4().hex[:8]}:"


def configure_environment(jwt_secret: str = "bench-secret-" + "x" * 40) -> None:
    """Point the functions at the benchmark database before anything reads settings."""
    os.environ.update(
        {
            "PULSE_ENVIRONMENT": "test",
            "PULSE_DATABASE_URL": BENCH_URL,
            "PULSE_REDIS_KEY_PREFIX": PREFIX,
            "PULSE_JWT_SECRET": jwt_secret,
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )


def fresh_database() -> str:
    import psycopg
    from psycopg import sql

    from pulse.db.migrate import apply_migrations

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (BENCH_DB,),
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(BENCH_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    apply_migrations(BENCH_URL)
    return BENCH_URL


def cleanup_redis() -> None:
    from pulse.cache import get_redis

    redis = get_redis()
    keys = list(redis.scan_iter(match=PREFIX + "*", count=1000))
    if keys:
        redis.delete(*keys)


def median(values: list[float]) -> float:
    return statistics.median(values)


def session_rows(
    rng: Any,
    project_id: str,
    *,
    session: str,
    user: str | None,
    start: Any,
    end: Any,
    names: list[str],
    paths: list[str],
    most: int,
) -> list[tuple[Any, ...]]:
    """The events of one session in ``pulse.data.events.COLUMNS`` order: ~10 events (an
    exponential length), ~40 s apart, from ``start``, none at or after ``end``, ``most`` at most;
    names and page paths drawn from ``names`` and ``paths``."""
    rows: list[tuple[Any, ...]] = []
    t = start
    for _ in range(min(most, max(1, int(rng.expovariate(1 / 10))))):
        t += timedelta(seconds=rng.expovariate(1 / 40))
        if t >= end:
            break
        name = rng.choice(names)
        path = rng.choice(paths)
        rows.append(
            (
                project_id,
                str(uuid.uuid4()),
                name,
                user,
                f'{{"path":"{path}"}}',
                session,
                "https://shop.example/",
                None,
                "Mozilla/5.0",
                "h",
                t,
                t,
            )
        )
    return rows
