"""uvicorn servers run in background threads (signals stay with the main thread)."""

from __future__ import annotations

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

    def start_in_thread(self, name: str) -> threading.Thread:
        thread = self._thread = threading.Thread(target=self.run, name=name, daemon=True)
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


def serve_in_thread(app: Any, *, host: str, port: int, name: str, **options: Any) -> ThreadedServer:
    """Start ``app`` on host:port in a daemon thread; ``stop()`` stops it."""
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
    server.start_in_thread(name)
    return server
