"""uvicorn servers run in background threads (signals stay with the main thread)."""

from __future__ import annotations

import errno
import socket
import threading
import time
from typing import Any

import uvicorn

from localcloud.threadnames import name_os_thread


class ThreadedServer(uvicorn.Server):
    _thread: threading.Thread | None = None

    def install_signal_handlers(self) -> None:
        pass

    def run(self, sockets: Any = None) -> None:
        name_os_thread()
        super().run(sockets)

    def start_in_thread(self, name: str, sock: socket.socket | None = None) -> threading.Thread:
        sockets = [sock] if sock is not None else None
        thread = self._thread = threading.Thread(
            target=self.run, args=(sockets,), name=name, daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 15
        while not self.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{name} failed to start")
            time.sleep(0.02)
        return thread

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop listening, let the requests in flight finish (up to ``timeout_s``), return."""
        self.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)


class PortInUse(RuntimeError):
    """A port the runtime was told to use is held by another program."""


def listen(host: str, port: int, setting: str = "") -> socket.socket:
    """A listening socket on host:port, bound now (port 0: one the OS picks, read it with
    ``getsockname()``). Binding before the slow part of a start means a free port found by the
    OS cannot be taken by another program in between (a test harness that picked a free port
    and handed it over raced every outgoing connection on the machine for it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            named = f" ({setting})" if setting else ""
            hint = f"; set {setting} to another port, or 0 for any free one" if setting else ""
            raise PortInUse(
                f"{host}:{port}{named} is in use by another program: stop it{hint}"
            ) from None
        raise
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def serve_in_thread(
    app: Any,
    *,
    host: str,
    port: int = 0,
    name: str,
    sock: socket.socket | None = None,
    **options: Any,
) -> ThreadedServer:
    """Start ``app`` in a daemon thread on ``sock`` (a socket from ``listen``; its port is
    then the port) or else on host:port; ``stop()`` stops it."""
    if sock is not None:
        port = int(sock.getsockname()[1])
    server = ThreadedServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            **options,
        )
    )
    server.start_in_thread(name, sock)
    return server
