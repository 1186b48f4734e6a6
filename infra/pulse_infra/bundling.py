"""The Lambda code asset: ``functions/pulse`` plus the runtime dependencies, bundled locally.

Docker is not needed: ``PipBundling`` runs ``pip install --platform <manylinux tag>
--only-binary=:all: --python-version 3.12 --target <asset>`` of the runtime dependencies declared
in ``pyproject.toml`` (pinned by ``requirements/lock.txt``) and copies ``functions/pulse`` next to
them. Where pip is missing it declines, and CDK falls back to the same commands in the SAM build
image (needs Docker). Synthesizing without bundling (tests, offline CI): context
``pulse:skipBundling=true`` (see ``pulse_infra.app``).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from pulse_infra import names

log = logging.getLogger("pulse_infra.bundling")

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
PACKAGE = "pulse"
PYPROJECT = REPO_ROOT / "pyproject.toml"
LOCK_FILE = REPO_ROOT / "requirements" / "lock.txt"
IGNORED = ("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache", ".ruff_cache")


def runtime_requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """The runtime dependencies: exactly ``[project].dependencies`` of pyproject.toml."""
    with pyproject.open("rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


def lock_pins(lock_file: Path = LOCK_FILE) -> list[str]:
    """``name==version`` lines of the lock file (comments dropped), used as pip constraints."""
    if not lock_file.exists():
        return []
    return [
        line.split(";")[0].strip()
        for line in lock_file.read_text().splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    ]


def pip_install_command(
    target: str, requirements: str, constraints: str | None, *, python: str = sys.executable
) -> list[str]:
    """The pip command that installs Lambda-compatible wheels of the runtime dependencies."""
    command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--no-compile", "--only-binary=:all:", "--implementation", "cp"]
    command += ["--python-version", names.PYTHON_VERSION]
    for platform in names.PIP_PLATFORMS[names.ARCHITECTURE]:
        command += ["--platform", platform]
    command += ["--target", target, "-r", requirements]
    if constraints:
        command += ["-c", constraints]
    return command


def _source_files(root: Path) -> list[Path]:
    ignored_dirs = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and not ignored_dirs.intersection(p.relative_to(root).parts)
        and p.suffix not in (".pyc", ".pyo")
    )


def asset_hash() -> str:
    """A hash of everything that goes into the bundle, computed without bundling, so that a
    synth that skips bundling and one that bundles name the same asset."""
    digest = hashlib.sha256()
    for part in (names.PYTHON_VERSION, names.ARCHITECTURE, *runtime_requirements(), *lock_pins()):
        digest.update(part.encode() + b"\0")
    package = FUNCTIONS_DIR / PACKAGE
    for path in _source_files(package):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class PipBundling:
    """Bundles on this machine with pip (no Docker)."""

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:
        probe = subprocess.run(
            [sys.executable, "-m", "pip", "--version"], capture_output=True, check=False
        )
        if probe.returncode != 0:
            log.warning("pip is not available to %s; falling back to Docker", sys.executable)
            return False
        with tempfile.TemporaryDirectory() as tmp:
            requirements = Path(tmp) / "requirements.txt"
            requirements.write_text("\n".join(runtime_requirements()) + "\n")
            pins = lock_pins()
            constraints = Path(tmp) / "constraints.txt" if pins else None
            if constraints is not None:
                constraints.write_text("\n".join(pins) + "\n")
            command = pip_install_command(
                output_dir, str(requirements), str(constraints) if constraints else None
            )
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise RuntimeError(
                    f"bundling the Lambda dependencies failed ({' '.join(command)}):\n"
                    f"{result.stdout}{result.stderr}"
                )
        shutil.copytree(
            FUNCTIONS_DIR / PACKAGE,
            Path(output_dir) / PACKAGE,
            ignore=shutil.ignore_patterns(*IGNORED),
            dirs_exist_ok=True,
        )
        # Console scripts pip wrote for this machine's Python: of no use in Lambda.
        shutil.rmtree(Path(output_dir) / "bin", ignore_errors=True)
        return True


def _docker_command() -> list[str]:
    """The same bundling inside the SAM build image, for machines with Docker and no pip."""
    return [
        "bash",
        "-c",
        "pip install --no-compile --target /asset-output "
        + " ".join(f"'{req}'" for req in runtime_requirements())
        + f" && cp -r /asset-input/{PACKAGE} /asset-output/"
        + " && rm -rf /asset-output/bin"
        + " && find /asset-output -name __pycache__ -prune -exec rm -rf {} +",
    ]


def function_code() -> lambda_.Code:
    """One code asset shared by every function (each handler is a path inside it)."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=list(IGNORED),
        asset_hash=asset_hash(),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            image=DockerImage.from_registry(names.BUNDLING_IMAGE),
            command=_docker_command(),
            local=PipBundling(),
            platform=f"linux/{'arm64' if names.ARCHITECTURE == 'arm64' else 'amd64'}",
        ),
    )
