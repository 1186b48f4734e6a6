"""scripts/require.sh and the make targets that use it: a missing tool stops the target at once,
with one line saying what is missing and how to install it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "require.sh"
MAKE = shutil.which("make")


def stub(folder: Path, name: str, script: str = "exit 0") -> Path:
    path = folder / name
    path.write_text(f"#!/bin/bash\n{script}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """A PATH folder holding every tool the checks look for, each a stub that works."""
    folder = tmp_path / "bin"
    folder.mkdir()
    stub(folder, "python3")
    stub(folder, "pg_isready")
    stub(folder, "node", "echo v20.19.0")
    stub(folder, "npm")
    stub(folder, "chromium")
    return folder


def require(
    path: Path, *tools: str, chromium: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(path), "CHROMIUM_PATH": str(chromium or path / "chromium")}
    return subprocess.run(
        ["/bin/bash", str(SCRIPT), *tools], env=env, capture_output=True, text=True, timeout=30
    )


def test_every_tool_present_passes_silently(tools: Path) -> None:
    run = require(tools, "python3", "pg_isready", "node", "npm", "chromium")
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


@pytest.mark.parametrize(
    ("tool", "packages"),
    [
        ("python3", "python3 python3-venv"),
        ("pg_isready", "postgresql-client"),
        ("node", "nodejs npm"),
        ("npm", "npm"),
    ],
)
def test_a_missing_tool_is_one_line_and_a_failure(tools: Path, tool: str, packages: str) -> None:
    (tools / tool).unlink()
    run = require(tools, "python3", "pg_isready", "node", "npm", "chromium")
    assert run.returncode == 127
    line = f"{tool} not found on PATH: install it with 'apt-get install {packages}'\n"
    assert (run.stdout, run.stderr) == ("", line)


def test_chromium_is_looked_for_where_the_browser_tests_launch_it(tools: Path) -> None:
    run = require(tools, "chromium", chromium=tools / "no-such-chromium")
    assert run.returncode == 127
    assert run.stderr == (
        f"chromium not found at {tools / 'no-such-chromium'}: install it with "
        "'apt-get install chromium' (or set CHROMIUM_PATH)\n"
    )


def test_a_python_without_venv_and_an_old_node_are_refused(tools: Path) -> None:
    stub(tools, "python3", 'if [ "$1" = -c ]; then exit 1; fi')
    run = require(tools, "python3")
    assert (run.returncode, run.stderr) == (
        127,
        "python3 has no venv module: install it with 'apt-get install python3-venv'\n",
    )
    stub(tools, "node", "echo v18.20.4")
    run = require(tools, "node")
    assert (run.returncode, run.stderr) == (
        127,
        "node 18.20.4 is older than 20.19: install a newer one with 'apt-get install nodejs npm'\n",
    )


def test_an_unknown_tool_is_a_mistake_of_the_caller(tools: Path) -> None:
    run = require(tools, "chromum")
    assert run.returncode == 2 and "no check for 'chromum'" in run.stderr


def make(target: str, path: Path, chromium: Path) -> subprocess.CompletedProcess[str]:
    """Run a make target with ``path`` as PATH. Its venv and Python are pointed nowhere, so
    that, were a check missing, nothing real would run (no install, no platform started)."""
    assert MAKE is not None
    venv = path.parent / "no-venv"
    return subprocess.run(
        [MAKE, "-s", "-C", str(ROOT), target, f"VENV={venv}", "PY=/bin/false"],
        env={"PATH": str(path), "CHROMIUM_PATH": str(chromium)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(MAKE is None, reason="no make on this machine")
@pytest.mark.parametrize(
    ("target", "missing", "line"),
    [
        ("test-browser", "chromium", "chromium not found at {chromium}: install it with"),
        ("test-sdk", "node", "node not found on PATH: install it with"),
        ("test-python", "pg_isready", "pg_isready not found on PATH: install it with"),
        ("up", "python3", "python3 not found on PATH: install it with"),
    ],
)
def test_the_make_target_stops_first_with_that_line(
    tools: Path, target: str, missing: str, line: str
) -> None:
    # Given a machine with every tool but one (and no bash on PATH: anything that ran past the
    # check would fail at once too)
    (tools / missing).unlink()
    chromium = tools / "chromium"
    # When the target runs
    run = make(target, tools, chromium)
    # Then the check's line comes first, before anything else ran, and the target fails
    assert run.returncode != 0
    assert run.stdout == ""
    assert run.stderr.splitlines()[0].startswith(line.format(chromium=chromium))
    assert all(ln.startswith("make: ***") for ln in run.stderr.splitlines()[1:])
