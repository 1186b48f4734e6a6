"""The Lambda code asset: local pip bundling for Lambda's platform, skippable offline."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import DockerImage

from pulse_infra import bundling, names
from tests.infrastructure.synthesized import Synthesized


def test_pip_installs_binary_wheels_for_the_lambda_platform_and_python() -> None:
    command = bundling.pip_install_command("/out", "req.txt", "pins.txt", python="python")
    assert command[:4] == ["python", "-m", "pip", "install"]
    assert "--only-binary=:all:" in command
    assert command[command.index("--python-version") + 1] == names.PYTHON_VERSION
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == list(names.PIP_PLATFORMS[names.ARCHITECTURE])
    machine = "aarch64" if names.ARCHITECTURE == "arm64" else "x86_64"
    assert all(p.endswith(machine) for p in platforms)
    assert command[command.index("--target") + 1] == "/out"
    assert command[command.index("-c") + 1] == "pins.txt"


def test_the_runtime_requirements_are_the_project_dependencies() -> None:
    with bundling.PYPROJECT.open("rb") as f:
        declared = tomllib.load(f)["project"]["dependencies"]
    assert bundling.runtime_requirements() == declared
    assert not any(r.startswith(("aws-cdk", "pytest", "moto")) for r in declared)


def test_the_bundle_gets_the_visit_packages_with_the_native_user_agent_resolver() -> None:
    # What a visit is (pulse.ingest.visit) runs in the ingest function: its packages ship in the
    # asset, ua-parser with its Rust resolver (40 times faster than the pure-Python one), all
    # pinned, each published as a wheel the --only-binary bundling can take.
    declared = bundling.runtime_requirements()
    assert any(r.startswith("ua-parser[regex]") for r in declared)
    assert any(r.startswith("crawlerdetect") for r in declared)
    assert any(r.startswith("iptocc") for r in declared)
    pinned = {pin.split("==")[0] for pin in bundling.lock_pins()}
    assert {"ua-parser", "ua-parser-rs", "ua-parser-builtins", "crawlerdetect", "iptocc"} <= pinned


def test_local_bundling_runs_pip_and_copies_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []

    def fake_run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        if "--target" in command:  # what pip would leave behind
            (Path(command[command.index("--target") + 1]) / "bin").mkdir()
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bundling.subprocess, "run", fake_run)
    out = tmp_path / "asset"
    out.mkdir()
    assert bundling.PipBundling().try_bundle(str(out), image=DockerImage.from_registry("x"))
    install = commands[-1]
    assert "--target" in install and install[install.index("--target") + 1] == str(out)
    assert (out / "pulse" / "wiring.py").is_file()
    assert list((out / "pulse" / "db" / "migrations").glob("*.sql"))
    assert not list(out.rglob("__pycache__"))
    assert not (out / "bin").exists()


def test_local_bundling_fails_loudly_when_pip_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        code = 1 if "--target" in command else 0
        return subprocess.CompletedProcess(command, code, "", "no matching distribution")

    monkeypatch.setattr(bundling.subprocess, "run", fake_run)
    with pytest.raises(RuntimeError, match="no matching distribution"):
        bundling.PipBundling().try_bundle(str(tmp_path), image=DockerImage.from_registry("x"))


def test_the_asset_hash_follows_the_sources_and_ignores_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "pulse"
    package.mkdir()
    (package / "a.py").write_text("A = 1\n")
    monkeypatch.setattr(bundling, "FUNCTIONS_DIR", tmp_path)
    first = bundling.asset_hash()
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert bundling.asset_hash() == first
    (package / "a.py").write_text("A = 2\n")
    assert bundling.asset_hash() != first


def test_tests_synthesize_without_bundling_and_share_one_code_asset(real: Synthesized) -> None:
    assert real.app.node.try_get_context(names.CONTEXT_BUNDLING_STACKS) == []
    keys = {props["Code"]["S3Key"] for _, props in real.functions.values()}
    assert len(keys) == 1
