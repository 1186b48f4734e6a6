"""CPU time by component of the local stack, read from /proc (Linux), for benchmarks.

A snapshot sums utime + stime of every process (and, in the runtime's process, every thread) of
each component; the difference of two snapshots divided by the requests served in between is
the CPU a request costs there. CPU time barely depends on what else the shared machine runs,
unlike wall-clock throughput.

Components:
- the runtime's process, split by its threads' OS names (``localcloud.threadnames``): the HTTP
  gateway's event loop (uvicorn), its invocation threads (``lambda_N``: build the event, hand it
  to an environment, wait), the event source mapping (``poller-…``), the rest;
- each function's execution environments (by the handler in their command line);
- the local Kinesis (node);
- the Postgres backends connected to the stack's database (not the server's shared
  walwriter/checkpointer, which other databases on the server use too);
- a Redis server given by pid (the benchmark starts a private one, so that its CPU is ours).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")

CHILD_KINDS = (
    ("pulse.handlers.ingest", "ingest function (environments)"),
    ("pulse.handlers.processor", "processor function (environments)"),
    ("pulse.handlers.api", "api function (environments)"),
    ("pulse.handlers.ws", "ws function (environments)"),
    ("pulse.handlers.rollup", "rollup function (environments)"),
    ("kinesis/server.js", "local Kinesis (node)"),
)

THREAD_KINDS = (
    ("http-gateway", "runtime: HTTP gateway loop (uvicorn)"),
    ("lambda-ws", "runtime: WebSocket gateway"),
    ("ws-gateway", "runtime: WebSocket gateway"),
    ("lambda", "runtime: HTTP gateway invoke threads"),
    ("poller", "runtime: event source mapping (poller)"),
)
RUNTIME_OTHER = "runtime: other threads"


def _cpu_s(stat_path: str) -> float | None:
    try:
        fields = Path(stat_path).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _threads(pid: int) -> dict[str, float]:
    """CPU seconds of each kind of thread of ``pid``."""
    out: dict[str, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        cpu = _cpu_s(f"/proc/{pid}/task/{tid}/stat")
        if cpu is None:
            continue
        comm = _read(f"/proc/{pid}/task/{tid}/comm").strip()
        kind = next((name for marker, name in THREAD_KINDS if comm.startswith(marker)), None)
        kind = kind or RUNTIME_OTHER
        out[kind] = out.get(kind, 0.0) + cpu
    return out


def _children(pid: int) -> list[int]:
    """The processes any thread of ``pid`` started (each thread lists its own)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    return [int(k) for tid in tids for k in _read(f"/proc/{pid}/task/{tid}/children").split()]


Snapshot = dict[tuple[str, int], float]


def snapshot(root: int, *, redis_pid: int | None = None) -> Snapshot:
    """CPU seconds used so far by each component of the stack whose runtime is ``root``, per
    process (the runtime's threads under the runtime's pid)."""
    out: Snapshot = {(kind, root): cpu for kind, cpu in _threads(root).items()}
    pending = _children(root)
    seen = {root}
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        cpu = _cpu_s(f"/proc/{pid}/stat")
        if cpu is None:
            continue
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        kind = next((name for marker, name in CHILD_KINDS if marker in command), "other children")
        out[(kind, pid)] = cpu
        pending.extend(_children(pid))
    if redis_pid is not None:
        cpu = _cpu_s(f"/proc/{redis_pid}/stat")
        if cpu is not None:
            out[("Redis (private server)", redis_pid)] = cpu
    return out


def diff(after: Snapshot, before: Snapshot) -> tuple[dict[str, float], dict[str, float]]:
    """CPU seconds each component used between two snapshots, by processes that were there at
    both; and, apart, what processes started in between used (cold starts of environments)."""
    steady: dict[str, float] = {}
    started: dict[str, float] = {}
    for (kind, pid), cpu in after.items():
        if (kind, pid) in before:
            steady[kind] = steady.get(kind, 0.0) + cpu - before[(kind, pid)]
        else:
            started[kind] = started.get(kind, 0.0) + cpu
    return steady, started


def postgres_backends(conn: object, database: str) -> list[int]:
    """The pids of the backends connected to ``database``, this connection's left out."""
    rows = conn.execute(  # type: ignore[attr-defined]
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    ).fetchall()
    return [int(r[0]) for r in rows]


def per_pid(pids: Iterable[int]) -> dict[int, float]:
    """CPU seconds of each of ``pids`` still running."""
    out = {}
    for pid in pids:
        cpu = _cpu_s(f"/proc/{pid}/stat")
        if cpu is not None:
            out[pid] = cpu
    return out


def used_by(after: dict[int, float], before: dict[int, float]) -> float:
    """CPU seconds used between two ``per_pid`` readings by the processes alive at the second
    (one that started in between counts from zero; one that ended in between is not seen)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in _read("/proc/stat").splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return (total - idle) / TICK, total / TICK


def table(used: dict[str, float], requests: int, events: int) -> list[str]:
    """Markdown rows: component, CPU ms a request, CPU µs an event, share of the total."""
    total = sum(used.values()) or 1e-9
    lines = [
        "| component | CPU ms / request | CPU µs / event | share |",
        "|---|---|---|---|",
    ]
    for kind, cpu in sorted(used.items(), key=lambda kv: -kv[1]):
        if cpu <= 0:
            continue
        lines.append(
            f"| {kind} | {cpu * 1000 / max(requests, 1):.3f} | "
            f"{cpu * 1e6 / max(events, 1):.0f} | {cpu / total:.0%} |"
        )
    lines.append(
        f"| **total** | **{total * 1000 / max(requests, 1):.3f}** | "
        f"**{total * 1e6 / max(events, 1):.0f}** | |"
    )
    return lines
