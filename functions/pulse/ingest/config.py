"""The ingest function's narrow settings: the same ``PULSE_*`` variables as ``pulse.settings``,
read without pydantic-settings (which alone costs ~0.3 s of cold start)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pulse.exceptions import ConfigurationError

MAX_BODY_BYTES = 1024 * 1024
MAX_EVENTS_PER_REQUEST = 100
MAX_EVENT_NAME_CHARS = 255
MAX_PROPERTIES_BYTES = 32 * 1024
MAX_ID_CHARS = 200
MAX_URL_CHARS = 2048
MAX_PAST_S = 31 * 24 * 3600
MAX_FUTURE_S = 3600
# ``server now - sent_at`` is the client's clock error plus the upload's latency. Below this it is
# mostly latency, so the client's timestamps are kept as sent: then a retry of the same events
# carries the very same timestamps, and the stored copy's primary key rejects it.
SKEW_TOLERANCE_S = 10.0
# From this skew on, a retry's timestamps may have moved (it is corrected, or near the tolerance
# and may be next time): the record asks the processor to look the events' uuids up.
SKEW_CHECK_S = 5.0


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc
    if value < 1:
        raise ConfigurationError(f"{name} must be at least 1")
    return value


@dataclass(frozen=True)
class IngestSettings:
    redis_url: str
    redis_key_prefix: str
    events_stream: str
    rate_limit_per_minute: int
    api_key_cache_ttl_s: int
    put_attempts: int

    @classmethod
    def from_env(cls) -> IngestSettings:
        return cls(
            redis_url=os.environ.get("PULSE_REDIS_URL", "redis://127.0.0.1:6379/0"),
            redis_key_prefix=os.environ.get("PULSE_REDIS_KEY_PREFIX", ""),
            events_stream=os.environ.get("PULSE_EVENTS_STREAM", "pulse-events"),
            rate_limit_per_minute=_int("PULSE_INGEST_RATE_LIMIT_PER_MINUTE", 6000),
            api_key_cache_ttl_s=_int("PULSE_API_KEY_CACHE_TTL_S", 300),
            put_attempts=_int("PULSE_KINESIS_PUT_ATTEMPTS", 4),
        )
