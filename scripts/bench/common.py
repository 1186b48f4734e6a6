"""Shared set-up for the benchmarks: their own database and Redis prefix, never your data."""

from __future__ import annotations

import math
import os
import statistics
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

BENCH_DB = os.environ.get("PULSE_BENCH_DATABASE", "pulse_bench")
PG_SERVER = os.environ.get("PULSE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
BENCH_URL = f"{PG_SERVER}/{BENCH_DB}"
PREFIX = f"bench:{uuid.uuid4().hex[:8]}:"

# The generated traffic's event names (weighted by repetition) and page paths.
EVENT_NAMES = (
    ["page_view"] * 60
    + ["click"] * 15
    + ["scroll"] * 10
    + ["signup"] * 4
    + ["purchase"] * 2
    + ["add_to_cart"] * 4
    + ["$identify"] * 2
    + [f"custom_{i}" for i in range(3)]
)
PAGE_PATHS = ["/", "/pricing", "/blog", "/docs", "/signup", "/checkout"] + [
    f"/p/{i}" for i in range(50)
]


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


def use_database(name: str, *, fresh: bool) -> str:
    """The benchmark database ``name`` (dropped first when ``fresh``, made when missing), with
    the migrations applied; returns its URL."""
    import psycopg
    from psycopg import sql

    from pulse.db.migrate import apply_migrations

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"{PG_SERVER}/{name}"
    apply_migrations(url)
    use_archive(name, fresh=fresh)
    return url


# Where a benchmark database's columnar archive lives (pulse.archive), one directory per
# database. PULSE_BENCH_ARCHIVE=0 measures without it (the reports read Postgres alone).
ARCHIVE_ROOT = Path(os.environ.get("PULSE_BENCH_ARCHIVE_ROOT", "/tmp/pulse-bench-archive"))


def use_archive(database: str, *, fresh: bool) -> None:
    import shutil

    from pulse.settings import get_settings

    if os.environ.get("PULSE_BENCH_ARCHIVE", "1") == "0":
        os.environ.pop("PULSE_ARCHIVE_DIR", None)
    else:
        directory = ARCHIVE_ROOT / database
        if fresh:
            shutil.rmtree(directory, ignore_errors=True)
        os.environ["PULSE_ARCHIVE_DIR"] = str(directory)
    get_settings.cache_clear()


def fresh_database() -> str:
    return use_database(BENCH_DB, fresh=True)


def bench_project() -> str:
    """A new project of the benchmarks' owner (made on first use), in the database the
    settings point at; returns its id."""
    from pulse.data.projects import insert_project
    from pulse.data.users import get_user_by_email, insert_user
    from pulse.domain.projects import new_api_key

    owner = get_user_by_email(email="bench@pulse.local") or insert_user(
        email="bench@pulse.local", password_hash="x"
    )
    project = insert_project(owner_id=owner.id, name="bench", domain=None, api_key=new_api_key())
    return str(project.id)


def pct(values: list[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def cleanup_redis() -> None:
    from pulse.cache import get_redis

    redis = get_redis()
    keys = list(redis.scan_iter(match=PREFIX + "*", count=1000))
    if keys:
        redis.delete(*keys)


def median(values: list[float]) -> float:
    return statistics.median(values)


def copy_events(conn: Any, rows: list[tuple[Any, ...]]) -> int:
    """COPY ``rows`` (in ``pulse.data.events.COLUMNS`` order) into ``events`` on ``conn`` and
    commit; returns how many."""
    from pulse.data.events import _COLUMN_LIST, copy_text

    with conn.cursor() as cur, cur.copy(f"COPY events ({_COLUMN_LIST}) FROM STDIN") as cp:
        cp.write(copy_text(rows))
    conn.commit()
    return len(rows)


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
