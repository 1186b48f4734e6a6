"""Login and registration limits in Redis, counted atomically before the slow password hash.

Logins, over a fixed window (``login_window_s``):

- per (email, source address): ``login_max_failures_per_email`` failures, then 429 until the
  window ends. An attempt is counted (``INCR``) *before* its password is checked and given back
  when it succeeds, so that concurrent attempts can never check more passwords than the limit.
- per source address: ``login_max_failures_per_ip`` failures over any emails, counted the same
  way (password spraying from one address).
- per email from everywhere: past ``login_email_backoff_after`` failures, an address that has
  never logged in to this account waits a short backoff (doubling, at most
  ``MAX_EMAIL_BACKOFF_S``) after each further failure. An address that has logged in to it
  before (remembered for ``login_known_address_ttl_s``) is not slowed down, so a distributed
  attack cannot lock the owner out from their own network, and a new address gets in once the
  backoff has passed.

Registrations: ``register_max_per_ip`` per source address within ``register_window_s``.
Emails and addresses are hashed, so that no raw address or email is stored in Redis.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pulse.cache import get_redis, key
from pulse.exceptions import RateLimitedError
from pulse.settings import get_settings

MAX_EMAIL_BACKOFF_S = 30


def _h(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _pair_key(email: str, ip: str) -> str:
    return key("login_fail", "pair", _h(email.lower(), ip))


def _ip_key(ip: str) -> str:
    return key("login_fail", "ip", _h(ip))


def _email_key(email: str) -> str:
    return key("login_fail", "email", _h(email.lower()))


def _backoff_key(email: str) -> str:
    return key("login_backoff", _h(email.lower()))


def _known_key(email: str, ip: str) -> str:
    return key("login_known", _h(email.lower(), ip))


def _count(pipe: Any, counter: str, window_s: int) -> None:
    """Queue the increment of a fixed-window counter (two results: the SET, then the count).

    The window starts with the first count: ``SET … NX EX`` makes the key with its TTL only when
    it is missing, and ``INCR`` keeps the TTL. (``EXPIRE … NX`` would do it in one command, but
    needs Redis 7; the embedded Redis of ``make up`` is 6.2.)"""
    pipe.set(counter, 0, ex=window_s, nx=True)
    pipe.incr(counter)


def _limited(ttl: int, fallback: int) -> RateLimitedError:
    return RateLimitedError(
        "too many failed login attempts; try again later",
        retry_after_s=ttl if ttl > 0 else fallback,
    )


def reserve_attempt(*, email: str, ip: str) -> None:
    """Count a login attempt before its password is checked; 429 when over a limit.

    Every attempt that passes this call must end in ``record_failure`` or ``record_success``.
    """
    settings = get_settings()
    redis = get_redis()
    pipe = redis.pipeline()
    pipe.exists(_known_key(email, ip))
    pipe.ttl(_backoff_key(email))
    known, backoff_ttl = pipe.execute()
    if not known and backoff_ttl > 0:
        raise _limited(backoff_ttl, MAX_EMAIL_BACKOFF_S)
    window = settings.login_window_s
    pair, addr = _pair_key(email, ip), _ip_key(ip)
    pipe = redis.pipeline()  # MULTI/EXEC: both counts move together
    for k in (pair, addr):
        _count(pipe, k, window)
    pipe.ttl(pair)
    pipe.ttl(addr)
    _, pair_count, _, addr_count, pair_ttl, addr_ttl = pipe.execute()
    if pair_count > settings.login_max_failures_per_email:
        raise _limited(pair_ttl, window)
    if addr_count > settings.login_max_failures_per_ip:
        raise _limited(addr_ttl, window)


def record_failure(*, email: str, ip: str) -> None:
    """The password was wrong: the reserved counts stay, and the email's count grows."""
    settings = get_settings()
    redis = get_redis()
    email_key = _email_key(email)
    pipe = redis.pipeline()
    _count(pipe, email_key, settings.login_window_s)
    failures = int(pipe.execute()[1])
    over = failures - settings.login_email_backoff_after
    if over > 0:
        backoff = min(MAX_EMAIL_BACKOFF_S, 2 ** min(over - 1, 10))
        redis.set(_backoff_key(email), "1", ex=backoff)


# Give a reserved attempt back, unless its window has ended meanwhile (no key without a TTL).
_GIVE_BACK = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end"


def record_success(*, email: str, ip: str) -> None:
    """The password was right: the attempt is given back, and the address becomes known."""
    settings = get_settings()
    pipe = get_redis().pipeline()
    pipe.delete(_pair_key(email, ip))
    pipe.eval(_GIVE_BACK, 1, _ip_key(ip))
    pipe.set(_known_key(email, ip), "1", ex=settings.login_known_address_ttl_s)
    pipe.execute()


def forget_email_backoff(*, email: str) -> None:
    """End the email's backoff now (as if it had passed)."""
    get_redis().delete(_backoff_key(email))


def reserve_registration(*, ip: str) -> None:
    """Count a registration from ``ip``; 429 past the limit (before the slow hash)."""
    settings = get_settings()
    k = key("register", _h(ip))
    pipe = get_redis().pipeline()
    _count(pipe, k, settings.register_window_s)
    pipe.ttl(k)
    _, count, ttl = pipe.execute()
    if count > settings.register_max_per_ip:
        raise RateLimitedError(
            "too many registrations from this address; try again later",
            retry_after_s=ttl if ttl > 0 else settings.register_window_s,
        )
