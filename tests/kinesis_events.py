"""Kinesis event-source events for the processor, built from the JSON fixture."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).parent / "fixtures" / "kinesis" / "stream_event.json"


def stream_event(payloads: list[bytes | dict[str, Any]], *, first_seq: int = 1000) -> dict:
    template = json.loads(FIXTURE.read_text())["Records"][0]
    records = []
    for i, payload in enumerate(payloads):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        rec = copy.deepcopy(template)
        seq = str(49590338271490256608559692538361571095921575989136588898 + first_seq + i)
        rec["kinesis"]["sequenceNumber"] = seq
        rec["kinesis"]["data"] = base64.b64encode(data).decode()
        rec["eventID"] = f"shardId-000000000006:{seq}"
        records.append(rec)
    return {"Records": records}
