"""Password attempts on share links, counted in Redis before the slow hash (as logins are,
``pulse.auth.login_limits``), over a fixed window (``share_window_s``):

- per (link, source address): ``share_max_failures_per_link_ip`` failures, then 429 until the
  window ends;
- per link from everywhere: ``share_max_failures_per_link`` failures (a guess spread over many
  addresses), then 429 for everyone until the window ends. That locks only the share link, never
  its owner's account; the owner can make a new link at once.

An attempt is counted before its password is checked and given back when it succeeds, so that
concurrent attempts can never check more passwords than the limits. Addresses are hashed.
"""

from __future__ import annotations

from uuid import UUID

from pulse.auth.login_limits import _count, _h
from pulse.cache import get_redis, key
from pulse.exceptions import RateLimitedError
from pulse.settings import get_settings


def _pair_key(link_id: UUID, ip: str) -> str:
    return key("share_fail", "pair", _h(str(link_id), ip))


def _link_key(link_id: UUID) -> str:
    return key("share_fail", "link", str(link_id))


def reserve_attempt(*, link_id: UUID, ip: str) -> None:
    """Count a password attempt on the link; 429 when over a limit. Every attempt that passes
    must end in ``record_success`` when the password was right (a failure keeps its count)."""
    settings = get_settings()
    window = settings.share_window_s
    pair, link = _pair_key(link_id, ip), _link_key(link_id)
    pipe = get_redis().pipeline()
    for counter in (pair, link):
        _count(pipe, counter, window)
    pipe.ttl(pair)
    pipe.ttl(link)
    _, pair_count, _, link_count, pair_ttl, link_ttl = pipe.execute()
    over = (pair_count > settings.share_max_failures_per_link_ip, pair_ttl)
    if not over[0] and link_count > settings.share_max_failures_per_link:
        over = (True, link_ttl)
    if over[0]:
        raise RateLimitedError(
            "too many wrong passwords for this link; try again later",
            retry_after_s=over[1] if over[1] > 0 else window,
        )


_GIVE_BACK = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end"


def record_success(*, link_id: UUID, ip: str) -> None:
    """The password was right: the attempt is given back to both counters."""
    pipe = get_redis().pipeline()
    pipe.eval(_GIVE_BACK, 1, _pair_key(link_id, ip))
    pipe.eval(_GIVE_BACK, 1, _link_key(link_id))
    pipe.execute()
