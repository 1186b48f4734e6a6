"""The columnar archive (pulse.archive): what the rollup writes, when a day is read from it, and
that a report read from it equals the same report read from Postgres alone (itself held to
brute force by test_breakdowns and test_filtered_reports, which run with the archive on)."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from pulse.analytics import filters, service
from pulse.analytics.periods import Period
from pulse.archive import reads, writer
from pulse.archive.store import get_store
from pulse.data.events import write_events
from pulse.db.connection import connection
from pulse.rollup import service as rollup
from tests.integration.test_breakdowns import NOW, ROLLED, _rows

START = datetime(2026, 2, 25, tzinfo=UTC)
FILTERS = [["country:DE"], ["page:/p2", "browser:Chrome"], ["prop.plan:pro"], ["event:click"]]
RANGES = [(START, NOW), (datetime(2026, 2, 26, 7, 30, tzinfo=UTC), NOW)]


@pytest.fixture
def project(api, new_user) -> str:
    user = new_user()
    res = api("POST", "/api/v1/projects", token=user["access_token"], body={"name": "A"})
    return res.json()["id"]


@pytest.fixture
def duck_reads(monkeypatch) -> Counter[str]:
    """How many reports were answered from the archive."""
    seen: Counter[str] = Counter()
    run = reads._run

    def counted(query: str, params: list[Any]) -> Any:
        out = run(query, params)
        seen["answered" if out is not None else "fell back"] += 1
        return out

    monkeypatch.setattr(reads, "_run", counted)
    return seen


def reports(project: str) -> list[Any]:
    """Every report the archive can answer, for every range and filter."""
    pid = uuid.UUID(project)
    out: list[Any] = []
    for start, end in RANGES:
        period = Period(start, end, ZoneInfo("UTC"))
        for flt in FILTERS:
            match = filters.parse(flt)
            out.append(service.overview(pid, period, None, NOW, match))
            out.append(service.timeseries(pid, period, "hour", None, NOW, match))
            out.append(service.timeseries(pid, period, "day", "page_view", NOW, match))
            out.append(service.top_events(pid, period, 10, NOW, match))
            for dimension in ROLLED:
                out.append(service.breakdown(pid, period, dimension, 10, NOW, match))
            out.append(service.breakdown(pid, period, None, 10, NOW, match, "plan"))
        out.append(service.breakdown(pid, period, None, 10, NOW, filters.parse([]), "plan"))
    return out


def without_archive(project: str, monkeypatch) -> list[Any]:
    with monkeypatch.context() as m:
        m.setattr(reads, "get_store", lambda: None)
        return reports(project)


def archived(project: str) -> dict[date, str]:
    with connection() as conn:
        rows = conn.execute(
            "SELECT day, object FROM archived_days WHERE project_id = %s", (project,)
        ).fetchall()
    return {r["day"]: r["object"] for r in rows}  # type: ignore[misc]


def test_the_rollup_archives_closed_days_and_reports_read_them(
    project, duck_reads, monkeypatch
) -> None:
    rows = _rows(project, random.Random(5), START, 1500)
    write_events(rows)
    done = rollup.run(now=NOW)
    # Four whole days before NOW's (2026-03-01 12:20): the day NOW is in has not closed.
    assert sorted(archived(project)) == [date(2026, 2, d) for d in (25, 26, 27, 28)]
    assert done["archived_days"] >= 4
    store = get_store()
    assert store is not None
    for key in archived(project).values():
        assert store.local_path(key).stat().st_size > 0
    from_archive = reports(project)
    assert duck_reads["answered"] > 0 and duck_reads["fell back"] == 0
    assert from_archive == without_archive(project, monkeypatch)
    with connection() as conn:
        row = conn.execute(
            "SELECT sum(events) AS n FROM archived_days WHERE project_id = %s", (project,)
        ).fetchone()
    assert row is not None
    assert row["n"] == sum(1 for r in rows if r[10] < datetime(2026, 3, 1, tzinfo=UTC))


def test_a_report_changes_when_its_file_does(project) -> None:
    """The reports do read the files: one event taken out of a day's file is one event less."""
    write_events(_rows(project, random.Random(6), START, 600))
    rollup.run(now=NOW)
    key = archived(project)[date(2026, 2, 26)]
    store = get_store()
    assert store is not None
    path = store.local_path(key)
    period = Period(START, NOW, ZoneInfo("UTC"))
    match = filters.parse(["event:click"])
    before = service.overview(project_id := uuid.UUID(project), period, None, NOW, match)
    cut = Path(str(path) + ".cut.parquet")
    db = duckdb.connect()
    db.execute(
        f"COPY (SELECT * FROM read_parquet('{path}') WHERE NOT (event = 'click' AND ts = "
        f"(SELECT min(ts) FROM read_parquet('{path}') WHERE event = 'click'))) TO '{cut}' "
        "(FORMAT parquet)"
    )
    cut.replace(path)
    after = service.overview(project_id, period, None, NOW, match)
    assert after["total_events"] == before["total_events"] - 1


def test_late_events_take_a_day_out_of_the_archive_until_it_is_written_again(
    project, duck_reads, monkeypatch
) -> None:
    rng = random.Random(7)
    rows = _rows(project, rng, START, 900)
    write_events(rows)
    rollup.run(now=NOW)
    first = archived(project)
    late = _rows(project, rng, datetime(2026, 2, 26, tzinfo=UTC), 40)
    late = [r for r in late if r[10] < datetime(2026, 2, 27, tzinfo=UTC)]
    assert late
    write_events(late)
    # Not rolled up yet: the day's file misses them, so the day is read from Postgres.
    with connection() as conn:
        readable = reads.sql.readable_days(
            conn, project_id=uuid.UUID(project), first=date(2026, 2, 25), last=date(2026, 2, 28)
        )
    assert date(2026, 2, 26) not in {d.day for d in readable}
    assert reports(project) == without_archive(project, monkeypatch)
    rollup.run(now=NOW)
    second = archived(project)
    assert second.keys() == first.keys()
    assert second[date(2026, 2, 26)] != first[date(2026, 2, 26)]
    assert second[date(2026, 2, 25)] == first[date(2026, 2, 25)]
    assert reports(project) == without_archive(project, monkeypatch)
    # The replaced file is deleted once no report can be reading it.
    store = get_store()
    assert store is not None
    stale = store.local_path(first[date(2026, 2, 26)])
    assert stale.exists()
    with connection() as conn:
        conn.execute(
            "UPDATE archive_orphans SET orphaned_at = now() - interval '1 hour' WHERE object = %s",
            (first[date(2026, 2, 26)],),
        )
    assert writer.run(now=NOW)["orphans_deleted"] >= 1
    assert not stale.exists()


def test_a_day_is_not_archived_while_dirty_or_locked(project) -> None:
    write_events(_rows(project, random.Random(8), START, 300))
    with connection() as conn:
        conn.execute(  # a rollup of another process holds the project
            "SELECT pg_advisory_xact_lock(hashtextextended('pulse.rollup:' || %s::text, 0))",
            (project,),
        )
        assert writer.write_day(get_store(), uuid.UUID(project), date(2026, 2, 25)) is None  # type: ignore[arg-type]
    rollup.run(now=NOW)
    assert date(2026, 2, 25) in archived(project)
    # A dirty hour (written, not rolled up) keeps its day out of the writer's list.
    write_events(_rows(project, random.Random(9), datetime(2026, 2, 28, 23, tzinfo=UTC), 5))
    with connection() as conn:
        pending = conn.execute(
            "SELECT day FROM archive_pending WHERE project_id = %s", (project,)
        ).fetchall()
    assert date(2026, 2, 28) not in {r["day"] for r in pending}  # archived, and not re-added
    ready = {d for p, d in reads.sql.ready_days(before=date(2026, 3, 1), limit=1000)}
    assert date(2026, 2, 28) not in ready


def test_awkward_values_come_back_as_postgres_gives_them(project, duck_reads, monkeypatch) -> None:
    """Quotes, commas, new lines, non-ASCII text, an empty string, JSON numbers, booleans,
    nulls and objects, missing ids: the archive's CSV and Parquet round trip keeps them all."""
    values: list[Any] = [
        'say "hi", then\nleave',
        "",
        "ünïcødé ✓",
        "a,b;c\td",
        12.50,
        0,
        True,
        None,
        {"nested": [1, "x"]},
        "\\N",
        "NULL",
    ]
    rows = []
    for i in range(200):
        ts = START + timedelta(hours=i % 90, minutes=i % 60)
        props = {
            "odd": values[i % len(values)],
            f"key,{i % 3}": "v",
            "utm_source": values[(i + 3) % len(values)],
        }
        rows.append(
            (
                project,
                str(uuid.uuid4()),
                ["page_view", 'ev "quoted"', "ev,comma"][i % 3],
                None if i % 4 == 0 else f"user {i % 7}",
                json.dumps(props),
                None if i % 5 == 0 else f"s\n{i % 11}",
                'https://shop.test/x"y?q=1',
                None,
                "UA",
                "h",
                ts,
                ts,
                None,
                "Linux",
                "desktop",
                "DE" if i % 2 else None,
            )
        )
    write_events(rows)
    rollup.run(now=NOW)
    pid = uuid.UUID(project)
    period = Period(START, NOW, ZoneInfo("UTC"))

    def answers() -> list[Any]:
        out: list[Any] = []
        for key in ("odd", "key,0", "key,2"):
            out.append(service.breakdown(pid, period, None, 20, NOW, filters.parse([]), key))
        for flt in (["event:ev,comma"], ["event:page_view"], ["os:Linux"]):
            out.append(service.breakdown(pid, period, "utm_source", 20, NOW, filters.parse(flt)))
        for v in ["", 'say "hi", then\nleave', "12.5", "true", '{"nested": [1, "x"]}', "\\N"]:
            match = filters.parse([f"prop.odd:{v}"] if v else ["event:ev,comma"])
            out.append(service.overview(pid, period, None, NOW, match))
            out.append(service.top_events(pid, period, 10, NOW, match))
        return out

    got = answers()
    assert duck_reads["answered"] > 0
    assert got == without_archive_answers(answers, monkeypatch)
    odd = {item["value"]: item["count"] for item in got[0]["items"]}
    assert odd[""] > 0 and odd["12.5"] > 0 and odd["true"] > 0 and None not in odd
    sources = {item["value"] for item in got[4]["items"]}
    assert "" in sources and 'say "hi", then\nleave' in sources


def without_archive_answers(answers: Any, monkeypatch) -> Any:
    with monkeypatch.context() as m:
        m.setattr(reads, "get_store", lambda: None)
        return answers()


def test_files_gone_from_the_directory_are_written_again(project, monkeypatch) -> None:
    write_events(_rows(project, random.Random(10), START, 400))
    rollup.run(now=NOW)
    first = archived(project)
    store = get_store()
    assert store is not None
    store.local_path(first[date(2026, 2, 27)]).unlink()  # the directory cleaned by hand
    # Until the writer runs, a report that meets the missing file reads Postgres instead.
    assert reports(project) == without_archive(project, monkeypatch)
    done = writer.run(now=NOW)
    assert done["missing_rewritten"] >= 1
    second = archived(project)
    assert second[date(2026, 2, 27)] != first[date(2026, 2, 27)]
    assert store.local_path(second[date(2026, 2, 27)]).is_file()
    assert second[date(2026, 2, 26)] == first[date(2026, 2, 26)]
    assert reports(project) == without_archive(project, monkeypatch)


def test_a_deleted_projects_files_are_deleted(api, new_user) -> None:
    user = new_user()
    token = user["access_token"]
    project = api("POST", "/api/v1/projects", token=token, body={"name": "Gone"}).json()["id"]
    write_events(_rows(project, random.Random(12), START, 200))
    rollup.run(now=NOW)
    files = archived(project)
    assert files
    store = get_store()
    assert store is not None
    assert api("DELETE", f"/api/v1/projects/{project}", token=token).status == 204
    with connection() as conn:
        conn.execute(
            "UPDATE archive_orphans SET orphaned_at = now() - interval '1 hour' "
            "WHERE object = ANY(%s)",
            (list(files.values()),),
        )
    writer.run(now=NOW)
    assert not any(store.local_path(key).exists() for key in files.values())


def test_a_day_that_cannot_be_written_does_not_hold_up_the_others(project, monkeypatch) -> None:
    write_events(_rows(project, random.Random(13), START, 400))
    from pulse.archive import duck

    write = duck.write_parquet

    def fails_for_the_26th(csv_path: Path, parquet_path: Path) -> Any:
        with open(csv_path, encoding="utf-8") as f:
            first = f.readline()
        if '"' + str(_us_of(datetime(2026, 2, 26, tzinfo=UTC)))[:5] in first:
            raise OSError("the store is full")
        return write(csv_path, parquet_path)

    monkeypatch.setattr(duck, "write_parquet", fails_for_the_26th)
    with pytest.raises(writer.ArchiveWriteError, match="1 day"):
        rollup.run(now=NOW)
    assert sorted(archived(project)) == [date(2026, 2, d) for d in (25, 27, 28)]
    monkeypatch.setattr(duck, "write_parquet", write)
    assert rollup.run(now=NOW)["archived_days"] >= 1  # it stayed pending
    assert date(2026, 2, 26) in archived(project)


def _us_of(t: datetime) -> int:
    return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
