"""The dashboard and SDK assets: built with npm when missing or stale, reused when fresh (no
Docker), on a throwaway npm project whose build script only writes a file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pulse_infra.site_assets import NpmBuild, NpmProject

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="needs npm")

BUILD = (
    "node -e \"const fs=require('fs');fs.mkdirSync('out',{recursive:true});"
    "const n=(fs.existsSync('count')?+fs.readFileSync('count'):0)+1;fs.writeFileSync('count',''+n);"
    "fs.writeFileSync('out/index.html','<p>'+fs.readFileSync('src/page.txt')+'</p>')\""
)


@pytest.fixture
def project(tmp_path: Path) -> NpmProject:
    root = tmp_path / "site"
    (root / "src").mkdir(parents=True)
    (root / "src" / "page.txt").write_text("one")
    (root / "package.json").write_text(
        json.dumps({"name": "site", "private": True, "scripts": {"build": BUILD}})
    )
    # An installed tree newer than the (absent) lock file: no npm ci, nothing downloaded
    (root / "node_modules").mkdir()
    (root / "node_modules" / ".package-lock.json").write_text("{}")
    return NpmProject(name="a site", root=root, output="out")


def builds(project: NpmProject) -> int:
    count = project.root / "count"
    return int(count.read_text()) if count.exists() else 0


def test_a_missing_output_is_built_then_copied(project: NpmProject, tmp_path: Path) -> None:
    # Given a project never built
    assert project.is_stale()
    # When CDK asks for the asset
    asset = tmp_path / "asset"
    asset.mkdir()
    assert NpmBuild(project).try_bundle(str(asset)) is True
    # Then it was built once and the output is the asset
    assert builds(project) == 1
    assert (asset / "index.html").read_text() == "<p>one</p>"


def test_a_fresh_output_is_reused_and_a_stale_one_rebuilt(
    project: NpmProject, tmp_path: Path
) -> None:
    NpmBuild(project).try_bundle(str(tmp_path / "a"))
    # Given a built output newer than every source: reused as is
    assert not project.is_stale()
    NpmBuild(project).try_bundle(str(tmp_path / "b"))
    assert builds(project) == 1
    # When a source changes after the build
    page = project.root / "src" / "page.txt"
    page.write_text("two")
    later = (project.output_dir / "index.html").stat().st_mtime + 10
    os.utime(page, (later, later))
    # Then the next asset is rebuilt from it
    assert project.is_stale()
    NpmBuild(project).try_bundle(str(tmp_path / "c"))
    assert builds(project) == 2
    assert (tmp_path / "c" / "index.html").read_text() == "<p>two</p>"


def test_a_checkout_without_the_project_fails_with_the_reason(tmp_path: Path) -> None:
    empty = NpmProject(name="the dashboard", root=tmp_path / "frontend", output="out")
    (tmp_path / "frontend").mkdir()
    with pytest.raises(RuntimeError, match="package.json is missing"):
        NpmBuild(empty).try_bundle(str(tmp_path / "asset"))
