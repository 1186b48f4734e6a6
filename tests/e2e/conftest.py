"""Start the local runtime exactly as ``make up`` does, on free ports, with its own data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apigw import BROWSER_USER_AGENT
from tests.conftest import PG_SERVER_URL, TEST_REDIS_URL
from tests.integration.conftest import recreate_database

# Another name lets two checkouts run their e2e suites side by side.
E2E_DATABASE = os.environ.get("PULSE_E2E_DATABASE", "pulse_e2e")
PASSWORD = "e2e-passw0rd"


@dataclass
class LocalStack:
    process: subprocess.Popen[str]
    http_url: str
    ws_url: str
    static_url: str
    aws_url: str
    database_url: str
    redis_prefix: str
    data_dir: Path | None = None  # the runtime's (.local under make up)
    output: list[str] = field(default_factory=list)

    def client(self) -> httpx.Client:
        # A visitor's browser, not python-httpx: ingest drops a bot's events.
        return httpx.Client(
            base_url=self.http_url, timeout=10, headers={"user-agent": BROWSER_USER_AGENT}
        )

    def new_project(self, name: str = "E2E") -> dict[str, Any]:
        """Register a fresh user and create a project: the project, plus ``token`` (theirs)."""
        email = f"{name.lower().replace(' ', '-')}-{uuid.uuid4().hex[:8]}@example.com"
        with self.client() as client:
            client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
            token = client.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            ).json()["access_token"]
            project = client.post(
                "/api/v1/projects",
                json={"name": name},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
        return {**project, "token": token}


def start_local_stack(
    tmp: Path,
    database: str = E2E_DATABASE,
    fresh: bool = True,
    *,
    pg_server_url: str | None = None,
    redis_url: str = TEST_REDIS_URL,
    extra_env: dict[str, str] | None = None,
) -> LocalStack:
    """Start ``make up``'s runtime with its data under ``tmp``; ``fresh=False`` keeps the
    database and whatever ``tmp`` holds (a restart). ``pg_server_url`` points it at another
    Postgres server (a throwaway one, where the runtime creates the database itself), and
    ``redis_url`` at another Redis."""
    if fresh and pg_server_url is None:
        recreate_database(database)
    # Port 0 everywhere: the runtime binds free ones at once and writes them to endpoints.json.
    # (Ports picked here and handed over could be taken by any other program in between.)
    (tmp / "endpoints.json").unlink(missing_ok=True)
    prefix = f"e2e:{uuid.uuid4().hex[:8]}:"
    database_url = f"{pg_server_url or PG_SERVER_URL}/{database}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOCAL_REDIS_KEY_PREFIX": prefix,
        "LOCAL_DATA_DIR": str(tmp),
        "LOCAL_HTTP_PORT": "0",
        "LOCAL_WS_PORT": "0",
        "LOCAL_STATIC_PORT": "0",
        "LOCAL_AWS_PORT": "0",
        "LOCAL_KINESIS_PORT": "0",
        "PULSE_ENVIRONMENT": "development",
        # The rollup schedule fires every 2 s instead of hourly, so its work is observable.
        "LOCAL_SCHEDULE_EVERY_S": "2",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    for inherited in (
        "PULSE_DATABASE_URL",
        "PULSE_REDIS_URL",
        "PULSE_REDIS_KEY_PREFIX",
        "PULSE_JWT_SECRET",
        "PULSE_JWT_SECRET_ARN",
    ):
        env.pop(inherited, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = LocalStack(
        process=process,
        http_url="",
        ws_url="",
        static_url="",
        aws_url="",
        database_url=database_url,
        redis_prefix=prefix,
        data_dir=tmp,
    )
    ready = threading.Event()

    def _pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stack.output.append(line)
            if line.strip() == "ready":
                ready.set()

    threading.Thread(target=_pump, daemon=True).start()
    deadline = time.monotonic() + 90
    while not ready.is_set():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("local stack did not start:\n" + "".join(stack.output))
        time.sleep(0.05)
    endpoints = json.loads((tmp / "endpoints.json").read_text())
    stack.http_url, stack.ws_url = endpoints["http"], endpoints["ws"]
    stack.static_url, stack.aws_url = endpoints["site"], endpoints["aws"]
    return stack


def children(pid: int) -> list[int]:
    """The processes ``pid`` started that are still running: the functions' execution
    environments and the local Kinesis."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def running(pid: int) -> bool:
    """Whether the process exists and has not exited (an exited orphan nobody reaped yet is a
    zombie, state Z)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pids: list[int], timeout: float = 10) -> list[int]:
    """Wait for the processes to end; those still running after ``timeout``."""
    deadline = time.monotonic() + timeout
    while any(running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if running(p)]


def stop_local_stack(stack: LocalStack, timeout: float = 30) -> int:
    stack.process.send_signal(signal.SIGINT)
    try:
        return stack.process.wait(timeout)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    stack = start_local_stack(tmp_path_factory.mktemp("local"))
    yield stack
    if stack.process.poll() is None:
        stop_local_stack(stack)
