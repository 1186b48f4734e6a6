from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import psycopg
import pytest

from pulse.db import migrate
from pulse.db.migrate import Migration, apply_migrations, available_migrations
from tests.conftest import PG_SERVER_URL
from tests.integration.conftest import recreate_database
from tests.integration.test_rollup_increments import regrouped

SCRATCH = "pulse_test_migrations"


@pytest.fixture
def scratch_db() -> str:
    recreate_database(SCRATCH)
    return f"{PG_SERVER_URL}/{SCRATCH}"


# Every migration in the tree, read once (the tests below narrow what migrate sees).
_ALL = available_migrations()


def _migrate(database: str, monkeypatch, *, before: int | None = None) -> list[str]:
    """Apply the migrations numbered below ``before`` (all of them when None); returns the names
    applied."""
    monkeypatch.setattr(
        migrate,
        "available_migrations",
        lambda: [m for m in _ALL if before is None or m.version < before],
    )
    return apply_migrations(database)


def test_migrations_apply_once_and_are_recorded(scratch_db: str) -> None:
    names = [f"{m.version:04d}_{m.name}" for m in available_migrations()]
    assert apply_migrations(scratch_db) == names
    assert apply_migrations(scratch_db) == []
    with psycopg.connect(scratch_db) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [m.version for m in available_migrations()]


def test_an_edited_applied_migration_is_refused(scratch_db: str, monkeypatch) -> None:
    apply_migrations(scratch_db)
    first = available_migrations()[0]
    edited = Migration(first.version, first.name, first.sql + "\n-- edited")
    monkeypatch.setattr(migrate, "available_migrations", lambda: [edited])
    with pytest.raises(RuntimeError, match="edited after it was applied"):
        apply_migrations(scratch_db)


def test_event_partitions_exist_around_now_and_are_made_on_demand(scratch_db: str) -> None:
    apply_migrations(scratch_db)
    now = datetime.now(UTC)
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        parts = {
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'events'::regclass"
            )
        }
        assert f"events_{now:%Y%m}" in parts
        made = conn.execute(
            "SELECT pulse_ensure_event_partitions('2031-01-15', '2031-03-02')"
        ).fetchone()[0]
        assert made == 3
        again = conn.execute(
            "SELECT pulse_ensure_event_partitions('2031-01-15', '2031-03-02')"
        ).fetchone()[0]
        assert again == 0
        conn.execute(
            'INSERT INTO events (project_id, id, event, "timestamp") '
            "VALUES (gen_random_uuid(), gen_random_uuid(), 'x', '2031-02-28T23:59:59Z')"
        )


PROJECT = "00000000-0000-4000-8000-000000000001"


def _insert_session_events(
    conn: psycopg.Connection, n: int, *, session: str, page: str, minutes: str
) -> None:
    """``n`` events (i = 1..n): a click every third, a user every fourth; session, page and
    minutes before now are SQL over i."""
    conn.execute(
        "INSERT INTO events (project_id, id, event, distinct_id, session_id, page_url, "
        '"timestamp") SELECT %s, gen_random_uuid(), '
        "CASE WHEN i %% 3 = 0 THEN 'click' ELSE 'page_view' END, "
        f"CASE WHEN i %% 4 = 0 THEN 'u' || (i %% 5) END, 's' || ({session}), "
        f"'https://a.test/p' || ({page}), "
        f"date_trunc('minute', now()) - make_interval(mins => {minutes}) "
        f"FROM generate_series(1, {n}) AS i",
        (PROJECT,),
    )


def _rebuild_sessions(conn: psycopg.Connection, hours: list[datetime]) -> None:
    """What the rollup does for hours it rebuilds: clear their session parts, then merge all
    their events in as new (and fold the touched sessions' totals again)."""
    from pulse.data import sessions

    conn.execute(
        'CREATE TEMP TABLE q AS SELECT e."timestamp", e.event, e.session_id, e.distinct_id, '
        f"CASE WHEN e.event = 'page_view' THEN {sessions.PATH} END AS path FROM events e"
    )
    sessions.add_new_events(conn, project_id=PROJECT, rebuild=hours)


def test_the_session_parts_migration_fills_them_as_the_rollup_would(
    scratch_db: str, monkeypatch
) -> None:
    _migrate(scratch_db, monkeypatch, before=4)
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        _insert_session_events(conn, 300, session="i %% 7", page="i %% 3", minutes="i * 7")
    assert _migrate(scratch_db, monkeypatch, before=5) == ["0004_session_hourly"]
    _migrate(scratch_db, monkeypatch)
    query = "SELECT * FROM session_hourly ORDER BY project_id, hour, session_id"
    with psycopg.connect(scratch_db) as conn:
        migrated = conn.execute(query).fetchall()
        hours = [r[0] for r in conn.execute("SELECT DISTINCT hour FROM session_hourly ORDER BY 1")]
        _rebuild_sessions(conn, hours)
        assert conn.execute(query).fetchall() == migrated
    assert len(migrated) > 30


def test_the_exit_pages_migration_fills_them_as_the_rollup_would(
    scratch_db: str, monkeypatch
) -> None:
    # Given a database from before 0015, with sessions rolled up (parts and totals, no exit)
    # whose page views tie in time now and then
    _migrate(scratch_db, monkeypatch, before=15)
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        # two events a minute, of one session: ties in time
        _insert_session_events(
            conn, 400, session="(i / 2) %% 7", page="i %% 5", minutes="(i / 2) * 7"
        )
        conn.execute(
            "INSERT INTO session_hourly (project_id, hour, session_id, started_at, ended_at, "
            "events, page_views) SELECT project_id, date_trunc('hour', \"timestamp\"), "
            'session_id, min("timestamp"), max("timestamp"), count(*), '
            "count(*) FILTER (WHERE event = 'page_view') FROM events GROUP BY 1, 2, 3"
        )
        conn.execute(
            "INSERT INTO session_totals (project_id, session_id, started_at, ended_at, events, "
            "page_views) SELECT project_id, session_id, min(started_at), max(ended_at), "
            "sum(events), sum(page_views) FROM session_hourly GROUP BY 1, 2"
        )
    # When 0015 is applied
    assert _migrate(scratch_db, monkeypatch, before=16) == ["0015_session_exit_pages"]
    # Then every part and every session has the exit page the rollup gives it
    parts = "SELECT hour, session_id, exit_page, exit_at FROM session_hourly ORDER BY 1, 2"
    totals = "SELECT session_id, exit_page FROM session_totals ORDER BY 1"
    with psycopg.connect(scratch_db) as conn:
        migrated = (conn.execute(parts).fetchall(), conn.execute(totals).fetchall())
        hours = [r[0] for r in conn.execute("SELECT DISTINCT hour FROM session_hourly")]
        _rebuild_sessions(conn, hours)
        assert (conn.execute(parts).fetchall(), conn.execute(totals).fetchall()) == migrated
    assert sum(r[2] is not None for r in migrated[0]) > 20 and len(migrated[1]) == 7


def test_the_visit_migration_keeps_stored_events_and_projects(scratch_db: str, monkeypatch) -> None:
    # Given a database from before 0006, with a project and an event
    _migrate(scratch_db, monkeypatch, before=6)
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        user = conn.execute(
            "INSERT INTO users (email, password_hash) VALUES ('m@x.io', 'x') RETURNING id"
        ).fetchone()[0]
        project = conn.execute(
            "INSERT INTO projects (owner_id, name, api_key) VALUES (%s, 'P', 'proj_m') "
            "RETURNING id",
            (user,),
        ).fetchone()[0]
        conn.execute(
            'INSERT INTO events (project_id, id, event, "timestamp") '
            "VALUES (%s, gen_random_uuid(), 'x', now())",
            (project,),
        )
    # When 0006 is applied
    assert "0006_visit_attributes" in _migrate(scratch_db, monkeypatch)
    # Then the event is there with nothing known of its visit, and the project drops bots
    with psycopg.connect(scratch_db) as conn:
        assert conn.execute("SELECT browser, os, device, country FROM events").fetchall() == [
            (None, None, None, None)
        ]
        assert conn.execute("SELECT keep_bots FROM projects").fetchone()[0] is False
        assert conn.execute("SELECT count(*) FROM bot_tallies").fetchone()[0] == 0


def test_the_presence_key_migration_keeps_every_presence_row(scratch_db: str, monkeypatch) -> None:
    # Given a database from before 0012, with presence rows and their chains
    _migrate(scratch_db, monkeypatch, before=12)
    query = (
        "SELECT project_id, kind, event, hour, h, prev_hour FROM presence_hourly "
        "ORDER BY 1, 2, 3, 4, 5"
    )
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO presence_hourly (project_id, kind, event, hour, h, prev_hour) "
            "SELECT %s::uuid, k, e, timestamptz '2026-03-01' + make_interval(hours => n), v, "
            "CASE WHEN n > 0 THEN timestamptz '2026-03-01' + make_interval(hours => n - 1) END "
            "FROM unnest(ARRAY['s', 'u']::\"char\"[]) k, unnest(ARRAY['', 'buy']) e, "
            "generate_series(0, 5) n, generate_series(1, 4) v",
            (PROJECT,),
        )
        before = conn.execute(query).fetchall()
    # When 0012 is applied
    assert "0012_presence_value_key" in _migrate(scratch_db, monkeypatch)
    # Then every row is there, the key is in value order and still refuses a second copy
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        assert conn.execute(query).fetchall() == before and len(before) == 96
        key = conn.execute(
            "SELECT pg_get_indexdef(conindid) FROM pg_constraint "
            "WHERE conname = 'presence_hourly_pkey'"
        ).fetchone()[0]
        assert key.endswith("(project_id, kind, event, h, hour)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO presence_hourly (project_id, kind, event, hour, h) "
                "VALUES (%s, 's', '', timestamptz '2026-03-01', 1)",
                (PROJECT,),
            )


def test_the_presence_days_migration_regroups_every_presence_count(
    scratch_db: str, monkeypatch
) -> None:
    # Given a database from before 0014, with presence counts across UTC days
    _migrate(scratch_db, monkeypatch, before=14)
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO presence_counts (project_id, kind, event, hour, prev_hour, n) "
            "SELECT %s::uuid, k, e, timestamptz '2026-03-01 20:00Z' + make_interval(hours => h), "
            "CASE WHEN p > 0 THEN timestamptz '2026-03-01 20:00Z' + make_interval(hours => h - p) "
            "END, h + p + 1 "
            "FROM unnest(ARRAY['s', 'U']::\"char\"[]) k, unnest(ARRAY['', 'buy']) e, "
            "generate_series(0, 40, 3) h, generate_series(0, 30, 7) p",
            (PROJECT,),
        )
        counts = conn.execute(
            "SELECT kind, event, hour, prev_hour, n FROM presence_counts"
        ).fetchall()
    # When 0014 is applied
    assert "0014_presence_days" in _migrate(scratch_db, monkeypatch)
    # Then the two tables hold presence_counts summed by UTC day, and by the earlier end's hour
    days, nexts = regrouped(Counter({tuple(r[:4]): r[4] for r in counts}))
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        got_days = conn.execute("SELECT kind, event, day, prev_day, n FROM presence_days")
        assert Counter({tuple(r[:4]): r[4] for r in got_days.fetchall()}) == days
        got_next = conn.execute("SELECT kind, event, hour, next_day, n FROM presence_next")
        assert Counter({tuple(r[:4]): r[4] for r in got_next.fetchall()}) == nexts
    assert len(days) > 4 and len(nexts) > 4


def test_autovacuum_comes_early_on_every_table_the_reports_read(database: str) -> None:
    # Index-only scans need the visibility map that only a VACUUM sets (migration 0013)
    from pulse.data.rollups import ROLLUP_TABLES

    with psycopg.connect(database) as conn:
        options = dict(
            conn.execute(
                "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)",
                (list(ROLLUP_TABLES),),
            ).fetchall()
        )
    assert set(options) == set(ROLLUP_TABLES)
    for table, opts in options.items():
        assert "autovacuum_vacuum_insert_scale_factor=0.01" in (opts or []), table
        assert "autovacuum_vacuum_scale_factor=0.01" in (opts or []), table
