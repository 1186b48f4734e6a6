"""Server-side enrichment: the daily salt and the privacy-preserving ``ip_hash``.

The salt is random per UTC day, shared by all functions through Redis for two days, then gone
for good: a visitor's hash cannot be linked across days, and the raw IP is never stored.

While Redis cannot be reached and the environment has no salt for the day yet, it uses one of
its own (random, kept in memory, never stored) rather than refusing events: the same visitor
then hashes differently in two environments for that day (unique visitors may count high), and
nothing else changes. Redis is asked again on the next request.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import datetime

from pulse import cache

SALT_TTL_S = 2 * 24 * 3600
USER_AGENT_CHARS = 512
_salts: dict[str, str] = {}
# This environment's own salt of the day, used only while Redis cannot be reached.
_fallback: dict[str, str] = {}
_lock = threading.Lock()


def daily_salt(now: datetime) -> str:
    day = now.strftime("%Y-%m-%d")
    salt = _salts.get(day)
    if salt is None:
        import redis as redis_errors

        redis = cache.get_redis()
        salt_key = cache.key("salt", day)
        try:
            redis.set(salt_key, secrets.token_hex(32), ex=SALT_TTL_S, nx=True)
            stored = redis.get(salt_key)
        except redis_errors.RedisError:
            with _lock:
                if day not in _fallback:
                    _fallback.clear()
                    _fallback[day] = secrets.token_hex(32)
                return _fallback[day]
        if stored is None:  # expired between the two calls: only at the very edge of its TTL
            raise RuntimeError("daily salt vanished")
        salt = stored if isinstance(stored, str) else stored.decode()
        with _lock:
            _salts.clear()
            _salts[day] = salt
    return salt


def user_agent(header: str | None) -> str:
    """The ``User-Agent`` header as the record carries it: at most 512 characters, and without
    NUL characters, which no text column takes (the header is not the event's to be refused)."""
    return (header or "").replace("\x00", "")[:USER_AGENT_CHARS]


def ip_hash(*, salt: str, project_id: str, ip: str, user_agent: str) -> str:
    material = "\x1f".join((salt, project_id, ip, user_agent)).encode()
    return hashlib.sha256(material).hexdigest()[:32]
