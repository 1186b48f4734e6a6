"""Process one Kinesis batch as a whole and report item failures precisely.

Malformed records are logged and reported failed (the event source mapping retries them, bisects,
and finally sends them to the on-failure destination; they never block the shard for good). The
good records are written in one idempotent bulk write; if that write fails, every good record is
reported failed, so the batch is retried from the first of them and nothing is lost or doubled.
Redis comes after the commit, and a Redis failure never fails the batch.
"""

from __future__ import annotations

from typing import Any

from pulse.data.events import EventRow, write_events
from pulse.observability import logger
from pulse.processor import live
from pulse.processor.records import BadRecord, DecodedRecord, decode


def process_batch(event: dict[str, Any]) -> dict[str, Any]:
    failures: list[str] = []
    good: list[DecodedRecord] = []
    for raw in event.get("Records") or []:
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
    written: list[EventRow] = []
    prepared: list[live.Prepared] = []
    if rows:
        try:
            # The Redis updates are built while the server takes in the COPY.
            written = write_events(rows, while_copying=lambda r: prepared.append(live.prepare(r)))
        except Exception:
            logger.exception("bulk write failed; the batch will be retried")
            failures.extend(rec.sequence_number for rec in good)
            written = []
    if written:
        try:
            live.send(prepared[0] if prepared else live.prepare(written))
        except Exception:
            logger.exception("redis update failed after the database write (events are safe)")
    logger.info(
        "batch processed",
        extra={
            "records": len(event.get("Records") or []),
            "rows": len(rows),
            "written": len(written),
            "failed_records": len(failures),
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in failures]}
