"""The processor's live fan-out: after the database write, each project's new events go to its
connected clients through ``post_to_connection``.

Bounded on every side, so that a slow or failing push never fails a batch nor holds it up for
long:

- one pipelined Redis read finds the listeners, and the share links' listeners (which get
  visitors now only); with none, nothing else happens;
- pushes run on a process-wide pool of ``PULSE_WEBSOCKET_FANOUT_WORKERS`` threads (16), one task
  per connection sending its messages in order (events, then the counters, which go out at most
  once a second per project, then visitors now when its count changed);
- each call is bounded by the client's timeouts (``push.CONNECT_TIMEOUT_S``/``READ_TIMEOUT_S``)
  and not retried;
- the whole fan-out waits at most ``PULSE_WEBSOCKET_FANOUT_DEADLINE_S`` (2 s): at the deadline,
  tasks not yet started are cancelled and the batch moves on (those clients can ``backfill``);
- a ``GoneException`` removes the connection from the registry, unless it was registered in the
  last seconds (``registry.forget_gone``: its handshake may not be complete yet).

The caller logs and swallows anything this raises; the events are already safe in Postgres.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from pulse.data.events import Written
from pulse.observability import logger
from pulse.processor import live
from pulse.realtime import feed, protocol, push, registry
from pulse.settings import get_settings

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


@dataclass(frozen=True)
class FanoutReport:
    connections: int = 0
    messages: int = 0  # messages sent (per connection)
    delivered: int = 0  # connections that got every message
    gone: int = 0  # connections found closed (and forgotten)
    failed: int = 0  # connections whose push failed
    skipped: int = 0  # connections not (fully) served by the deadline
    elapsed_ms: float = 0.0


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(
                    get_settings().websocket_fanout_workers, thread_name_prefix="fanout"
                )
    return _pool


def _deliver(endpoint: str, connection_id: str, messages: Sequence[bytes], deadline: float) -> str:
    for message in messages:
        if time.monotonic() >= deadline:
            return "skipped"
        result = push.post(endpoint, connection_id, message)
        if result is not push.PushResult.OK:
            return str(result.value)
    return "ok"


def project_messages(
    project_id: str,
    items: Sequence[Written],
    counters_message: bytes | None,
    visitors_message: bytes | None = None,
) -> list[bytes]:
    """What one project's listeners receive for ``items``: its events (split to frames), then its
    counters, then visitors now when it changed."""
    out = protocol.events_messages(project_id, [item.feed for item in items])
    if counters_message is not None:
        out.append(counters_message)
    if visitors_message is not None:
        out.append(visitors_message)
    return out


def fan_out(items: Sequence[Written], *, deadline_s: float | None = None) -> FanoutReport:
    """Push freshly written events to the connections listening to their projects."""
    started = time.monotonic()
    settings = get_settings()
    endpoint = settings.websocket_management_url.rstrip("/")
    if not endpoint or not items:
        return FanoutReport()
    grouped = live.by_project(items)
    listening, shared = registry.every_listener(grouped)
    if not listening and not shared:
        return FanoutReport(elapsed_ms=(time.monotonic() - started) * 1000)
    cards = feed.counters_messages(feed.counters_due(listening))
    now = feed.visitors_changed([*listening, *shared])
    deadline = started + (
        deadline_s if deadline_s is not None else settings.websocket_fanout_deadline_s
    )
    pool = _executor()
    tasks: dict[Future[str], str] = {}
    sent = 0
    outgoing = [
        (
            connection_ids,
            project_messages(
                project_id, grouped[project_id], cards.get(project_id), now.get(project_id)
            ),
        )
        for project_id, connection_ids in listening.items()
    ]
    # A share link's connections get visitors now, when it changed, and nothing else.
    outgoing += [
        (connection_ids, [now[project_id]])
        for project_id, connection_ids in shared.items()
        if project_id in now
    ]
    for connection_ids, messages in outgoing:
        for connection_id in connection_ids:
            tasks[pool.submit(_deliver, endpoint, connection_id, messages, deadline)] = (
                connection_id
            )
            sent += len(messages)
    done, pending = wait(tasks, timeout=max(0.0, deadline - time.monotonic()))
    for future in pending:
        future.cancel()
    outcomes = {"ok": 0, "gone": 0, "failed": 0, "skipped": len(pending)}
    gone: list[str] = []
    for future in done:
        outcome = future.result() if future.exception() is None else "failed"
        outcomes[outcome] += 1
        if outcome == "gone":
            gone.append(tasks[future])
    if gone:
        registry.forget_gone(gone)
    report = FanoutReport(
        connections=len(tasks),
        messages=sent,
        delivered=outcomes["ok"],
        gone=outcomes["gone"],
        failed=outcomes["failed"],
        skipped=outcomes["skipped"],
        elapsed_ms=(time.monotonic() - started) * 1000,
    )
    if report.gone or report.failed or report.skipped:
        logger.warning("live fan-out incomplete", extra=report.__dict__)
    else:
        logger.info("live fan-out", extra=report.__dict__)
    return report
