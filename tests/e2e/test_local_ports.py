"""The local runtime's ports: 0 lets the OS pick each one, and the runtime says which it bound;
a port another program holds stops the start with one line that names the setting.

A harness that picked free ports itself and handed them over raced every other program on the
machine for them until the runtime bound them, seconds later (a CI run failed that way:
``address already in use`` from the WebSocket gateway)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import E2E_DATABASE, LocalStack

pytestmark = pytest.mark.e2e


def test_ports_set_to_0_are_bound_by_the_runtime_and_written_to_endpoints_json(
    local_stack: LocalStack,
) -> None:
    assert local_stack.data_dir is not None
    endpoints = json.loads((local_stack.data_dir / "endpoints.json").read_text())
    ports = {name: urlsplit(url).port for name, url in endpoints.items()}
    assert all(port and port > 0 for port in ports.values()), endpoints
    assert len({ports[n] for n in ("http", "ws", "site", "aws", "kinesis")}) == 5
    # the human-readable block says the same
    out = "".join(local_stack.output)
    assert f"HTTP API       {endpoints['http']}/api/v1" in out
    assert f"Dashboard      {endpoints['site']}/" in out
    # and each one answers
    assert httpx.get(f"{endpoints['http']}/api/v1/health").json()["status"] == "ok"
    assert httpx.get(f"{endpoints['site']}/sdk/tracker.min.js").status_code == 200
    assert httpx.get(endpoints["aws"]).status_code < 500
    with socket.create_connection(("127.0.0.1", ports["ws"]), timeout=5):
        pass


def test_a_port_in_use_stops_the_start_with_one_line_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{E2E_DATABASE}",
            "LOCAL_DATA_DIR": str(tmp_path),
            "LOCAL_HTTP_PORT": "0",
            "LOCAL_WS_PORT": str(port),
            "LOCAL_STATIC_PORT": "0",
            "LOCAL_AWS_PORT": "0",
            "LOCAL_KINESIS_PORT": "0",
        }
        done = subprocess.run(
            [sys.executable, "-m", "localcloud", "up"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("localcloud:")]
    assert lines == [
        f"localcloud: 127.0.0.1:{port} (LOCAL_WS_PORT) is in use by another program: stop it; "
        "set LOCAL_WS_PORT to another port, or 0 for any free one"
    ]
    assert not (tmp_path / "endpoints.json").exists()
