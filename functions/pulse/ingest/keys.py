"""API key → project, and the per-key rate limit, for (usually) one Redis round trip.

Three layers: an in-process cache (short TTL), Redis (``apikey:{key}``), Postgres. Every request
sends one pipeline that counts it against the key's rate limit and reads the key generation
(``apikeys:gen``); a rotation or deletion bumps the generation and leaves a tombstone in Redis,
so every warm container drops its cached keys on its next request: the old key stops at once.

Requests run on several threads of one process, and one may read the generation before a
rotation and finish after another has seen the next one. So the in-process cache serves and
takes keys only for a request that read the same generation as the cache holds: what a request
from before a rotation looked up never reaches a request from after it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass

from pulse import cache
from pulse.exceptions import AuthenticationError, RateLimitedError
from pulse.observability import logger

TOMBSTONE = "revoked"
LOCAL_TTL_S = 30.0
# What a key issued by `pulse.domain.projects.new_api_key` looks like (URL-safe base64 after the
# prefix); anything else is refused before any lookup.
_KEY_SHAPE = re.compile(r"proj_[A-Za-z0-9_-]{1,95}")


@dataclass(frozen=True)
class ProjectKey:
    project_id: str
    domain: str | None
    keep_bots: bool = False


_local: dict[str, tuple[ProjectKey, float]] = {}
_local_generation: str | None = None
_lock = threading.Lock()


def _key_cache_key(api_key: str) -> str:
    return cache.key("apikey", api_key)


def generation_key() -> str:
    return cache.key("apikeys", "gen")


def _from_database(api_key: str) -> ProjectKey | None:
    from pulse.data.projects import get_project_by_api_key

    row = get_project_by_api_key(api_key=api_key)
    return ProjectKey(str(row.id), row.domain, row.keep_bots) if row else None


def _check_rate_and_generation(api_key: str, limit_per_minute: int) -> str | None:
    """One round trip: count this request, and drop local keys if the generation moved;
    returns the generation read."""
    global _local_generation
    window = int(time.time() // 60)
    rate_key = cache.key("ratelimit", "ingest", api_key, window)
    pipe = cache.get_redis().pipeline(transaction=False)
    pipe.incr(rate_key)
    pipe.expire(rate_key, 120)
    pipe.get(generation_key())
    count, _, raw_generation = pipe.execute()
    generation = None if raw_generation is None else str(raw_generation)
    with _lock:
        if generation != _local_generation:
            _local.clear()
            _local_generation = generation
    if int(count) > limit_per_minute:
        raise RateLimitedError(
            "rate limit for this project key exceeded",
            retry_after_s=60 - int(time.time()) % 60,
        )
    return generation


def resolve(api_key: str, *, limit_per_minute: int, cache_ttl_s: int) -> ProjectKey:
    """The project of ``api_key``; raises AuthenticationError or RateLimitedError."""
    if not _KEY_SHAPE.fullmatch(api_key):
        # Not a key this platform issues (a NUL would even make the lookup fail): 401, no lookup.
        raise AuthenticationError("unknown API key")
    import redis

    generation: str | None = None
    try:
        generation = _check_rate_and_generation(api_key, limit_per_minute)
        redis_up = True
    except redis.RedisError as exc:
        logger.warning("redis unavailable for key check; using Postgres", extra={"error": str(exc)})
        redis_up = False
    now = time.monotonic()
    if redis_up:
        with _lock:
            hit = _local.get(api_key) if generation == _local_generation else None
        if hit and hit[1] > now:
            return hit[0]
    project: ProjectKey | None = None
    cached = None
    if redis_up:
        try:
            cached = cache.get_redis().get(_key_cache_key(api_key))
        except redis.RedisError:
            redis_up = False
    if cached == TOMBSTONE:
        raise AuthenticationError("unknown API key")
    if cached:
        data = json.loads(cached)
        project = ProjectKey(
            data["project_id"], data.get("domain"), bool(data.get("keep_bots", False))
        )
    else:
        project = _from_database(api_key)
        if project is None:
            raise AuthenticationError("unknown API key")
        if redis_up:
            try:
                # NX: never overwrite a tombstone a concurrent rotation just wrote.
                cache.get_redis().set(
                    _key_cache_key(api_key),
                    json.dumps(
                        {
                            "project_id": project.project_id,
                            "domain": project.domain,
                            "keep_bots": project.keep_bots,
                        }
                    ),
                    ex=cache_ttl_s,
                    nx=True,
                )
            except redis.RedisError:
                pass
    if redis_up:
        with _lock:
            # Not if the generation moved since this request read it: the key may have been
            # read before a rotation's tombstone.
            if generation == _local_generation:
                _local[api_key] = (project, now + LOCAL_TTL_S)
    return project


def refresh(api_key: str) -> None:
    """Called when a project's settings change (its domain, ``keep_bots``): every warm container
    reads the key's project again on its next request."""
    pipe = cache.get_redis().pipeline(transaction=True)
    pipe.delete(_key_cache_key(api_key))
    pipe.incr(generation_key())
    pipe.execute()
    with _lock:
        _local.pop(api_key, None)


def invalidate(api_keys: list[str], *, tombstone_ttl_s: int = 3600) -> None:
    """Called when keys are rotated away or their project deleted: they stop working now."""
    pipe = cache.get_redis().pipeline(transaction=True)
    for api_key in api_keys:
        pipe.set(_key_cache_key(api_key), TOMBSTONE, ex=tombstone_ttl_s)
    pipe.incr(generation_key())
    pipe.execute()
    with _lock:
        for api_key in api_keys:
            _local.pop(api_key, None)
