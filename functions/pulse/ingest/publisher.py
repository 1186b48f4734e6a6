"""Write accepted events to Kinesis: one PutRecords per request, failed records retried.

Events are grouped into records by session (partition key ``project:session``), so a project
spreads over the shards while each session stays in order on one shard. If some records still
fail after the retries, the request fails (503) and the client resends the whole batch; the
processor's idempotency on event uuids drops what had already gone through.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import orjson

from pulse.exceptions import ServiceUnavailableError
from pulse.observability import logger

MAX_RECORD_BYTES = 1_000_000  # Kinesis: 1 MiB per record, partition key included
RECORD_VERSION = 1
TALLY_KIND = "bots"  # a record without "kind" carries events

_client: Any = None
_lock = threading.Lock()


def kinesis_client() -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import boto3
                from botocore.config import Config

                _client = boto3.client(
                    "kinesis",
                    config=Config(
                        retries={"max_attempts": 1, "mode": "standard"},
                        connect_timeout=2,
                        read_timeout=5,
                        parameter_validation=False,
                        tcp_keepalive=True,
                    ),
                )
    return _client


def build_records(
    *, project_id: str, envelope: dict[str, Any], events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Group events into records by session, each under the record size limit."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for ev in events:
        groups.setdefault(ev.get("session_id") or ev.get("distinct_id") or ev["id"], []).append(ev)
    records = []
    for group_key, group in groups.items():
        partition_key = f"{project_id}:{group_key}"[:256]
        chunk: list[dict[str, Any]] = []
        chunk_bytes = 0
        for ev in group:
            size = len(orjson.dumps(ev)) + 1
            if chunk and chunk_bytes + size > MAX_RECORD_BYTES - 4096:
                records.append(_record(partition_key, envelope, chunk))
                chunk, chunk_bytes = [], 0
            chunk.append(ev)
            chunk_bytes += size
        records.append(_record(partition_key, envelope, chunk))
    return records


def _record(
    partition_key: str, envelope: dict[str, Any], events: list[dict[str, Any]]
) -> dict[str, Any]:
    data = {"v": RECORD_VERSION, **envelope, "events": events}
    return {
        "Data": orjson.dumps(data),
        "PartitionKey": partition_key,
    }


def tally_record(
    *, project_id: str, tally_id: str, received_at: str, events: int
) -> dict[str, Any]:
    """The record that counts a request's events dropped as a bot's (``pulse.data.bots``): the
    processor counts it once by its id, however often it is delivered."""
    data = {
        "v": RECORD_VERSION,
        "kind": TALLY_KIND,
        "project_id": project_id,
        "id": tally_id,
        "received_at": received_at,
        "events": events,
    }
    return {"Data": orjson.dumps(data), "PartitionKey": f"{project_id}:bots:{tally_id}"}


def put_all(stream: str, records: list[dict[str, Any]], *, attempts: int) -> None:
    """PutRecords, retrying only the failed records with jittered backoff; all or 503."""
    pending = records
    for attempt in range(attempts):
        try:
            result = kinesis_client().put_records(StreamName=stream, Records=pending)
            failed = [
                rec
                for rec, res in zip(pending, result["Records"], strict=True)
                if res.get("ErrorCode")
            ]
        except Exception as exc:  # throttling, connection, 5xx: all retried the same way
            logger.warning("PutRecords failed", extra={"error": str(exc), "attempt": attempt})
            failed = pending
        if not failed:
            return
        pending = failed
        if attempt + 1 < attempts:
            time.sleep(min(1.0, 0.05 * 2**attempt) * (0.5 + random.random()))
    logger.error("records still failing after retries", extra={"failed": len(pending)})
    raise ServiceUnavailableError("the event stream is unavailable; retry the batch")
