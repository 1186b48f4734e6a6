"""The stream processor: Kinesis records → Postgres (bulk, idempotent) → Redis."""
