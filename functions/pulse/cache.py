"""The process-wide Redis client and the key names, all under the configured prefix.

``redis`` is imported on first use (it costs ~0.3 s to import), so a light function pays only
when it talks to Redis. The URL and prefix come from the full settings unless a function with a
narrow settings model calls ``configure`` first.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

_client: redis.Redis | None = None
_lock = threading.Lock()
_url: str | None = None
_prefix: str | None = None


def configure(*, url: str, key_prefix: str) -> None:
    global _url, _prefix
    _url, _prefix = url, key_prefix


def _resolve() -> tuple[str, str]:
    global _url, _prefix
    if _url is None or _prefix is None:
        from pulse.settings import get_settings

        settings = get_settings()
        _url, _prefix = settings.redis_url, settings.redis_key_prefix
    return _url, _prefix


def get_redis() -> redis.Redis:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import redis

                _client = redis.Redis.from_url(
                    _resolve()[0],
                    decode_responses=True,
                    socket_connect_timeout=2,
                    socket_timeout=2,
                    health_check_interval=30,
                )
    return _client


def reset_redis() -> None:
    global _client, _url, _prefix
    with _lock:
        if _client is not None:
            _client.close()
            _client = None
        _url = _prefix = None


def key(*parts: object) -> str:
    """A Redis key (or channel) under the configured prefix: ``key("rt", jti)``."""
    return _resolve()[1] + ":".join(str(p) for p in parts)
