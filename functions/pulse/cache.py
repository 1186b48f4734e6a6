"""The process-wide Redis client and the key names, all under the configured prefix."""

from __future__ import annotations

import threading

import redis

from pulse.settings import get_settings

_client: redis.Redis[str] | None = None
_lock = threading.Lock()


def get_redis() -> redis.Redis[str]:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = redis.Redis.from_url(
                    get_settings().redis_url,
                    decode_responses=True,
                    socket_connect_timeout=2,
                    socket_timeout=2,
                    health_check_interval=30,
                )
    return _client


def reset_redis() -> None:
    global _client
    with _lock:
        if _client is not None:
            _client.close()
            _client = None


def key(*parts: object) -> str:
    """A Redis key (or channel) under the configured prefix: ``key("rt", jti)``."""
    return get_settings().redis_key_prefix + ":".join(str(p) for p in parts)
