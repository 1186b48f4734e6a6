"""What an event costs to keep: bytes in Postgres per event (heap, TOAST, each index, and the
tables the rollup derives from it) and bytes on the Kinesis stream per event, on seeded traffic.

    .venv/bin/python scripts/bench/storage.py                    # 100k events, 2 a request
    .venv/bin/python scripts/bench/storage.py --events 200000 --per-request 10 --json

The traffic is ``scripts/seed_events.py``'s (real browser User-Agents, pages, referrers, UTM
tags, identified users, sessions), sent request by request through the ingest function's own
``handle`` (validation, enrichment, the record it puts on the stream: captured here instead of
sent), then through the processor's ``process_batch`` and the rollup's ``run``, into a fresh
database ``<PULSE_BENCH_DATABASE>_storage``. Nothing is estimated: every figure is read from
``pg_relation_size`` / ``pg_indexes_size`` / ``pg_column_size`` after a ``VACUUM ANALYZE``, and
from the bytes of the captured records. These are the inputs ``docs/prices.json`` names
``stored_bytes_per_event`` and ``record_bytes_per_event``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from scripts.bench.common import (  # noqa: E402
    BENCH_DB,
    cleanup_redis,
    configure_environment,
    use_database,
)

configure_environment()
# Emptied by every rollup run (their size follows the backlog of a run, not the events kept).
QUEUES = ("rollup_queue", "rollup_dirty_hours")
BROWSER_HEADERS = {"content-type": "application/json", "accept-language": "en-GB,en;q=0.9"}


def _project() -> tuple[str, str]:
    from pulse.data.projects import insert_project
    from pulse.data.users import get_user_by_email, insert_user
    from pulse.domain.projects import new_api_key

    owner = get_user_by_email(email="bench@pulse.local") or insert_user(
        email="bench@pulse.local", password_hash="x"
    )
    project = insert_project(owner_id=owner.id, name="storage", domain=None, api_key=new_api_key())
    return str(project.id), project.api_key


def _requests(api_key: str, events: int, per_request: int, seed: int) -> Iterator[dict[str, Any]]:
    """API Gateway v2 events of the seeded traffic, ``per_request`` events each (one browser's
    events share a request, as the SDK sends them), from public IPv4 addresses."""
    from scripts import seed_events

    traffic = seed_events.generate_traffic(
        events, days=7, now=datetime.now(UTC), seed=seed, behaviour=None
    )
    rng = random.Random(seed)
    for batch in seed_events.make_batches(traffic.events, size=per_request):
        body = {
            "api_key": api_key,
            "sent_at": datetime.now(UTC).isoformat(),
            "events": batch.events,
        }
        first = rng.choice([23, 45, 81, 92, 151, 185, 203])  # public, routed blocks
        ip = f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        yield {
            "version": "2.0",
            "routeKey": "POST /api/v1/events/ingest",
            "rawPath": "/api/v1/events/ingest",
            "headers": {**BROWSER_HEADERS, "user-agent": batch.user_agent},
            "requestContext": {"http": {"method": "POST", "sourceIp": ip}},
            "body": json.dumps(body, separators=(",", ":")),
            "isBase64Encoded": False,
        }


def ingest(api_key: str, events: int, per_request: int, seed: int) -> tuple[list[bytes], int]:
    """Every request through ``pulse.ingest.service.handle``; returns the records it would have
    put on the stream and the events it accepted."""
    from pulse import observability
    from pulse.ingest import publisher, service
    from pulse.ingest.config import IngestSettings

    # Redis and the key prefix come from the bench's environment (pulse.cache); the rate limit
    # is lifted, and nothing is sent to a stream.
    settings = IngestSettings(
        redis_url="",
        redis_key_prefix="",
        events_stream="events",
        rate_limit_per_minute=10**9,
        api_key_cache_ttl_s=300,
        put_attempts=1,
    )
    captured: list[bytes] = []

    def capture(stream: str, records: list[dict[str, Any]], *, attempts: int) -> None:
        captured.extend(bytes(r["Data"]) for r in records)

    publisher.put_all = capture  # type: ignore[assignment]
    observability.count = lambda *args, **kwargs: None  # no EMF lines burying the figures
    accepted = 0
    for request in _requests(api_key, events, per_request, seed):
        response = service.handle(request, settings)
        if response["statusCode"] != 202:
            raise SystemExit(f"ingest answered {response['statusCode']}: {response.get('body')}")
        accepted += int(json.loads(response["body"])["accepted"])
    return captured, accepted


def process(records: list[bytes]) -> None:
    from pulse.processor.service import process_batch

    for start in range(0, len(records), 500):
        batch = {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": "p",
                        "sequenceNumber": str(10**20 + start + i),
                        "data": base64.b64encode(data).decode(),
                        "approximateArrivalTimestamp": time.time(),
                    },
                    "eventSource": "aws:kinesis",
                    "eventID": f"shardId-000000000000:{10**20 + start + i}",
                }
                for i, data in enumerate(records[start : start + 500])
            ]
        }
        result = process_batch(batch)
        if result != {"batchItemFailures": []}:
            raise SystemExit(f"processor failed records: {result}")


def rollup() -> None:
    from pulse.rollup import service

    for _ in range(100):
        done = service.run()
        if not any(done.values()):
            return


def active_ms() -> float:
    """The database's ``pg_stat_database.active_time``: ms spent executing statements in it (the
    server's work, not the client's), summed over its sessions."""
    import psycopg

    from pulse.settings import get_settings

    with psycopg.connect(get_settings().database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        row = conn.execute(
            "SELECT active_time FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


def record_fit(records: list[bytes]) -> tuple[float, float]:
    """Bytes of a record = envelope + events x bytes an event (least squares over the records)."""
    import statistics

    sizes = [float(len(r)) for r in records]
    counts = [float(len(json.loads(r)["events"])) for r in records]
    if len(set(counts)) < 2:
        return 0.0, statistics.fmean(s / c for s, c in zip(sizes, counts, strict=True))
    slope, intercept = statistics.linear_regression(counts, sizes)
    return intercept, slope


def archive_bytes(conn: Any) -> dict[str, Any]:
    """The columnar archive's files (pulse.archive; on in the benchmarks): bytes an archived
    event (the closed days the rollup archived; not in Postgres, so not in the figures above)."""
    row = conn.execute(
        "SELECT count(*), coalesce(sum(events), 0), coalesce(sum(bytes), 0) FROM archived_days"
    ).fetchone()
    days, events, size = (int(v) for v in row)
    return {
        "archived_days": days,
        "archived_events": events,
        "archive_bytes_per_event": size / events if events else None,
    }


def measure(events: int) -> dict[str, Any]:
    """Bytes per stored event: the events partitions (heap, TOAST, each index) and each other
    table that grows with the events, after VACUUM ANALYZE."""
    import psycopg

    from pulse.settings import get_settings

    with psycopg.connect(get_settings().database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        archive = archive_bytes(conn)
        stored = conn.execute("SELECT count(*) FROM events").fetchone()
        assert stored is not None
        if int(stored[0]) != events:
            raise SystemExit(f"stored {stored[0]:,} of {events:,} accepted events")
        heap, toast = conn.execute(
            """
            SELECT sum(pg_relation_size(c.oid)),
                   sum(coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0))
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'events'::regclass
            """
        ).fetchone() or (0, 0)
        indexes = dict(
            conn.execute(
                """
                SELECT parent.relname, sum(pg_relation_size(child.oid))
                FROM pg_index pi
                JOIN pg_class parent ON parent.oid = pi.indexrelid
                JOIN pg_inherits inh ON inh.inhparent = parent.oid
                JOIN pg_class child ON child.oid = inh.inhrelid
                WHERE pi.indrelid = 'events'::regclass
                GROUP BY parent.relname ORDER BY 1
                """
            ).fetchall()
        )
        columns = dict(
            conn.execute(
                """
                SELECT a.attname, 0 FROM pg_attribute a
                WHERE a.attrelid = 'events'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                """
            ).fetchall()
        )
        for name in columns:
            row = conn.execute(
                f'SELECT coalesce(sum(pg_column_size("{name}")), 0) FROM events'  # noqa: S608
            ).fetchone()
            columns[name] = int(row[0]) if row else 0
        others = dict(
            conn.execute(
                """
                SELECT c.relname, pg_total_relation_size(c.oid)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relispartition
                  AND c.relname NOT IN ('users', 'projects', 'schema_migrations')
                ORDER BY 2 DESC
                """
            ).fetchall()
        )
    per = 1 / events
    index_bytes = sum(int(v) for v in indexes.values())
    events_total = int(heap) + int(toast) + index_bytes
    derived = {k: int(v) * per for k, v in others.items() if int(v) > 0 and k not in QUEUES}
    queues = {k: int(v) * per for k, v in others.items() if k in QUEUES}
    return {
        "events": events,
        "events_table_bytes_per_event": events_total * per,
        "heap_bytes_per_event": int(heap) * per,
        "toast_bytes_per_event": int(toast) * per,
        "index_bytes_per_event": {k: int(v) * per for k, v in indexes.items()},
        "column_bytes_per_event": {k: v * per for k, v in columns.items()},
        "derived_tables_bytes_per_event": derived,
        "derived_bytes_per_event": sum(derived.values()),
        "queue_bytes_per_event_not_counted": queues,
        "stored_bytes_per_event": events_total * per + sum(derived.values()),
        **archive,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--per-request", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["PULSE_DATABASE_URL"] = use_database(f"{BENCH_DB}_storage", fresh=True)
    project_id, api_key = _project()
    started = time.monotonic()
    records, accepted = ingest(api_key, args.events, args.per_request, args.seed)
    t0, a0 = time.monotonic(), active_ms()
    process(records)
    t1, a1 = time.monotonic(), active_ms()
    rollup()
    t2, a2 = time.monotonic(), active_ms()
    result = measure(accepted)
    result["record_bytes_per_event"] = sum(len(r) for r in records) / accepted
    result["events_per_record"] = accepted / len(records)
    envelope, per_event = record_fit(records)
    result["record_envelope_bytes"] = envelope
    result["record_bytes_per_event_fitted"] = per_event
    result["processor_ms_per_event"] = (t1 - t0) * 1000 / accepted
    result["processor_db_ms_per_event"] = (a1 - a0) / accepted
    result["rollup_ms_per_event"] = (t2 - t1) * 1000 / accepted
    result["rollup_db_ms_per_event"] = (a2 - a1) / accepted
    result["seconds"] = round(time.monotonic() - started, 1)
    cleanup_redis()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{accepted:,} events, {len(records):,} records, {result['seconds']} s")
    print(
        f"stream: {result['record_bytes_per_event']:.0f} bytes an event on Kinesis at "
        f"{result['events_per_record']:.2f} events a record; a record = "
        f"{envelope:.0f} + {per_event:.0f} bytes an event"
    )
    print(
        f"processor: {result['processor_ms_per_event']:.3f} ms an event "
        f"({result['processor_db_ms_per_event']:.3f} ms of it in Postgres); rollup: "
        f"{result['rollup_ms_per_event']:.3f} ms an event "
        f"({result['rollup_db_ms_per_event']:.3f} ms in Postgres)"
    )
    print(f"events table: {result['events_table_bytes_per_event']:.0f} bytes an event")
    print(
        f"  heap {result['heap_bytes_per_event']:.0f}, TOAST {result['toast_bytes_per_event']:.0f}"
    )
    for name, value in result["index_bytes_per_event"].items():
        print(f"  index {name}: {value:.0f}")
    print("  columns (pg_column_size, before the row header):")
    for name, value in sorted(result["column_bytes_per_event"].items(), key=lambda kv: -kv[1]):
        print(f"    {name}: {value:.1f}")
    print(f"derived tables: {result['derived_bytes_per_event']:.0f} bytes an event")
    for name, value in result["derived_tables_bytes_per_event"].items():
        print(f"  {name}: {value:.1f}")
    for name, value in result["queue_bytes_per_event_not_counted"].items():
        print(f"  not counted, emptied by each rollup run: {name}: {value:.1f}")
    print(f"in all: {result['stored_bytes_per_event']:.0f} bytes an event")
    if result["archive_bytes_per_event"] is not None:
        print(
            f"columnar archive: {result['archive_bytes_per_event']:.1f} bytes an event "
            f"({result['archived_events']:,} events of {result['archived_days']} closed days)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
