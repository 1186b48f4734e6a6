"""What each declared function may touch, derived from the wiring: the one source of the
least-privilege grants (``constructs.functions``) and of the tests that check them."""

from __future__ import annotations

from typing import Literal

from pulse.wiring import Function, Wiring

ArchiveAccess = Literal["none", "read", "write"]


def secrets_read_by(wiring: Wiring, fn: Function) -> tuple[str, ...]:
    """The declared secrets ``fn`` may read (``Function.secrets``)."""
    declared = fn.secrets
    known = {secret.name for secret in wiring.secrets}
    unknown = set(declared) - known
    if unknown:
        raise ValueError(f"function {fn.name!r} reads undeclared secrets {sorted(unknown)}")
    return declared


def streams_written_by(wiring: Wiring, fn: Function) -> tuple[str, ...]:
    """The declared streams ``fn`` may put records on (``Function.writes_streams``)."""
    declared = fn.writes_streams
    known = {stream.name for stream in wiring.streams}
    unknown = set(declared) - known
    if unknown:
        raise ValueError(f"function {fn.name!r} writes undeclared streams {sorted(unknown)}")
    return declared


def streams_read_by(wiring: Wiring, fn: Function) -> tuple[str, ...]:
    """The streams an event source mapping feeds ``fn`` from (the only Kinesis readers)."""
    return tuple(dict.fromkeys(t.stream for t in wiring.stream_triggers if t.function == fn.name))


def in_vpc(fn: Function) -> bool:
    """Functions that talk to Postgres or Redis run in the VPC; the rest stay outside it."""
    return bool(fn.needs_database or fn.needs_redis)


def needs_internet(fn: Function) -> bool:
    """Functions in the VPC that must reach a public endpoint no interface endpoint serves: the
    @connections API of a (public) WebSocket API cannot be called through an ``execute-api``
    VPC endpoint (that serves private REST APIs only), so pushing to clients needs a way out of
    the VPC: IPv6 through an egress-only internet gateway, or a NAT (``constructs.network``)."""
    return in_vpc(fn) and fn.pushes_to_connections


def archive_access(fn: Function) -> ArchiveAccess:
    """What ``fn`` may do to the columnar archive (``Function.archive``): ``"read"`` get and list
    its files, ``"write"`` also put and delete them, ``"none"`` nothing."""
    if fn.archive not in ("none", "read", "write"):
        raise ValueError(f"function {fn.name!r}: unknown archive access {fn.archive!r}")
    return fn.archive


def uses_archive(wiring: Wiring) -> bool:
    """Whether any declared function reads or writes the archive (then the stack has one)."""
    return any(archive_access(fn) != "none" for fn in wiring.functions)
