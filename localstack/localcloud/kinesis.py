"""The local Kinesis: kinesalite (Node, LevelDB on disk) in a process of its own.

moto's Kinesis keeps records in memory and is not safe under concurrent calls (two PutRecords
can take the same sequence number and one record silently replaces the other). kinesalite
serializes the writes of a stream behind a lock, answers a PutRecords only once its records are
in LevelDB's log, and keeps them across restarts, so a 202 from ingest means what it means in
AWS: the records are held by the stream. docs/local.md has the measurements behind the choice.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

log = logging.getLogger("localcloud.kinesis")

SERVER_DIR = Path(__file__).resolve().parents[1] / "kinesis"
SERVER_JS = SERVER_DIR / "server.js"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0


class KinesisUnavailable(RuntimeError):
    pass


def _is_server(pid: int) -> bool:
    """Whether ``pid`` is a running local Kinesis server (not some process that reuses the pid)."""
    try:
        command = subprocess.run(
            ["ps", "-p", str(pid), "-o", "command="], capture_output=True, text=True, check=False
        ).stdout
    except OSError:
        return False
    return str(SERVER_JS) in command


class KinesisServer:
    """kinesalite on ``host:port`` with its store under ``data_dir`` (port 0: a free one)."""

    def __init__(self, host: str, port: int, data_dir: Path) -> None:
        self.host, self.port = host, port
        self.store = data_dir / "leveldb"
        self.pid_file = data_dir / "server.pid"
        self._process: subprocess.Popen[str] | None = None
        self._output: list[str] = []

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _stop_stale(self) -> None:
        """A server left by a runtime that was killed holds the store's lock until it notices
        (within 0.2 s) that its parent is gone; wait for it, then make sure."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _is_server(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _is_server(pid):
            log.warning("stopping a local Kinesis left running by an earlier run (pid %d)", pid)
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        self.pid_file.unlink(missing_ok=True)

    def start(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise KinesisUnavailable(
                "node not found: the local Kinesis needs Node.js >= 18 (apt-get install nodejs npm)"
            )
        if not (SERVER_DIR / "node_modules" / "kinesalite").is_dir():
            raise KinesisUnavailable(
                f"kinesalite is not installed: run 'npm ci' in {SERVER_DIR} (make up does)"
            )
        self.store.mkdir(parents=True, exist_ok=True)
        self._stop_stale()
        self._process = subprocess.Popen(
            [node, str(SERVER_JS), "--host", self.host, "--port", str(self.port)]
            + ["--path", str(self.store)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Its own session: a Ctrl-C in the terminal reaches the runtime, which stops the
            # consumers first and this server last.
            start_new_session=True,
        )
        self.pid_file.write_text(str(self._process.pid))
        ready = threading.Event()
        threading.Thread(target=self._pump, args=(ready,), name="kinesis-log", daemon=True).start()
        if not ready.wait(START_TIMEOUT_S) or self._process.poll() is not None:
            self.stop()
            raise KinesisUnavailable("the local Kinesis did not start:\n" + "".join(self._output))

    def _pump(self, ready: threading.Event) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            if not ready.is_set() and line.startswith("ready "):
                self.port = int(line.split()[1])
                ready.set()
                continue
            self._output.append(line)
            if ready.is_set():
                log.warning("local kinesis: %s", line.rstrip())
        ready.set()  # the process ended; start() sees it

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)
        self.pid_file.unlink(missing_ok=True)
