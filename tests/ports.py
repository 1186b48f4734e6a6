"""Ports for servers a test or a benchmark starts itself and that bind after the pick."""

from __future__ import annotations

import random
import socket
from pathlib import Path


def _ephemeral_ports_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free port for a server that binds it later or binds it again after a stop (the
    throwaway Postgres and Redis), or for "nothing listens here". Chosen below the range the
    OS hands out for port 0 and for the local end of outgoing connections: a port in that range
    can be taken by any connection on the machine in between (a CI run lost its WebSocket
    gateway's port so). The runtime's own ports need none of this: it binds port 0 itself."""
    start = _ephemeral_ports_start()
    pick = random.SystemRandom()
    for _ in range(500):
        port = pick.randrange(max(1024, start - 12000), start)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port below {start}")
