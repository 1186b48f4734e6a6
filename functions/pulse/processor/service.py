"""Process one Kinesis batch as a whole and report item failures precisely.

Malformed records are logged and reported failed (the event source mapping retries them, bisects,
and finally sends them to the on-failure destination; they never block the shard for good). The
good records are written in one idempotent bulk write; if that write fails, every good record is
reported failed, so the batch is retried from the first of them and nothing is lost or doubled.
Redis comes after the commit, then the live fan-out to WebSocket clients (bounded by a deadline,
``pulse.realtime.fanout``); a failure of either never fails the batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pulse.data.events import EventRow, Written, stream_events, written_items
from pulse.observability import logger
from pulse.processor import live
from pulse.processor.records import BadRecord, DecodedRecord, decode
from pulse.realtime import fanout

# Records decoded between two writes to the running COPY: small enough that the server starts
# early, large enough that each write is worth a call into libpq.
DECODE_CHUNK_RECORDS = 20


def process_batch(event: dict[str, Any]) -> dict[str, Any]:
    records: list[dict[str, Any]] = event.get("Records") or []
    failures: list[str] = []
    good: list[DecodedRecord] = []

    def decoded_chunks() -> Iterator[tuple[list[EventRow], list[EventRow]]]:
        # Decoding runs while the server takes in the chunks already sent.
        for start in range(0, len(records), DECODE_CHUNK_RECORDS):
            trusted: list[EventRow] = []
            to_check: list[EventRow] = []
            for raw in records[start : start + DECODE_CHUNK_RECORDS]:
                decoded = decode(raw)
                if isinstance(decoded, BadRecord):
                    logger.error(
                        "malformed record",
                        extra={
                            "sequence_number": decoded.sequence_number,
                            "reason": decoded.reason,
                        },
                    )
                    failures.append(decoded.sequence_number)
                    continue
                good.append(decoded)
                (to_check if decoded.check else trusted).extend(decoded.rows)
            yield trusted, to_check

    written: list[Written] = []
    prepared: list[live.Prepared] = []

    def while_copying(copied: Sequence[EventRow]) -> None:
        # CPU work done while the server takes in the COPY costs no time.
        written[:] = written_items(copied)
        prepared[:] = [live.prepare(written)]

    chunks = decoded_chunks()
    try:
        stored = stream_events(chunks, while_copying=while_copying)
        if len(stored) != len(written):  # copies were deleted after the COPY, or none was run
            written[:] = written_items(stored)
            prepared.clear()
    except Exception:
        logger.exception("bulk write failed; the batch will be retried")
        for _ in chunks:  # decode the rest, so that every record is accounted for
            pass
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
            "rows": sum(len(rec.rows) for rec in good),
            "written": len(written),
            "failed_records": len(failures),
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in failures]}
