"""Process one Kinesis batch as a whole and report item failures precisely.

Malformed records are logged and reported failed (the event source mapping retries them, bisects,
and finally sends them to the on-failure destination; they never block the shard for good). The
good records are written in one idempotent bulk write; if that write fails, every good record is
reported failed, so the batch is retried from the first of them and nothing is lost or doubled.
Redis comes after the commit, then the live fan-out to WebSocket clients (bounded by a deadline,
``pulse.realtime.fanout``); a failure of either never fails the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulse.data.events import EventRow, Written, write_events, written_items
from pulse.observability import logger
from pulse.processor import live
from pulse.processor.records import BadRecord, DecodedRecord, decode
from pulse.realtime import fanout


def process_batch(event: dict[str, Any]) -> dict[str, Any]:
    records: list[dict[str, Any]] = event.get("Records") or []
    failures: list[str] = []
    good: list[DecodedRecord] = []
    for raw in records:
        decoded = decode(raw)
        if isinstance(decoded, BadRecord):
            logger.error(
                "malformed record",
                extra={"sequence_number": decoded.sequence_number, "reason": decoded.reason},
            )
            failures.append(decoded.sequence_number)
        else:
            good.append(decoded)
    rows: list[EventRow] = [row for rec in good for row in rec.rows]
    written: list[Written] = []
    prepared: list[live.Prepared] = []

    def while_copying(copied: Sequence[EventRow]) -> None:
        # CPU work done while the server takes in the COPY costs no time.
        written.extend(written_items(copied))
        prepared.append(live.prepare(written))

    if rows:
        try:
            stored = write_events(rows, while_copying=while_copying)
            if not prepared:  # the row-by-row fallback ran instead of the COPY
                written[:] = written_items(stored)
        except Exception:
            logger.exception("bulk write failed; the batch will be retried")
            failures.extend(rec.sequence_number for rec in good)
            written, prepared = [], []
    if written:
        try:
            live.send(prepared[0] if prepared else live.prepare(written))
        except Exception:
            logger.exception("redis update failed after the database write (events are safe)")
        try:
            fanout.fan_out(written)
        except Exception:
            logger.exception("live fan-out failed after the database write (events are safe)")
    logger.info(
        "batch processed",
        extra={
            "records": len(records),
            "rows": len(rows),
            "written": len(written),
            "failed_records": len(failures),
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in failures]}
