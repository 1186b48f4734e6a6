"""Processor throughput into Postgres, side by side with a raw COPY of the same rows.

    .venv/bin/python scripts/bench/processor_throughput.py [--events 200000] [--rounds 3]

Both write the same kind of rows into the same ``events`` table (same indexes, same partitions),
each round into a fresh project. The raw COPY is the physical limit on this machine; the
processor path adds decoding the Kinesis records, validation, the duplicate check, the dirty
hours and the Redis updates. Prints events/s for each and their ratio (median over rounds).

The records are what the ingest function writes for a client clock within tolerance
(``"check": false``: the primary key is the duplicate check); ``--checked-share`` makes that share
of the records ask for the id lookup (a client clock off by 5 s or more).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from scripts.bench.common import (
    bench_project,
    cleanup_redis,
    configure_environment,
    fresh_database,
    median,
)

configure_environment()

EVENTS_PER_RECORD = 5
RECORDS_PER_BATCH = 500  # the wiring's batch size


def make_payloads(project_id: str, n_events: int, checked_share: float = 0.0) -> list[dict]:
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(hours=6)
    payloads = []
    names = ["page_view"] * 6 + ["click", "signup", "purchase", "scroll"]
    for r in range(0, n_events, EVENTS_PER_RECORD):
        session = f"sess_{r // 20}"
        payloads.append(
            {
                "v": 1,
                "project_id": project_id,
                "received_at": datetime.now(UTC).isoformat(),
                "check": rng.random() < checked_share,
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0",
                "ip_hash": uuid.uuid4().hex,
                "events": [
                    {
                        "id": str(uuid.uuid4()),
                        "event": rng.choice(names),
                        "properties": {"path": f"/p/{rng.randint(1, 200)}", "title": "Page"},
                        "distinct_id": f"user_{rng.randint(1, 5000)}",
                        "session_id": session,
                        "page_url": "https://example.com/p",
                        "referrer": "https://google.com",
                        "timestamp": (start + timedelta(seconds=r + i)).isoformat(),
                    }
                    for i in range(EVENTS_PER_RECORD)
                ],
            }
        )
    return payloads


def kinesis_batches(payloads: list[dict]) -> list[dict]:
    batches = []
    seq = 10**20
    for i in range(0, len(payloads), RECORDS_PER_BATCH):
        records = []
        for p in payloads[i : i + RECORDS_PER_BATCH]:
            seq += 1
            records.append(
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": p["events"][0]["session_id"],
                        "sequenceNumber": str(seq),
                        "data": base64.b64encode(json.dumps(p).encode()).decode(),
                        "approximateArrivalTimestamp": time.time(),
                    },
                    "eventSource": "aws:kinesis",
                    "eventID": f"shardId-000000000000:{seq}",
                }
            )
        batches.append({"Records": records})
    return batches


def raw_copy(payloads: list[dict], *, preformatted: bool) -> float:
    """COPY of the rows in one statement: with psycopg's ``write_row`` (the plain way), or as
    text formatted before the clock starts (only the server's work is timed: the limit)."""
    import psycopg

    from pulse.data.events import _COLUMN_LIST, copy_text
    from pulse.processor.records import rows_of
    from pulse.settings import get_settings

    rows = [row for p in payloads for row in rows_of(p)[1]]
    blob = copy_text(rows) if preformatted else ""
    with psycopg.connect(get_settings().database_url) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY events ({_COLUMN_LIST}) FROM STDIN") as cp:
            if preformatted:
                cp.write(blob)
            else:
                for row in rows:
                    cp.write_row(row)
        conn.commit()
        return len(rows) / (time.perf_counter() - started)


def processor(batches: list[dict], n_events: int) -> float:
    from pulse.processor.service import process_batch

    started = time.perf_counter()
    for batch in batches:
        result = process_batch(batch)
        assert result == {"batchItemFailures": []}, result
    rate = n_events / (time.perf_counter() - started)
    _check_stored(batches, n_events)
    return rate


def _check_stored(batches: list[dict], n_events: int) -> None:
    """Count what came out against what went in (a side that stores nothing measures nothing)."""
    from pulse.db.connection import connection

    first = json.loads(base64.b64decode(batches[0]["Records"][0]["kinesis"]["data"]))
    with connection() as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM events WHERE project_id = %s", (first["project_id"],)
        ).fetchone()
    stored = int(row["n"]) if row else 0  # type: ignore[call-overload]
    if stored != n_events:
        raise SystemExit(f"stored {stored:,} of {n_events:,} events")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--checked-share", type=float, default=0.0)
    args = parser.parse_args()
    fresh_database()
    from pulse.processor.service import process_batch

    process_batch(kinesis_batches(make_payloads(bench_project(), 2500))[0])  # warm up
    raw_rates: list[float] = []
    pre_rates: list[float] = []
    proc_rates: list[float] = []
    unqueued_rates: list[float] = []

    def without_queue(payloads: list) -> None:
        """The processor with the rollup queue's trigger off: what the queue costs."""
        import psycopg

        from scripts.bench.common import BENCH_URL

        with psycopg.connect(BENCH_URL, autocommit=True) as conn:
            conn.execute("ALTER TABLE events DISABLE TRIGGER events_queue_for_rollup")
            try:
                unqueued_rates.append(processor(kinesis_batches(payloads), args.events))
            finally:
                conn.execute("ALTER TABLE events ENABLE TRIGGER events_queue_for_rollup")

    sides = [
        lambda p: raw_rates.append(raw_copy(p, preformatted=False)),
        lambda p: pre_rates.append(raw_copy(p, preformatted=True)),
        lambda p: proc_rates.append(processor(kinesis_batches(p), args.events)),
        without_queue,
    ]
    for r in range(args.rounds):
        # Rotate the order so no side always meets a warmer (or fuller) table.
        for run in sides[r % len(sides) :] + sides[: r % len(sides)]:
            run(make_payloads(bench_project(), args.events, args.checked_share))
        print(
            f"round {r + 1}: COPY write_row {raw_rates[-1]:,.0f} ev/s, COPY preformatted "
            f"{pre_rates[-1]:,.0f} ev/s, processor {proc_rates[-1]:,.0f} ev/s "
            f"(ratio {proc_rates[-1] / raw_rates[-1]:.2f})"
        )
    ratio_raw = median([p / r for p, r in zip(proc_rates, raw_rates, strict=True)])
    ratio_pre = median([p / r for p, r in zip(proc_rates, pre_rates, strict=True)])
    print(
        f"\n{args.events:,} events per side, {args.rounds} rounds, "
        f"{EVENTS_PER_RECORD} events/record, {RECORDS_PER_BATCH} records/batch, "
        f"{args.checked_share:.0%} of records checked by id"
    )
    print(f"raw COPY (write_row)     median {median(raw_rates):>10,.0f} events/s")
    print(f"raw COPY (preformatted)  median {median(pre_rates):>10,.0f} events/s")
    print(f"processor                median {median(proc_rates):>10,.0f} events/s")
    print(f"processor / raw COPY (write_row)     median {ratio_raw:.2f}  (target >= 0.70)")
    print(f"processor / raw COPY (preformatted)  median {ratio_pre:.2f}")
    queue_ratio = median([p / u for p, u in zip(proc_rates, unqueued_rates, strict=True)])
    print(
        f"processor without the rollup queue median {median(unqueued_rates):>10,.0f} events/s; "
        f"with / without: {queue_ratio:.2f}"
    )
    cleanup_redis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
