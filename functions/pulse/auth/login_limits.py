"""Failed-login counting in Redis, per email and per source IP, over a fixed window."""

from __future__ import annotations

import hashlib

from pulse.cache import get_redis, key
from pulse.exceptions import RateLimitedError
from pulse.settings import get_settings


def _email_key(email: str) -> str:
    return key("login_fail", "email", hashlib.sha256(email.lower().encode()).hexdigest()[:32])


def _ip_key(ip: str) -> str:
    # Hashed, so that no raw IP address is stored.
    return key("login_fail", "ip", hashlib.sha256(ip.encode()).hexdigest()[:32])


def check_allowed(*, email: str, ip: str) -> None:
    settings = get_settings()
    redis = get_redis()
    for k, limit in (
        (_email_key(email), settings.login_max_failures_per_email),
        (_ip_key(ip), settings.login_max_failures_per_ip),
    ):
        count = redis.get(k)
        if count is not None and int(count) >= limit:
            ttl = redis.ttl(k)
            raise RateLimitedError(
                "too many failed login attempts; try again later",
                retry_after_s=ttl if ttl > 0 else settings.login_window_s,
            )


def record_failure(*, email: str, ip: str) -> None:
    window = get_settings().login_window_s
    pipe = get_redis().pipeline()
    for k in (_email_key(email), _ip_key(ip)):
        pipe.incr(k)
        pipe.expire(k, window, nx=True)
    pipe.execute()


def clear_email(*, email: str) -> None:
    get_redis().delete(_email_key(email))
