"""Process one Kinesis batch as a whole and report item failures precisely.

Malformed records are logged and reported failed (the event source mapping retries them, bisects,
and finally sends them to the on-failure destination; they never block the shard for good). The
good records are written in one idempotent bulk write. If the database refuses the content of a
row there (``RefusedDataError``: a value it cannot store), the batch is written again in halves,
each in its own transaction, halving the refused ones down to the record at fault: only those
records are reported failed, and everything else is stored. If the write fails otherwise (the
database unreachable, the connection lost), every good record is reported failed, so the batch
is retried from the first of them and nothing is lost or doubled. Redis comes after the commit,
then the live fan-out to WebSocket clients (bounded by a deadline, ``pulse.realtime.fanout``); a
failure of either never fails the batch. The hours whose counters missed a Redis update are
rebuilt from Postgres by the next batch whose update reaches Redis (``live.settle_owed``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from pulse import observability
from pulse.data.bots import record_tallies
from pulse.data.events import EventRow, Written, stream_events, write_events, written_items
from pulse.exceptions import RefusedDataError
from pulse.observability import failure_fields, logger
from pulse.processor import live
from pulse.processor.records import BadRecord, DecodedRecord, TallyRecord, decode
from pulse.realtime import fanout

# Records decoded between two writes to the running COPY: small enough that the server starts
# early, large enough that each write is worth a call into libpq.
DECODE_CHUNK_RECORDS = 20


def process_batch(event: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    records: list[dict[str, Any]] = event.get("Records") or []
    failures: list[str] = []
    good: list[DecodedRecord] = []
    tallies: list[TallyRecord] = []

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
                if isinstance(decoded, TallyRecord):
                    tallies.append(decoded)
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
    except RefusedDataError as exc:
        logger.warning(
            "the database refused a row; writing the batch in parts to find its record",
            extra={"error": exc.message},
        )
        for _ in chunks:  # decode the rest, so that every record is accounted for
            pass
        stored, unwritten = _write_isolating(good)
        failures.extend(rec.sequence_number for rec in unwritten)
        written, prepared = written_items(stored), []
    except Exception as exc:
        # Never the error's message: the driver's can quote the rows (failure_fields).
        logger.error("bulk write failed; the batch will be retried", extra=failure_fields(exc))
        for _ in chunks:  # decode the rest, so that every record is accounted for
            pass
        failures.extend(rec.sequence_number for rec in good)
        written, prepared = [], []
    if tallies:
        _count_bots(tallies, failures)
    if written:
        try:
            live.send(prepared[0] if prepared else live.prepare(written))
        except Exception as exc:
            logger.error(
                "redis update failed after the database write (events are safe)",
                extra=failure_fields(exc),
            )
            live.owe(written)
        else:
            try:
                live.settle_owed()  # counters that missed updates while Redis was down
            except Exception as exc:
                logger.error(
                    "rebuilding the live counters failed; tried again next batch",
                    extra=failure_fields(exc),
                )
        try:
            fanout.fan_out(written)
        except Exception as exc:
            logger.error(
                "live fan-out failed after the database write (events are safe)",
                extra=failure_fields(exc),
            )
    observability.count(observability.EVENTS_WRITTEN, len(written))
    observability.count(
        observability.BATCH_DURATION, (time.perf_counter() - started) * 1000, unit="Milliseconds"
    )
    logger.info(
        "batch processed",
        extra={
            "records": len(records),
            "rows": sum(len(rec.rows) for rec in good),
            "written": len(written),
            "failed_records": len(failures),
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in _in_order(failures, records)]}


def _count_bots(tallies: list[TallyRecord], failures: list[str]) -> None:
    """Count the bots' tallies of the batch (idempotent); if that fails, their records are
    reported failed and counted when the batch is retried."""
    try:
        record_tallies(tallies=[t.tally for t in tallies])
    except Exception as exc:
        logger.error("counting bots failed; the batch will be retried", extra=failure_fields(exc))
        failures.extend(t.sequence_number for t in tallies)


def _in_order(failures: list[str], records: list[dict[str, Any]]) -> list[str]:
    """The failed sequence numbers in the batch's order (records refused while writing come
    after the malformed ones in ``failures``)."""
    if len(failures) < 2:
        return failures
    failed = set(failures)
    numbers = (str((raw.get("kinesis") or {}).get("sequenceNumber", "")) for raw in records)
    return [seq for seq in numbers if seq in failed]


def _write_isolating(
    records: list[DecodedRecord],
) -> tuple[list[EventRow], list[DecodedRecord]]:
    """Write records the database refused together, in parts: the rows written, and the records
    not written (those it refuses alone, and, if the database fails otherwise on the way, every
    record not written yet, to be retried).

    Each part is one transaction of the idempotent careful path (``write_events``); a refused
    part is halved until the record at fault stands alone, so a batch of n records with one bad
    record takes about 2·log2(n) writes.
    """
    written: list[EventRow] = []
    unwritten: list[DecodedRecord] = []
    refused: list[DecodedRecord] = []
    pending: list[list[DecodedRecord]] = []
    # The batch was refused as a whole: a batch of one record is that record, else its halves.
    if len(records) == 1:
        refused.extend(records)
    else:
        pending.extend(_halves(records))
    while pending:
        part = pending.pop(0)
        try:
            written.extend(write_events([row for rec in part for row in rec.rows]))
        except RefusedDataError:
            if len(part) > 1:
                pending[:0] = _halves(part)
            else:
                refused.extend(part)
        except Exception as exc:
            logger.error(
                "write failed while isolating a refused record; retried later",
                extra=failure_fields(exc),
            )
            unwritten.extend(rec for rest in (part, *pending) for rec in rest)
            break
    for record in refused:
        logger.error(
            "record refused by the database",
            extra={"sequence_number": record.sequence_number, "project_id": record.project_id},
        )
    return written, refused + unwritten


def _halves(records: list[DecodedRecord]) -> list[list[DecodedRecord]]:
    middle = len(records) // 2
    return [records[:middle], records[middle:]]
