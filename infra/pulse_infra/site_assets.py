"""The static files CloudFront serves: the dashboard's export (``frontend/out``) and the SDK
(``sdk/dist``), built on this machine with npm when missing or stale (no Docker).

Each is a CDK asset of its project folder with a local bundler (``NpmBuild``): ``cdk deploy``
(or ``cdk synth`` without ``pulse:skipBundling``) asks the bundler for the files; it runs the
project's ``npm run build`` when the output is missing or older than a source, then copies the
output into the asset. The asset's hash is the sources' (``AssetHashType.SOURCE``, the build
output and ``node_modules`` excluded), so an unchanged project is neither rebuilt nor re-uploaded.

With ``pulse:skipBundling`` CDK skips the bundler and the asset is the project folder itself,
unbuilt: enough for a template (tests, ``make synth``), never for a deploy, exactly as with the
Lambda code (``pulse_infra.bundling``).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_s3_deployment as s3deploy

from pulse_infra.bundling import REPO_ROOT

log = logging.getLogger("pulse_infra.site_assets")

FRONTEND_DIR = REPO_ROOT / "frontend"
SDK_DIR = REPO_ROOT / "sdk"
# Never part of a source hash nor of a staleness check: installed or generated.
GENERATED = ("node_modules", "out", ".next", "dist", "coverage", "test-results")


@dataclass(frozen=True)
class NpmProject:
    """A folder built by ``npm run build`` into ``output`` (relative to the folder)."""

    name: str
    root: Path
    output: str
    # Files copied into the asset (relative to ``output``); empty: the whole output folder.
    files: tuple[str, ...] = ()

    @property
    def output_dir(self) -> Path:
        return self.root / self.output

    def sources(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [
            p
            for p in self.root.rglob("*")
            if p.is_file() and not set(GENERATED).intersection(p.relative_to(self.root).parts)
        ]

    def built_files(self) -> list[Path]:
        if self.files:
            return [self.output_dir / f for f in self.files]
        if not self.output_dir.is_dir():
            return []
        return [p for p in self.output_dir.rglob("*") if p.is_file()]

    def is_stale(self) -> bool:
        """Whether the output is missing or older than some source file."""
        built = self.built_files()
        if not built or not all(p.is_file() for p in built):
            return True
        oldest_output = min(p.stat().st_mtime for p in built)
        newest_source = max((p.stat().st_mtime for p in self.sources()), default=0.0)
        return newest_source > oldest_output


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} in {cwd} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}{result.stderr[-4000:]}"
        )


def build(project: NpmProject) -> None:
    """``npm ci`` (when ``node_modules`` is missing or older than the lock file), then
    ``npm run build``."""
    if not (project.root / "package.json").is_file():
        raise RuntimeError(
            f"{project.name}: {project.root}/package.json is missing, so there is nothing to "
            f"build; this checkout has no {project.name} (deploy from one that has)"
        )
    if shutil.which("npm") is None:
        raise RuntimeError(f"{project.name}: npm is needed to build it (Node.js >= 20.19)")
    lock = project.root / "package-lock.json"
    installed = project.root / "node_modules" / ".package-lock.json"
    if not installed.is_file() or (
        lock.is_file() and lock.stat().st_mtime > installed.stat().st_mtime
    ):
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], project.root)
    _run(["npm", "run", "build"], project.root)


@jsii.implements(ILocalBundling)
class NpmBuild:
    """Builds the project with npm when its output is missing or stale, and copies the output
    into the asset (no Docker)."""

    def __init__(self, project: NpmProject) -> None:
        self.project = project

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:
        project = self.project
        if project.is_stale():
            log.warning("%s: building (output missing or older than its sources)", project.name)
            build(project)
        if project.files:
            for relative in project.files:
                target = Path(output_dir) / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(project.output_dir / relative, target)
        else:
            shutil.copytree(project.output_dir, output_dir, dirs_exist_ok=True)
        return True


DASHBOARD = NpmProject(name="the dashboard", root=FRONTEND_DIR, output="out")
SDK = NpmProject(
    name="the SDK", root=SDK_DIR, output="dist", files=("tracker.min.js", "tracker.d.ts")
)


def source(project: NpmProject) -> s3deploy.ISource:
    """The project's built files as a ``BucketDeployment`` source."""
    if not project.root.is_dir():
        raise RuntimeError(f"{project.name}: {project.root} does not exist")
    return s3deploy.Source.asset(
        str(project.root),
        exclude=[*GENERATED, "*.log"],
        asset_hash_type=AssetHashType.SOURCE,
        bundling=BundlingOptions(
            # Never used: the local bundler always answers (it builds, or fails with the reason).
            image=DockerImage.from_registry("public.ecr.aws/docker/library/node:22-slim"),
            command=["false"],
            local=NpmBuild(project),
        ),
    )
